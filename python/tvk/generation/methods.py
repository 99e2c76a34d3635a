"""The attention methods of a decode step, one class each: attend(group) -> (out (G, d) float32,
stats) for the G query heads of one KV head (hook.Group). stats holds per head, as arrays or
scalars: scored and kept keys, bytes read and dense_bytes (16-bit K and V of every key, 4 d n),
and for certified methods tau_bound, output_bound and, with verify, true_tau and output_error
(float64 attention over the same binary16 cache: the certificate's check).

Bytes are counted per query head, as tvk.certified_decode counts them, so the ratio to dense is
the same whatever the grouping: dense 4 d n; certified: what tvk reports (int8 codes n (d + 4) +
2 d scored + 2 d kept); Quest: its page summaries (min and max per channel, 16-bit: 4 d per
page) + 4 d per token of the chosen pages; StreamingLLM 4 d per kept token; top-p and the
oracle top-k score every key exactly: 2 d n + 2 d kept."""

from __future__ import annotations

import math

import numpy as np

import tvk

from .hook import TWO_TIER, Group


def softmax_attention(scores: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Rows of softmax(scores) @ values in float64; scores (G, m), values (G, m, d) or (m, d)."""
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    if values.ndim == 2:
        return w @ values
    return np.einsum("gm,gmd->gd", w, values)


def exact_scores(g: Group) -> np.ndarray:
    """(G, n) float64 logits over the binary16 keys, at the float32 scale tvk uses."""
    return float(np.float32(g.scale)) * (g.q.astype(np.float64) @ g.keys.T)


def check_certificate(g: Group, kept: list, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per head the true dropped mass of its kept keys and ||out - o||_2, o exact attention over
    every key (float64 over the binary16 cache, as tvk.hf's verify computes them)."""
    s = exact_scores(g)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    total = w.sum(axis=1)
    exact = (w @ g.values) / total[:, None]
    inside = np.zeros_like(w, dtype=bool)
    for h, keys in enumerate(kept):
        inside[h, keys] = True
    dropped = np.where(inside, 0.0, w).sum(axis=1) / total
    error = np.linalg.norm(out.astype(np.float64) - exact, axis=1)
    return dropped, error


class Dense:
    """The model's own attention: float32 over its float32 cache with the ops of transformers'
    eager LlamaAttention (q k^T / sqrt(d), float32 softmax, @ v), one query head at a time: a
    (1, d) x (d, n) product sums each logit as the eager (1, heads, 1, d) batched product does,
    so the hook with this method reproduces the unpatched model bit for bit (tested), about ten
    times faster than expanding the group's keys to the batched shape."""
    certified = False
    tvk_bits = None  # the key code bits of the tvk cache it reads (None: no tvk cache)

    def attend(self, g: Group):
        import torch

        q = torch.from_numpy(g.q)
        out = np.empty_like(g.q)
        for h in range(len(g.q)):  # G <= 4 heads: a loop over heads, not keys
            w = torch.matmul(q[h:h + 1], g.keys32.T) / math.sqrt(q.shape[1])
            w = torch.nn.functional.softmax(w, dim=-1, dtype=torch.float32)
            out[h] = torch.matmul(w, g.values32)[0].numpy()
        n, d = g.keys.shape
        return out, {"scored": n, "kept": n, "bytes": 4.0 * d * n, "dense_bytes": 4.0 * d * n}


class DenseFp16:
    """tvk's dense decode over the binary16 cache: the rounding floor every tvk method shares."""
    certified = False
    tvk_bits = 8

    def attend(self, g: Group):
        n, d = g.keys.shape
        out = tvk.dense_decode(g.cache, g.q, g.scale)
        return out, {"scored": n, "kept": n, "bytes": 4.0 * d * n, "dense_bytes": 4.0 * d * n}


class Certified:
    """tvk.certified_decode at TV budget eps over a tvk cache whose key codes have `bits` bits:
    8 (quantized8), 4 (quantized4) or int8 in two tiers (two_tier: TWO_TIER); the cache's codes
    decide, the call is the same."""
    certified = True

    def __init__(self, eps: float, bits: int, verify: bool):
        self.eps, self.tvk_bits, self.verify = eps, bits, verify

    def attend(self, g: Group):
        r = tvk.certified_decode(g.cache, g.q, self.eps, g.scale, kept_keys=self.verify)
        stats = {"scored": r["scored"], "kept": r["kept"], "bytes": r["bytes"],
                 "dense_bytes": r["dense_bytes"], "tau_bound": r["tau_bound"],
                 "output_bound": r["output_bound"]}
        if self.verify:
            stats["true_tau"], stats["output_error"] = check_certificate(g, r["kept_keys"], r["out"])
        return r["out"], stats


class Quest:
    """Quest (Tang et al. 2024): pages of `page` tokens, each summarised by its keys' channel-wise
    min and max; a page's score bound sum_c max(q_c min_c, q_c max_c); the top pages up to
    `budget` tokens, attention exact over them. The full pages' summaries are kept per (layer, KV
    head) and extended as pages fill, as Quest's kernels keep them."""
    certified = False
    tvk_bits = None

    def __init__(self, budget: int, page: int):
        self.budget, self.page = budget, page
        self.summaries: dict = {}  # (layer, kv_head) -> (low, high) (full pages, d) float64

    def _pages(self, g: Group):
        full = len(g.keys) // self.page
        low, high = self.summaries.get((g.layer, g.kv_head), (np.empty((0, g.keys.shape[1])),) * 2)
        if len(low) < full:  # pages filled since the last step (the whole prefill at first)
            fresh = g.keys[len(low) * self.page: full * self.page].reshape(-1, self.page, g.keys.shape[1])
            low, high = np.vstack([low, fresh.min(axis=1)]), np.vstack([high, fresh.max(axis=1)])
            self.summaries[(g.layer, g.kv_head)] = (low, high)
        if full * self.page < len(g.keys):  # the partial last page
            tail = g.keys[full * self.page:]
            low, high = np.vstack([low, tail.min(axis=0)]), np.vstack([high, tail.max(axis=0)])
        return low, high

    def attend(self, g: Group):
        n, d = g.keys.shape
        pages = -(-n // self.page)
        chosen_pages = max(1, self.budget // self.page)
        if chosen_pages >= pages:  # the budget covers the cache: dense over the binary16 cache
            out = softmax_attention(exact_scores(g), g.values).astype(np.float32)
            return out, {"scored": n, "kept": n, "bytes": 4.0 * d * n, "dense_bytes": 4.0 * d * n}
        low, high = self._pages(g)
        q = g.q.astype(np.float64)
        bound = np.maximum(q[:, None, :] * low[None], q[:, None, :] * high[None]).sum(axis=2)  # (G, pages)
        top = np.argpartition(-bound, chosen_pages - 1, axis=1)[:, :chosen_pages]           # (G, c)
        tokens = (top[:, :, None] * self.page + np.arange(self.page)).reshape(len(q), -1)
        valid = tokens < n  # the partial last page's missing tokens
        tokens = np.where(valid, tokens, 0)
        k, v = g.keys[tokens], g.values[tokens]                                             # (G, m, d)
        s = float(np.float32(g.scale)) * np.einsum("gd,gmd->gm", q, k)
        s[~valid] = -np.inf
        out = softmax_attention(s, v).astype(np.float32)
        kept = valid.sum(axis=1)
        return out, {"scored": kept, "kept": kept, "bytes": 4.0 * d * (pages + kept),
                     "dense_bytes": 4.0 * d * n}


class Streaming:
    """StreamingLLM (Xiao et al. 2024): the first `sinks` tokens and the last `window`."""
    certified = False
    tvk_bits = None

    def __init__(self, window: int, sinks: int):
        self.window, self.sinks = window, sinks

    def attend(self, g: Group):
        n, d = g.keys.shape
        keep = np.arange(n) if self.sinks + self.window >= n else \
            np.concatenate([np.arange(self.sinks), np.arange(n - self.window, n)])
        s = float(np.float32(g.scale)) * (g.q.astype(np.float64) @ g.keys[keep].T)
        out = softmax_attention(s, g.values[keep]).astype(np.float32)
        return out, {"scored": len(keep), "kept": len(keep), "bytes": 4.0 * d * len(keep),
                     "dense_bytes": 4.0 * d * n}


class TopP:
    """Exact scores over every key, then the smallest set of largest weights whose mass is >= p
    (top-p attention; with p = 1 - eps the oracle top-k: the smallest k whose dropped mass is <= eps)."""
    certified = False
    tvk_bits = None

    def __init__(self, p: float):
        self.p = p

    def attend(self, g: Group):
        n, d = g.keys.shape
        s = exact_scores(g)
        w = np.exp(s - s.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        order = np.argsort(-w, axis=1)
        mass = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
        k = np.minimum(n, 1 + (mass < self.p).sum(axis=1))  # first k with mass >= p
        inside = np.zeros_like(w, dtype=bool)
        np.put_along_axis(inside, order, np.arange(n)[None, :] < k[:, None], axis=1)
        kept_w = np.where(inside, w, 0.0)
        out = ((kept_w @ g.values) / kept_w.sum(axis=1, keepdims=True)).astype(np.float32)
        return out, {"scored": n, "kept": k, "bytes": 2.0 * d * (n + k), "dense_bytes": 4.0 * d * n}


def make(method: str, param: float | None, config) -> object:
    """The method object of one (method, param) point; a fresh one per run (Quest keeps state)."""
    if method == "dense":
        return Dense()
    if method == "dense_fp16":
        return DenseFp16()
    if method in ("quantized8", "quantized4", "two_tier"):
        bits = {"quantized8": 8, "quantized4": 4, "two_tier": TWO_TIER}[method]
        return Certified(param, bits, config.verify)
    if method == "quest":
        return Quest(int(param), config.quest_page)
    if method == "streaming":
        return Streaming(int(param), config.streaming_sinks)
    if method == "top_p":
        return TopP(param)
    if method == "oracle_topk":
        return TopP(1.0 - param)
    raise ValueError(f"unknown method {method}")
