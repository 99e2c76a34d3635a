"""The experiment: one dense prefill of the longest P (chunked, the model's own attention), cut
to each P; per P the binary16 mirror of the prefill built once; per (method, param) M
teacher-forced decode steps from a copy of that state with the selected layers' decode attention
replaced by the method; then the greedy continuations."""

from __future__ import annotations

import time

import numpy as np

from . import hook, methods, metrics
from .cache import GrowingCache


def prefill(model, ids, chunk: int):
    """The model's DynamicCache after the dense forward of ids (1-D), `chunk` tokens at a time
    (the eager attention's weights of a chunk are chunk x n floats per head, not n x n)."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache()
    with torch.no_grad():
        for start in range(0, len(ids), chunk):
            model.model(input_ids=ids[None, start:start + chunk], past_key_values=cache, use_cache=True)
    return cache


def cut(cache, count: int):
    """A new DynamicCache holding copies of the first `count` positions of every layer."""
    from transformers import DynamicCache

    return DynamicCache.from_legacy_cache(tuple(
        (k[:, :, :count].clone(), v[:, :, :count].clone()) for k, v in zip(cache.key_cache, cache.value_cache)))


def mirrors_of(cache, layers: list[int], capacity: int, tvk_bits: set) -> dict:
    return {layer: hook.LayerMirror.from_prefill(cache.key_cache[layer][0], cache.value_cache[layer][0],
                                                 capacity, tvk_bits) for layer in layers}


def decode(model, base_cache, mirrors: dict, method, layers: list[int], tokens, greedy: bool = False):
    """Runs len(tokens) one-token steps from a copy of base_cache (a GrowingCache) with `method` on the layers of
    `mirrors`: step i feeds tokens[i] (teacher forcing) or, greedy, the previous step's argmax
    (tokens[0] first). Returns (logits (steps, vocab) float32, fed tokens, StepRecorder)."""
    import torch

    count = base_cache.get_seq_length()
    cache = GrowingCache(base_cache, count, count + len(tokens))
    forks = {layer: m.fork(method.tvk_bits) for layer, m in mirrors.items()}
    heads = model.config.num_attention_heads
    recorder = hook.StepRecorder(len(tokens), layers, heads)
    logits = np.empty((len(tokens), model.config.vocab_size), dtype=np.float32)
    fed = np.empty(len(tokens), dtype=np.int64)
    hook.install(model, method, forks, recorder)
    try:
        with torch.no_grad():
            token = int(tokens[0])
            for i in range(len(tokens)):
                fed[i] = token
                out = model(input_ids=torch.tensor([[token]]), past_key_values=cache, use_cache=True)
                logits[i] = out.logits[0, -1].numpy()
                recorder.step += 1
                if i + 1 < len(tokens):
                    token = int(logits[i].argmax()) if greedy else int(tokens[i + 1])
    finally:
        hook.remove(model)
    return logits, fed, recorder


def run(config, model, ids, log=print) -> dict:
    """The results tables: {"generation": rows, "per_layer": rows, "greedy": rows, "timings": rows}."""
    layers = list(range(model.config.num_hidden_layers)) if config.layers is None else config.layers
    for layer in layers:
        if layer >= model.config.num_hidden_layers:
            from tvk import InputError
            raise InputError(f"{config.path}: layers: {layer} is out of range (the model has "
                             f"{model.config.num_hidden_layers} layers)")
    points = list(config.points())
    # The key code widths of the tvk caches the runs read: each is mirrored once per prefill.
    tvk_bits = {methods.make(m, p, config).tvk_bits for m, p in points} - {None}
    tables = {"generation": [], "per_layer": [], "greedy": [], "timings": []}
    started, cpu = time.perf_counter(), time.process_time()
    full = prefill(model, ids[:max(config.prefill)], config.prefill_chunk)
    tables["timings"].append({"what": "prefill", "prefill": max(config.prefill),
                              "seconds": time.perf_counter() - started,
                              "cpu_seconds": time.process_time() - cpu, "steps": 0})
    log(f"prefill of {max(config.prefill)} tokens: {time.perf_counter() - started:.1f} s")
    for P in config.prefill:
        base = cut(full, P)
        mirrors = mirrors_of(base, layers, P + config.steps, tvk_bits)
        targets = ids[P + 1:P + config.steps + 1].numpy()
        dense_logp = dense_ppl = None
        for method, param in points:
            t0, cpu = time.perf_counter(), time.process_time()
            m = methods.make(method, param, config)
            logits, _, rec = decode(model, base, mirrors, m, layers, ids[P:P + config.steps])
            logp = metrics.log_softmax(logits)
            if dense_logp is None:  # methods start with dense (config.py checks it)
                dense_logp, dense_ppl = logp, metrics.perplexity(logp, targets)
            row = {"method": method, "param": np.nan if param is None else param, "prefill": P,
                   "steps": config.steps, "layers": len(layers)}
            row.update(metrics.compare(logp, dense_logp, targets, dense_ppl, rec.stats, m.certified))
            seconds = time.perf_counter() - t0
            row["seconds_per_step"] = seconds / config.steps
            tables["generation"].append(row)
            tables["timings"].append({"what": f"{method} {'' if param is None else f'{param:g}'}".strip(),
                                      "prefill": P, "seconds": seconds,
                                      "cpu_seconds": time.process_time() - cpu, "steps": config.steps})
            if m.certified and config.verify:
                for r in metrics.per_layer_output_check(rec.stats, layers):
                    tables["per_layer"].append({"method": method, "param": param, "prefill": P, **r})
            log(f"P={P} {method} {'' if param is None else f'{param:g}'}: ppl {row['ppl']:.4f} "
                f"(dense {dense_ppl:.4f}), KL {row['kl_mean']:.2e}, top-1 {row['top1_agreement']:.3f}, "
                f"bytes {row['bytes_over_dense_mean']:.3f}, certificates {row['certificate_valid']}, "
                f"{seconds / config.steps * 1000:.0f} ms/step "
                f"({(time.process_time() - cpu) / config.steps * 1000:.0f} ms CPU)")
    if config.greedy:
        tables["greedy"] = greedy(config, model, ids, layers, log)
    return tables


def greedy(config, model, ids, layers, log) -> list[dict]:
    """Greedy continuations of `prompts` prompts (consecutive spans of the text), dense and with
    each (method, param) of greedy.params: tokens before the first divergence, identical fraction."""
    g = config.greedy
    points = [(m, p) for m in config.methods if m != "dense"
              for p in (g.params.get(m) or ([None] if m == "dense_fp16" else []))]
    tvk_bits = {methods.make(m, p, config).tvk_bits for m, p in points} - {None}
    rows = []
    for prompt in range(g.prompts):
        start = prompt * g.prompt_tokens
        if start + g.prompt_tokens + 1 > len(ids):
            from tvk import InputError
            raise InputError(f"{config.path}: greedy: {g.prompts} prompts of {g.prompt_tokens} tokens "
                             f"need {g.prompts * g.prompt_tokens + 1} tokens of text, it has {len(ids)}")
        # The prompt's last token is fed by the first decode step, so the prefill holds the rest.
        base = prefill(model, ids[start:start + g.prompt_tokens - 1], config.prefill_chunk)
        mirrors = mirrors_of(base, layers, g.prompt_tokens + g.tokens, tvk_bits)
        first = ids[start + g.prompt_tokens - 1:start + g.prompt_tokens]
        t0 = time.perf_counter()
        dense_logits, _, _ = decode(model, base, mirrors, methods.Dense(), layers,
                                    np.repeat(first.numpy(), g.tokens), greedy=True)
        dense_tokens = dense_logits.argmax(axis=1)
        for method, param in points:
            logits, _, _ = decode(model, base, mirrors, methods.make(method, param, config), layers,
                                  np.repeat(first.numpy(), g.tokens), greedy=True)
            before, same = metrics.greedy_agreement(dense_tokens, logits.argmax(axis=1))
            rows.append({"method": method, "param": np.nan if param is None else param, "prompt": prompt,
                         "prompt_tokens": g.prompt_tokens, "tokens": g.tokens,
                         "tokens_before_divergence": before, "identical_fraction": same})
        log(f"greedy prompt {prompt}: {len(points) + 1} continuations of {g.tokens} tokens in "
            f"{time.perf_counter() - t0:.0f} s")
    return rows
