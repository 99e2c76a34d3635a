"""Certified attention inside a generating model (issue 29): perplexity, KL and top-1 agreement
against dense, and bytes per decode step, for tvk's certified decode and uncertified baselines
(Quest, StreamingLLM, top-p, oracle top-k).

    python -m tvk.generation configs/generation_llm.yaml [key=value ...] [--out DIR]

Modules: config (the YAML and its overrides), model (SmolLM2 and the held-out text), hook (the
decode-step hook that hands each KV-head group to a method), methods (one class per method),
experiment (prefill, teacher-forced and greedy decoding), metrics, results (CSV + HDF5)."""
