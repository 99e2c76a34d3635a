#!/usr/bin/env python3
"""Which key summary lets a certified decode step read the fewest bytes? (the decode issue's
item 4). For every head of the SmolLM2 store at query position n-1, each summary design gives an
upper bound U_j on every logit; an ideal selection scores keys in decreasing U until the tail
bound sum_{unscored} e^U / (sum_{scored} e^s + sum_{unscored} e^U) <= eps (s the exact logits)
and reads the summary of every key, the 16-bit key of every scored key and its 16-bit value. The
bytes over the dense step's 16-bit K and V (4 d bytes a key) are printed per design.

This is a model of the selection in float64 (no buckets, the query unrounded: decode_bench
measures the implemented int8 step, whose bytes are a few per cent above the model's), for
comparing designs before writing their kernels:

  int8, int7, int6, int5, int4   one scale per key (bf16) and codes of b bits, radius r_j =
                                 max_c |k_c - delta m_c| (bf16): U = lam (q.k~ + r_j |q|_1)
  int4g8                         int4 with one scale and radius per 8 channels
  two-tier int4>int8, int6>int8  nested codes: the first tier's b bits of every key (the high
                                 bits of the int8 code: m8 in [2^s m_hi, 2^s m_hi + 2^s - 1]),
                                 the remaining 8 - b bits only for keys whose first-tier bound is
                                 within t of the largest: t chosen per head with hindsight (the
                                 least bytes), and the best single t for every head
  two-tier 6+2, as decode_bench  the implemented step (KvCache two_tier): the second tier read
                                 for whole tiles of 16 keys, a tile for every head of the KV group
                                 when any head's first bound in it is within 6 of its largest
  lowrank r                      int8 codes of the keys' coordinates in the top-r principal
                                 directions of the first 1,024 keys, residual by Cauchy-Schwarz

  .venv-llm/bin/python bench/summary_bytes.py [--store PATH] [--n 8192] [--eps 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

LAM_DEFAULT = 0.125
# How far below the largest first-tier bound a key's second tier is read (logits; 1e9: all).
REACHES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 1e9)


def per_key_codes(k: np.ndarray, bits: int, group: int):
    """Codes of `bits` bits, one scale per `group` channels: the reconstruction and radii."""
    n, d = k.shape
    levels = 2 ** (bits - 1) - 1
    kg = k.reshape(n, d // group, group)
    delta = np.abs(kg).max(axis=2, keepdims=True) / levels
    delta[delta == 0] = 1.0
    m = np.round(kg / delta)
    radius = np.abs(kg - delta * m).max(axis=2)
    return (delta * m).reshape(n, d), radius, m.reshape(n, d), delta.reshape(n, -1)


def bound(q: np.ndarray, approx: np.ndarray, radius: np.ndarray, group: int, lam: float):
    q1 = np.abs(q).reshape(-1, group).sum(axis=1)
    return lam * (approx @ q) + lam * (radius @ q1)


def scored_needed(s: np.ndarray, upper: np.ndarray, eps: float) -> int:
    order = np.argsort(-upper)
    top = max(upper[order[0]], s.max())
    e_upper = np.exp(upper[order] - top)
    e_exact = np.exp(s[order] - top)
    rest = np.append(np.cumsum(e_upper[::-1])[::-1][1:], 0.0)  # tail after scoring i + 1 keys
    lo = np.cumsum(e_exact)
    return int(np.nonzero(rest / (lo + rest) <= eps)[0][0]) + 1


def nested_first_tier(m8: np.ndarray, delta: np.ndarray, r8: np.ndarray, q: np.ndarray,
                      shift: int, lam: float) -> np.ndarray:
    """The bound from the high 8 - shift bits of the int8 codes alone: the low bits are unknown
    in [0, 2^shift - 1] per channel."""
    hi = np.floor(m8 / 2 ** shift)
    base = (hi * 2 ** shift) @ q + (2 ** shift - 1) * np.clip(q, 0, None).sum()
    return lam * (delta[:, 0] * base) + lam * r8[:, 0] * np.abs(q).sum()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=os.path.expanduser("~/.cache/tvk/stores/smollm2.h5"),
                    help="the SmolLM2 store of make llm-store (default: %(default)s)")
    ap.add_argument("--n", type=int, default=8192, help="keys of the step (default: %(default)s)")
    ap.add_argument("--eps", type=float, default=0.05, help="tail budget (default: %(default)s)")
    args = ap.parse_args()
    if not 0.0 < args.eps < 1.0:
        ap.error(f"--eps {args.eps} is outside (0, 1)")
    import h5py

    try:
        f = h5py.File(args.store, "r")
    except OSError as e:
        print(f"summary_bytes: {args.store}: {e}", file=sys.stderr)
        return 2
    seq = f["sequences/000"]
    keys, queries = seq["k"], seq["q"]
    kv_of = np.asarray(f.attrs["kv_head_of_head"])
    lam = float(f.attrs.get("scale", LAM_DEFAULT))
    layers, _, length, d = keys.shape
    n = args.n
    if not 1 <= n <= length:
        print(f"summary_bytes: --n {n} must be in [1, {length}]", file=sys.stderr)
        return 2
    dense = 4.0 * d  # bytes a key, 16-bit K and V
    designs: dict[str, list[float]] = {}
    reach = {(first, t): [] for first in (4, 6) for t in REACHES}

    def add(name: str, summary_bytes: float, scored: int) -> None:
        designs.setdefault(name, []).append((summary_bytes + 4.0 * d * scored) / (dense * n))

    for layer in range(layers):
        k_layer = keys[layer, :, :n, :].astype(np.float64)
        for kv in range(k_layer.shape[0]):
            k = k_layer[kv]
            codes = {b: per_key_codes(k, b, d) for b in (8, 7, 6, 5, 4)}
            g8 = per_key_codes(k, 4, 8)
            _, _, basis = np.linalg.svd(k[: min(n, 1024)], full_matrices=False)
            lowrank = {}
            for r in (16, 32):
                coords = k @ basis[:r].T
                delta = np.abs(coords).max(axis=1, keepdims=True) / 127
                delta[delta == 0] = 1.0
                approx = (np.round(coords / delta) * delta) @ basis[:r]
                lowrank[r] = (approx, np.linalg.norm(k - approx, axis=1))
            group = np.nonzero(kv_of == kv)[0]
            first6 = {h: nested_first_tier(codes[8][2], codes[8][3], codes[8][1],
                                           queries[layer, h, n - 1, :].astype(np.float64), 2, lam)
                      for h in group}
            tiles = np.zeros(n, dtype=bool)
            for u1 in first6.values():
                tiles |= u1 >= u1.max() - 6
            tiles = np.repeat(np.pad(tiles, (0, -n % 16)).reshape(-1, 16).any(axis=1), 16)[:n]
            for h in group:
                q = queries[layer, h, n - 1, :].astype(np.float64)
                s = lam * (k @ q)
                for b, (approx, radius, _, _) in codes.items():
                    add(f"int{b}", n * (b * d / 8 + 4), scored_needed(s, bound(q, approx, radius, d, lam), args.eps))
                add("int4g8", n * (d / 2 + 4 * d / 8), scored_needed(s, bound(q, g8[0], g8[1], 8, lam), args.eps))
                u8 = bound(q, codes[8][0], codes[8][1], d, lam)
                scored = scored_needed(s, np.where(tiles, u8, first6[h]), args.eps)
                add("two-tier 6+2, as decode_bench", n * (6 * d / 8 + 4) + tiles.sum() * 2 * d / 8, scored)
                for first in (4, 6):
                    shift = 8 - first
                    u1 = nested_first_tier(codes[8][2], codes[8][3], codes[8][1], q, shift, lam)
                    best = None
                    for t in REACHES:
                        refined = u1 >= u1.max() - t
                        scored = scored_needed(s, np.where(refined, u8, u1), args.eps)
                        total = n * (first * d / 8 + 4) + refined.sum() * shift * d / 8 + 4.0 * d * scored
                        best = total if best is None else min(best, total)
                        reach[(first, t)].append(total / (dense * n))
                    designs.setdefault(f"two-tier int{first}>int8, reach per head (hindsight)", []).append(best / (dense * n))
                for r, (approx, residual) in lowrank.items():
                    upper = lam * (approx @ q) + lam * np.linalg.norm(q) * residual
                    add(f"lowrank {r}", n * (r + 4), scored_needed(s, upper, args.eps))
        print(f"layer {layer + 1}/{layers}", end="\r", file=sys.stderr, flush=True)
    print(f"{len(designs['int8'])} heads, n = {n}, eps = {args.eps}: bytes over dense 16-bit K+V "
          "(summary + scored keys + their values), mean over heads")
    for first in (4, 6):
        t = min(REACHES, key=lambda t: np.mean(reach[(first, t)]))
        designs[f"two-tier int{first}>int8, one reach ({t:g})"] = reach[(first, t)]
    for name, values in designs.items():
        print(f"  {name:45s} {np.mean(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
