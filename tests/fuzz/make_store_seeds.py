#!/usr/bin/python3
"""Writes the tiny logit stores of the logit_store fuzz corpus (tests/fuzz/corpus/logit_store/):
format v1 (encoder) and v2 (decoder: grouped KV heads, causal, stored query positions) with the
root attributes of core/hdf5/logit_store.h, a few bytes each so the fuzzer mutates them fast.
Run from the repository root: /usr/bin/python3 tests/fuzz/make_store_seeds.py"""
import os

import h5py
import numpy as np

OUT = "tests/fuzz/corpus/logit_store"
STRINGS = ["model_name", "model_source", "model_config_sha256", "model_weights_sha256",
           "tokenizer", "text_source", "extraction_command", "created_utc"]


def root(f, major, layers, heads, d, sequences, dtype):
    f.attrs["filetype"] = "tvk-logit-store"
    f.attrs["format_version"] = np.array([major, 0], dtype=np.int64)
    for name in STRINGS:
        f.attrs[name] = "x"
    f.attrs["dtype"] = dtype
    for name, value in [("max_length", 8), ("num_layers", layers), ("num_heads", heads),
                        ("head_dim", d), ("num_sequences", sequences)]:
        f.attrs[name] = np.int64(value)
    f.attrs["scale"] = 1.0 / np.sqrt(d)
    f.attrs["verification_max_abs_error"] = 0.0
    f.attrs["verification_tolerance"] = 1e-5


def sequence(f, index, t, qrows, kv_heads, layers, heads, d, dtype, chunks):
    g = f.create_group(f"sequences/{index:03d}")
    g.attrs["length"] = np.int64(t)
    g.attrs["text"] = "ab"
    g["token_ids"] = np.arange(t, dtype=np.int64)
    rng = np.random.default_rng(index)
    opts = dict(chunks=(1, 1, max(1, qrows), d), compression="gzip") if chunks else {}
    g.create_dataset("q", data=rng.standard_normal((layers, heads, qrows, d)).astype(dtype),
                     **opts)
    opts = dict(chunks=(1, 1, t, d), compression="gzip") if chunks else {}
    for name in ("k", "v"):
        g.create_dataset(name, data=rng.standard_normal((layers, kv_heads, t, d)).astype(dtype),
                         **opts)
    return g


def v1(path, dtype, chunks, libver):
    with h5py.File(path, "w", libver=libver) as f:
        root(f, 1, 1, 2, 2, 2, dtype)
        for s, t in enumerate((3, 2)):
            sequence(f, s, t, t, 2, 1, 2, 2, dtype, chunks)


def v2(path, dtype, chunks, libver):
    with h5py.File(path, "w", libver=libver) as f:
        root(f, 2, 2, 2, 2, 1, dtype)
        f.attrs["num_kv_heads"] = np.int64(1)
        f.attrs["kv_head_of_head"] = np.array([0, 0], dtype=np.int64)
        f.attrs["causal"] = np.int64(1)
        f.attrs["layer_ids"] = np.array([0, 3], dtype=np.int64)
        f.attrs["model_num_layers"] = np.int64(4)
        for name in ("model_package", "model_package_version", "gguf_file", "quantization"):
            f.attrs[name] = "x"
        f.attrs["rounding_max_probability_change"] = 0.0
        g = sequence(f, 0, 4, 2, 1, 2, 2, 2, dtype, chunks)
        g["positions"] = np.arange(4, dtype=np.int64)
        g["query_positions"] = np.array([1, 3], dtype=np.int64)


os.makedirs(OUT, exist_ok=True)
v1(f"{OUT}/v1_float32.h5", "float32", False, "latest")
v1(f"{OUT}/v1_float64_gzip.h5", "float64", True, "earliest")
v2(f"{OUT}/v2_float16.h5", "float16", False, "latest")
v2(f"{OUT}/v2_float32_gzip.h5", "float32", True, "earliest")
