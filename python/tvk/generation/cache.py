"""A KV cache that grows in place: transformers' DynamicCache concatenates every layer's whole
cache at every decode step (torch.cat: O(n) bytes copied and a fresh allocation per layer and
step, the largest cost of a step at n = 7,680); this one preallocates the run's capacity once and
writes each new token into it. The model sees the same keys and values, in the same order."""

from __future__ import annotations

from transformers import DynamicCache


class GrowingCache(DynamicCache):
    def __init__(self, source: DynamicCache, count: int, capacity: int):
        """A copy of the first `count` positions of `source`, with room for `capacity` in all."""
        super().__init__()
        self.buffers = []
        for k, v in zip(source.key_cache, source.value_cache):
            bk = k.new_empty(k.shape[0], k.shape[1], capacity, k.shape[3])
            bv = v.new_empty(v.shape[0], v.shape[1], capacity, v.shape[3])
            bk[:, :, :count], bv[:, :, :count] = k[:, :, :count], v[:, :, :count]
            self.buffers.append((bk, bv))
            self.key_cache.append(bk[:, :, :count])
            self.value_cache.append(bv[:, :, :count])
        self.lengths = [count] * len(self.buffers)
        self._seen_tokens = count

    def update(self, key_states, value_states, layer_idx, cache_kwargs=None):
        start, new = self.lengths[layer_idx], key_states.shape[-2]
        bk, bv = self.buffers[layer_idx]
        if start + new > bk.shape[2]:
            raise RuntimeError(f"GrowingCache: {start + new} positions exceed its capacity {bk.shape[2]}")
        bk[:, :, start:start + new] = key_states
        bv[:, :, start:start + new] = value_states
        self.lengths[layer_idx] = start + new
        if layer_idx == 0:
            self._seen_tokens += new
        self.key_cache[layer_idx] = bk[:, :, :start + new]
        self.value_cache[layer_idx] = bv[:, :, :start + new]
        return self.key_cache[layer_idx], self.value_cache[layer_idx]

    def get_seq_length(self, layer_idx=0):
        return self.lengths[layer_idx] if layer_idx < len(self.lengths) else 0
