#!/usr/bin/python3
"""PyTorch CPU beside tvk's decode step (`make bench-decode`): one decode step of attention over
the same 16-bit KV cache decode_bench reads (every layer and KV head of a logit store, keys and
values of positions 0..n-1, the query heads of each group at position n-1), as a user would write
it: per layer, the G query heads of a KV head as one matmul against K^T, softmax in float32, then
times V. Timed in bfloat16 and in float32, medians over --repeats steps, with the bandwidth
fraction against the bytes of the 16-bit K and V (the float32 cache reads twice as many).

Usage: decode_torch.py --store PATH [--n N[,N...]] [--threads 2] [--repeats 15]

torch is Debian's python3-torch (`make llm-deps` or `make bench` installs it); run with
/usr/bin/python3 or the .venv-llm interpreter.
"""
import argparse
import statistics
import sys
import time

try:
    import h5py
    import numpy as np
    import torch
except ImportError as exc:
    print(f"decode_torch: {exc}; install Debian's python3-torch and python3-h5py (make llm-deps)",
          file=sys.stderr)
    sys.exit(2)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def n_list(text):
    return [positive_int(part) for part in text.split(",")]


def load(path, n):
    """q [L, KV, G, d] at position n-1 and K, V [L, KV, n, d] (float16) of the store's first sequence."""
    with h5py.File(path, "r") as store:
        kv_of = np.asarray(store.attrs["kv_head_of_head"])
        scale = float(store.attrs["scale"])
        sequence = store["sequences"][sorted(store["sequences"])[0]]
        length = int(sequence["k"].shape[2])
        if n > length:
            raise ValueError(f"{path}: --n {n} is beyond the stored length {length}")
        positions = np.asarray(sequence["query_positions"])
        rows = np.nonzero(positions == n - 1)[0]
        if len(rows) == 0:
            raise ValueError(f"{path}: no stored query at position {n - 1}")
        q = np.asarray(sequence["q"][:, :, rows[0], :])  # [L, H, d]
        k = np.asarray(sequence["k"][:, :, :n, :])
        v = np.asarray(sequence["v"][:, :, :n, :])
    layers, kv_heads = k.shape[0], k.shape[1]
    groups = [np.nonzero(kv_of == g)[0] for g in range(kv_heads)]
    q = np.stack([q[:, heads, :] for heads in groups], axis=1)  # [L, KV, G, d]
    return torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), scale, layers, kv_heads


def step(q, k, v, scale):
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale  # [L, KV, G, n]
    weights = torch.softmax(logits.float(), dim=-1).to(v.dtype)
    return torch.matmul(weights, v)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a decoder (v2) logit store")
    parser.add_argument("--n", type=n_list, default=None, help="cache lengths (default: the store's)")
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--repeats", type=positive_int, default=15)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        with h5py.File(args.store, "r") as store:
            sequence = store["sequences"][sorted(store["sequences"])[0]]
            lengths = args.n or [int(sequence["k"].shape[2])]
        for n in lengths:
            q16, k16, v16, scale, layers, kv_heads = load(args.store, n)
            dense_bytes = 2.0 * k16.numel() * 2
            for name, dtype in (("bfloat16", torch.bfloat16), ("float32", torch.float32)):
                q, k, v = q16.to(dtype), k16.to(dtype), v16.to(dtype)
                with torch.no_grad():
                    step(q, k, v, scale)  # warm-up
                    times = []
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        step(q, k, v, scale)
                        times.append((time.perf_counter() - start) * 1e3)
                median = statistics.median(times)
                print(f"pytorch {torch.__version__} ({name}, {args.threads} threads): median {median:.2f} ms "
                      f"over {args.repeats} steps, n={n}, {layers} layers x {kv_heads} KV heads "
                      f"({dense_bytes / 1e6:.1f} MB of 16-bit K+V)")
    except (OSError, KeyError, ValueError) as exc:
        print(f"decode_torch: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
