"""The decode-step hook: every selected layer's attention of a one-token step goes to a *method*
(methods.py), one KV-head group at a time; the prefill and the other layers stay the model's own.

This generalises tvk.hf.certified_attention (which calls tvk.certified_decode directly): the
query, key and value projections, RoPE and the model's cache update are the model's code path
(transformers 4.46 LlamaAttention, eager); the keys and values the model caches are mirrored,
rounded to binary16, into a LayerMirror (float64 arrays holding binary16 values, and one
tvk.KvCache per KV head when the method needs tvk), and the method returns each group's output
and its counts, which a StepRecorder keeps per (step, layer, head)."""

from __future__ import annotations

import dataclasses
import math
import types

import numpy as np

import tvk

STATS = ("n", "scored", "kept", "bytes", "dense_bytes", "tau_bound", "output_bound", "true_tau",
         "output_error")


@dataclasses.dataclass
class Group:
    """One KV head's decode step: what a method sees."""
    layer: int
    kv_head: int
    q: np.ndarray          # (G, d) float32: the G query heads sharing this KV head, after RoPE
    keys: np.ndarray       # (n, d) float64 view: the binary16-rounded keys (after RoPE), n = all
    values: np.ndarray     # (n, d) float64 view
    cache: "tvk.KvCache | None"  # the same keys and values in tvk's cache of the method's code width (tvk_bits)
    keys32: object         # (n, d) torch float32: the model's own cache (what dense attention reads)
    values32: object
    scale: float


# The tvk_bits of a cache whose int8 codes are held in two tiers (6 + 2 bits, tvk.KvCache's two_tier).
TWO_TIER = "6+2"


def new_cache(d: int, bits) -> "tvk.KvCache":
    """An empty tvk cache of key code width `bits`: 8, 4 or TWO_TIER."""
    if bits == TWO_TIER:
        return tvk.KvCache(d, bits=8, two_tier=True)
    return tvk.KvCache(d, bits=bits)


class LayerMirror:
    """One layer's cache mirrored at binary16: keys/values (kv_heads, capacity, d) float64 and,
    for each key code width asked for, a tvk.KvCache per KV head. fork(bits) gives a method run its
    own view: the arrays are shared (a run only writes rows at and after the prefill, and runs are
    sequential, so the prefill rows are never touched) and the tvk caches of that width copied
    (they cannot be truncated)."""

    def __init__(self, keys, values, count: int, caches, by_bits: dict | None = None):
        self.keys, self.values, self.count, self.caches = keys, values, count, caches
        self.by_bits = by_bits or {}

    @classmethod
    def from_prefill(cls, k, v, capacity: int, tvk_bits) -> "LayerMirror":
        """k, v: the model's cached (kv_heads, P, d) float32 tensors; tvk_bits: the key code
        widths (8, 4, or TWO_TIER) whose tvk caches the runs need."""
        kv_heads, count, d = k.shape
        import torch

        k16, v16 = k.to(torch.float16).numpy(), v.to(torch.float16).numpy()
        keys = np.zeros((kv_heads, capacity, d))
        values = np.zeros((kv_heads, capacity, d))
        keys[:, :count], values[:, :count] = k16, v16
        by_bits = {}
        for bits in sorted(set(tvk_bits), key=str):
            by_bits[bits] = [new_cache(d, bits) for _ in range(kv_heads)]
            for h, cache in enumerate(by_bits[bits]):
                cache.append(k16[h], v16[h])
        return cls(keys, values, count, None, by_bits)

    def fork(self, bits: int | None) -> "LayerMirror":
        """A run's view with copies of the tvk caches of `bits`-bit codes (None: no tvk cache)."""
        if bits is not None and bits not in self.by_bits:
            raise RuntimeError(f"LayerMirror.fork: the prefill mirror has no tvk caches of {bits}-bit codes")
        caches = None if bits is None else [c.copy() for c in self.by_bits[bits]]
        return LayerMirror(self.keys, self.values, self.count, caches)

    def append(self, k16: np.ndarray, v16: np.ndarray) -> None:
        """k16, v16: (kv_heads, d) float16 of the new token."""
        if self.count >= self.keys.shape[1]:
            raise RuntimeError(f"LayerMirror: more decode steps than its capacity {self.keys.shape[1]}")
        self.keys[:, self.count], self.values[:, self.count] = k16, v16
        if self.caches is not None:
            for h, cache in enumerate(self.caches):
                cache.append(k16[h], v16[h])
        self.count += 1


class StepRecorder:
    """Per (step, selected layer, head) counts of a run: arrays (steps, layers, heads), NaN until set."""

    def __init__(self, steps: int, layers: list[int], heads: int):
        self.index = {layer: i for i, layer in enumerate(layers)}
        self.stats = {name: np.full((steps, len(layers), heads), np.nan) for name in STATS}
        self.step = 0

    def record(self, layer: int, heads: slice, stats: dict) -> None:
        for name, value in stats.items():
            self.stats[name][self.step, self.index[layer], heads] = value


def _decode_forward(self, hidden_states, attention_mask=None, position_ids=None, past_key_value=None,
                    output_attentions=False, use_cache=False, cache_position=None,
                    position_embeddings=None, **kwargs):
    import torch
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    run = self._tvk_run
    bsz, q_len, _ = hidden_states.size()
    if q_len != 1 or bsz != 1 or past_key_value is None or output_attentions \
            or past_key_value.get_seq_length(self.layer_idx) == 0:
        return run["forward"](hidden_states, attention_mask=attention_mask, position_ids=position_ids,
                              past_key_value=past_key_value, output_attentions=output_attentions,
                              use_cache=use_cache, cache_position=cache_position,
                              position_embeddings=position_embeddings, **kwargs)
    heads, kv_heads, d = self.num_heads, self.num_key_value_heads, self.head_dim
    query = self.q_proj(hidden_states).view(1, 1, heads, d).transpose(1, 2)
    key = self.k_proj(hidden_states).view(1, 1, kv_heads, d).transpose(1, 2)
    value = self.v_proj(hidden_states).view(1, 1, kv_heads, d).transpose(1, 2)
    cos, sin = position_embeddings if position_embeddings is not None else self.rotary_emb(value, position_ids)
    query, key = apply_rotary_pos_emb(query, key, cos, sin)
    keys, values = past_key_value.update(key, value, self.layer_idx,
                                         {"sin": sin, "cos": cos, "cache_position": cache_position})
    mirror: LayerMirror = run["mirror"]
    mirror.append(key[0, :, 0].to(torch.float16).numpy(), value[0, :, 0].to(torch.float16).numpy())
    n = mirror.count
    if keys.shape[-2] != n:
        raise RuntimeError(f"tvk.generation hook: layer {self.layer_idx} caches {keys.shape[-2]} keys, "
                           f"its mirror {n} (one run per cache copy)")
    group = heads // kv_heads
    q = query[0, :, 0, :].numpy()  # (heads, d) float32
    out = np.empty((heads, d), dtype=np.float32)
    for h in range(kv_heads):
        rows = slice(h * group, (h + 1) * group)
        g = Group(self.layer_idx, h, np.ascontiguousarray(q[rows]), mirror.keys[h, :n],
                  mirror.values[h, :n], None if mirror.caches is None else mirror.caches[h],
                  keys[0, h], values[0, h], 1.0 / math.sqrt(d))
        out[rows], stats = run["method"].attend(g)
        stats["n"] = n
        run["recorder"].record(self.layer_idx, rows, stats)
    attn = torch.from_numpy(out).reshape(1, 1, heads * d)
    return self.o_proj(attn), None, past_key_value


def attention_modules(model) -> list:
    layers = getattr(getattr(model, "model", model), "layers", None)
    if layers is None:
        raise TypeError("tvk.generation: expected a Llama-family model (model.model.layers[i].self_attn)")
    return [layer.self_attn for layer in layers]


def install(model, method, mirrors: dict, recorder: StepRecorder) -> None:
    """Routes the decode steps of the layers in `mirrors` to `method`; remove() undoes it."""
    modules = attention_modules(model)
    for layer, mirror in mirrors.items():
        attn = modules[layer]
        if type(attn).__name__ != "LlamaAttention":
            raise TypeError(f"tvk.generation: layer {layer} is {type(attn).__name__}; load the model "
                            "with attn_implementation='eager'")
        attn._tvk_run = {"forward": attn.forward, "method": method, "mirror": mirror, "recorder": recorder}
        attn.forward = types.MethodType(_decode_forward, attn)


def remove(model) -> None:
    for attn in attention_modules(model):
        if hasattr(attn, "_tvk_run"):
            del attn.forward  # the instance attribute: the class's forward shows through again
            del attn._tvk_run
