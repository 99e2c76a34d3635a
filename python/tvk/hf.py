"""A Hugging Face hook: certified decode attention in a Llama-family transformers model.

    import tvk.hf
    log = tvk.hf.certified_attention(model, eps=0.05)       # patch every layer
    out = model.generate(ids, max_new_tokens=16, do_sample=False)
    print(log.to_pandas().groupby("layer")[["scored", "n"]].mean())
    tvk.hf.restore(model)

The prefill (every forward pass of more than one token) stays the model's dense attention. Each
decode step (one new token, batch 1) of every selected layer runs through tvk's certified decode
(tvk.certified_decode) over the model's own KV cache: the keys (after RoPE) and values the model
caches are mirrored, rounded to binary16, into one tvk.KvCache per KV head, and the G query heads
that share a KV head are served together. The hook records per step, layer and head the keys in
the cache (n), the keys scored and kept, the tau bound (>= the dropped attention mass, <= eps)
and the output bound (>= ||out - o||_2: the returned float output against exact attention o over
every key, its own arithmetic included). With verify=True it also computes, in float64, the exact
attention of that step over the same binary16 cache and records the true dropped mass and the
true output error next to their bounds.

tvk.generation.hook generalises this hook: a method object (tvk.generation.methods: dense,
certified, Quest, StreamingLLM, top-p, oracle top-k) decides each KV-head group's decode attention.

Tested with transformers 4.46.3 (eager attention: LlamaAttention) on SmolLM2-135M (head_dim 64,
grouped-query attention). head_dim must be a multiple of 8 and at most 64 (tvk.KvCache's limit).
"""

from __future__ import annotations

import math
import types
from typing import Any, Iterable

import numpy as np

import tvk

__all__ = ["certified_attention", "restore", "CertifiedAttentionLog"]


class CertifiedAttentionLog:
    """What the hook recorded: `records`, one dict per (step, layer, head): step (decode step,
    0-based), layer, head, n (keys in the cache), scored, kept, tau_bound, output_bound,
    dense_fallback and, with verify, true_tau (the exact dropped mass), output_error (||out - o||_2:
    tvk's float output against exact attention over all keys), float_error (||out - o_K||_2: its
    distance from exact attention over the kept keys) and holds (true_tau <= tau_bound <= eps and
    output_error <= output_bound)."""

    def __init__(self, eps: float, search: str, layers: list[int], verify: bool):
        self.eps = eps
        self.search = search
        self.layers = layers
        self.verify = verify
        self.records: list[dict] = []
        self.steps = 0

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    def all_hold(self) -> bool:
        """With verify: whether every recorded certificate held against exact attention."""
        return all(r["holds"] for r in self.records)

    def __repr__(self) -> str:
        if not self.records:
            return f"<tvk.hf log: eps {self.eps}, no decode step yet>"
        scored = sum(r["scored"] for r in self.records) / max(1, sum(r["n"] for r in self.records))
        return (f"<tvk.hf log: eps {self.eps}, {len(self.records)} head-steps over {len(self.layers)} "
                f"layers, {scored:.3f} of the keys scored>")


class _LayerState:
    def __init__(self, kv_heads: int, head_dim: int):
        self.caches = [tvk.KvCache(head_dim) for _ in range(kv_heads)]
        self.count = 0  # tokens mirrored from the model's cache
        self.step = 0


def _exact_check(cache_k: np.ndarray, cache_v: np.ndarray, q: np.ndarray, scale: float,
                 kept: np.ndarray, out: np.ndarray) -> tuple[float, float, float]:
    """Against exact float64 attention over the binary16 keys and values (as tvk's decode tests
    check it): the dropped mass of `kept`, ||out - o||_2 (o the exact output over every key: what
    the output bound bounds, tvk's float arithmetic included) and ||out - o_K||_2 (o_K the exact
    output over the kept keys)."""
    s = float(np.float32(scale)) * (cache_k.astype(np.float64) @ q.astype(np.float64))
    w = np.exp(s - s.max())
    v = cache_v.astype(np.float64)
    inside = np.zeros(len(s), dtype=bool)
    inside[kept] = True
    exact = (w @ v) / w.sum()
    exact_kept = (w[inside] @ v[inside]) / w[inside].sum()
    returned = out.astype(np.float64)
    return (float(np.sort(w[~inside]).sum() / w.sum()), float(np.linalg.norm(returned - exact)),
            float(np.linalg.norm(returned - exact_kept)))


def _decode_forward(self, hidden_states, attention_mask=None, position_ids=None, past_key_value=None,
                    output_attentions=False, use_cache=False, cache_position=None,
                    position_embeddings=None, **kwargs):
    import torch
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    hook = self._tvk_hook
    bsz, q_len, _ = hidden_states.size()
    if q_len != 1 or bsz != 1 or past_key_value is None or output_attentions \
            or self.config.pretraining_tp > 1 or past_key_value.get_seq_length(self.layer_idx) == 0:
        # Prefill (or anything but a one-token decode step of one sequence): dense, untouched.
        hook["state"] = None if past_key_value is None or q_len != 1 else hook["state"]
        return hook["forward"](hidden_states, attention_mask=attention_mask, position_ids=position_ids,
                               past_key_value=past_key_value, output_attentions=output_attentions,
                               use_cache=use_cache, cache_position=cache_position,
                               position_embeddings=position_embeddings, **kwargs)
    log: CertifiedAttentionLog = hook["log"]
    heads, kv_heads, d = self.num_heads, self.num_key_value_heads, self.head_dim
    query = self.q_proj(hidden_states).view(bsz, q_len, heads, d).transpose(1, 2)
    key = self.k_proj(hidden_states).view(bsz, q_len, kv_heads, d).transpose(1, 2)
    value = self.v_proj(hidden_states).view(bsz, q_len, kv_heads, d).transpose(1, 2)
    if position_embeddings is None:
        cos, sin = self.rotary_emb(value, position_ids)
    else:
        cos, sin = position_embeddings
    query, key = apply_rotary_pos_emb(query, key, cos, sin)
    cache_kwargs = {"sin": sin, "cos": cos, "cache_position": cache_position}
    keys, values = past_key_value.update(key, value, self.layer_idx, cache_kwargs)  # the model's cache

    total = keys.shape[-2]
    state = hook["state"]
    if state is None or state.count > total:  # a new generation: mirror the cache afresh
        state = hook["state"] = _LayerState(kv_heads, d)
    new_k = keys[0, :, state.count:total, :].detach().to(torch.float16).cpu().numpy()
    new_v = values[0, :, state.count:total, :].detach().to(torch.float16).cpu().numpy()
    for h in range(kv_heads):
        state.caches[h].append(new_k[h], new_v[h])
    state.count = total

    group = heads // kv_heads
    scale = 1.0 / math.sqrt(d)
    q = query[0, :, 0, :].detach().to(torch.float32).cpu().numpy()  # (heads, d)
    out = np.empty((heads, d), dtype=np.float32)
    for h in range(kv_heads):
        cache = state.caches[h]
        qs = np.ascontiguousarray(q[h * group:(h + 1) * group])
        r = tvk.certified_decode(cache, qs, log.eps, scale, kept_keys=log.verify)
        out[h * group:(h + 1) * group] = r["out"]
        for g in range(group):
            rec = {"step": state.step, "layer": self.layer_idx, "head": h * group + g, "kv_head": h,
                   "n": total, "scored": int(r["scored"][g]), "kept": int(r["kept"][g]),
                   "tau_bound": float(r["tau_bound"][g]), "output_bound": float(r["output_bound"][g]),
                   "dense_fallback": bool(r["dense_fallback"][g])}
            if log.verify:
                true_tau, error, float_error = _exact_check(
                    np.asarray(keys[0, h].detach().to(torch.float16).cpu().numpy()),
                    np.asarray(values[0, h].detach().to(torch.float16).cpu().numpy()),
                    qs[g], scale, r["kept_keys"][g], r["out"][g])
                rec.update(true_tau=true_tau, output_error=error, float_error=float_error,
                           holds=bool(true_tau <= rec["tau_bound"] <= log.eps
                                      and error <= rec["output_bound"]))
            log.records.append(rec)
    state.step += 1
    log.steps = max(log.steps, state.step)
    attn = torch.from_numpy(out).to(hidden_states.dtype).to(hidden_states.device)
    attn = attn.reshape(bsz, q_len, heads * d)
    return self.o_proj(attn), None, past_key_value


def _attention_modules(model) -> list:
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise TypeError("tvk.hf: expected a Llama-family model (model.model.layers[i].self_attn)")
    return [layer.self_attn for layer in layers]


def certified_attention(model, eps: float = 0.05, search: str = "quantized",
                        layers: Iterable[int] | None = None, verify: bool = False) -> CertifiedAttentionLog:
    """Patches the decode-step attention of the selected layers (default: all) of a Llama-family
    transformers model (loaded with attn_implementation="eager") to tvk's certified decode at
    TV budget eps; returns the log it fills. search: the decode step's selection, "quantized"
    (int8 key codes, the only one tvk's decode step has). verify: also check every certificate
    against exact float64 attention (slower). tvk.hf.restore(model) undoes it."""
    if search != "quantized":
        raise tvk.InputError(f"search: the decode step certifies with the quantized search, got '{search}'")
    if not (0.0 < float(eps) < 1.0):
        raise tvk.InputError(f"eps: {eps} is outside (0, 1)")
    modules = _attention_modules(model)
    chosen = list(range(len(modules))) if layers is None else [int(i) for i in layers]
    for i in chosen:
        if not 0 <= i < len(modules):
            raise IndexError(f"layers: {i} is out of range (the model has {len(modules)} layers)")
    restore(model)
    log = CertifiedAttentionLog(float(eps), search, chosen, bool(verify))
    for i in chosen:
        attn = modules[i]
        if type(attn).__name__ != "LlamaAttention":
            raise TypeError(f"tvk.hf: layer {i} uses {type(attn).__name__}; load the model with "
                            "attn_implementation='eager'")
        if attn.head_dim % 8 or attn.head_dim > 64:
            raise ValueError(f"tvk.hf: head_dim {attn.head_dim} is not a multiple of 8 up to 64")
        attn._tvk_hook = {"forward": attn.forward, "log": log, "state": None}
        attn.forward = types.MethodType(_decode_forward, attn)
    model._tvk_log = log
    return log


def restore(model) -> None:
    """Undoes certified_attention: every layer's attention is the model's own again."""
    for attn in _attention_modules(model):
        if hasattr(attn, "_tvk_hook"):
            del attn.forward  # the instance attribute: the class's forward shows through again
            del attn._tvk_hook
    if hasattr(model, "_tvk_log"):
        del model._tvk_log
