#!/usr/bin/env python3
"""Independent numpy reference for `tvk row --json` (docs/THEORY.md §1–§2).

Computes, from the formulas of docs/THEORY.md and nothing of tvk's code: the tail masses tau_k,
k_eps, and the certified k of every bound (b1, b2, b3 geometric with exact head, b3_gap, b3_equal,
b3_equal_gap with --b3-groups R, b4 with blocks of --block B), then compares them with tvk's JSON.

usage: numpy_row_reference.py MANIFEST
  Each line of MANIFEST: ROW_FILE JSON_FILE EPS_LIST BLOCK GROUPS (whitespace separated), where
  JSON_FILE holds the output of `tvk row --json --eps EPS_LIST --block BLOCK --b3-groups GROUPS
  ROW_FILE`. Exits 0 when everything agrees (tau to 1e-12 relative, k_eps and every bound's k
  exactly), 1 with one line per mismatch otherwise.
"""

import json
import re
import sys

import numpy as np

TAU_RTOL = 1e-12
TINY = 1e-300  # absolute slack for masses below the double range


def read_row(path):
    """Numbers separated by whitespace and/or commas, '#' comments; -inf masks a key."""
    values = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0]
            values.extend(float(token) for token in re.split(r"[\s,]+", line) if token)
    row = np.asarray(values, dtype=np.float64)
    masked = int(np.count_nonzero(np.isneginf(row)))
    return row[~np.isneginf(row)], masked


def first_at_most(values, eps):
    """1-based index of the first entry of values (indexed k = 1..n) that is <= eps."""
    return int(np.argmax(values <= eps)) + 1


def group_bounds(ss, w, head, k, starts, sizes):
    """B3 for every k at once. starts/sizes: (n-1, G) group offsets from rank k+1 and sizes
    (0 for absent groups). Returns (exact head, gap form) values for k = 1..n-1."""
    n = ss.size
    index = np.minimum(k[:, None] + starts, n - 1)  # 0-based index of a_g
    present = sizes > 0
    exact_terms = np.where(present, sizes * w[index], 0.0)
    gap_terms = np.where(present, sizes * np.exp(ss[index] - ss[k - 1][:, None]), 0.0)
    upper_exact = exact_terms.sum(axis=1)
    upper_gap = gap_terms.sum(axis=1)
    exact = upper_exact / (head[k] + upper_exact)
    gap = upper_gap / (k + upper_gap)
    return exact, gap


def analyse(s, eps_list, block, groups):
    n = s.size
    order = np.argsort(-s, kind="stable")  # descending, ties by position
    ss = s[order]
    w = np.exp(ss - ss[0])
    # tail[k] = sum of the weights of ranks > k, summed from the bottom; tail[0] = Z.
    tail = np.append(np.cumsum(w[::-1])[::-1], 0.0)
    head = np.concatenate(([0.0], np.cumsum(w)))
    tau = tail / tail[0]

    bounds = {}
    k = np.arange(1, n)  # k = 1..n-1; B_n = 0 is appended
    tail_keys = n - k
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        # B1: 1 / (1 + k/(n-k) e^{s_(k) - s_(k+1)}).
        b1 = 1.0 / (1.0 + k / tail_keys * np.exp(ss[k - 1] - ss[k]))
        # B2: exact head, (n-k) e^{s_(k+1)} for the tail.
        upper = tail_keys * w[k]
        b2 = upper / (head[k] + upper)
        # B3 geometric: groups of 1, 2, 4, ... starting at offsets 2^g - 1 from rank k+1.
        g = np.arange(max(1, int(n).bit_length()))[None, :]
        starts = (1 << g) - 1
        sizes = np.where(starts < tail_keys[:, None],
                         np.minimum(1 << g, tail_keys[:, None] - starts), 0)
        b3, b3_gap = group_bounds(ss, w, head, k, starts, sizes)
        # B3 equal: min(r, n-k) groups of sizes differing by at most one, larger first.
        count = np.minimum(groups, tail_keys)[:, None]
        base, extra = tail_keys[:, None] // count, tail_keys[:, None] % count
        g = np.arange(groups)[None, :]
        starts = g * base + np.minimum(g, extra)
        sizes = np.where(g < count, base + (g < extra), 0)
        b3_equal, b3_equal_gap = group_bounds(ss, w, head, k, starts, sizes)
    for name, values in (("b1", b1), ("b2", b2), ("b3", b3), ("b3_gap", b3_gap),
                         ("b3_equal", b3_equal), ("b3_equal_gap", b3_equal_gap)):
        bounds[name] = np.append(values, 0.0)  # index k-1 holds B_k

    # B4: blocks of `block` keys by position, kept in decreasing block maximum (ties by index).
    blocks = -(-n // block)
    padded = np.full(blocks * block, -np.inf)
    padded[:n] = s
    maxima = padded.reshape(blocks, block).max(axis=1)
    sizes = np.minimum(block, n - block * np.arange(blocks))
    with np.errstate(under="ignore"):
        mass = np.exp(padded - ss[0]).reshape(blocks, block).sum(axis=1)
        cover = sizes * np.exp(maxima - ss[0])
    rank = np.argsort(-maxima, kind="stable")
    kept = np.cumsum(sizes[rank])
    kept_mass = np.cumsum(mass[rank])
    upper = np.append(np.cumsum(cover[rank][::-1])[::-1][1:], 0.0)  # dropped blocks, m = 1..
    dropped = np.append(np.cumsum(mass[rank][::-1])[::-1][1:], 0.0)
    b4_bound = upper / (kept_mass + upper)
    b4_tau = dropped / tail[0]

    results = []
    for eps in eps_list:
        k_eps = first_at_most(tau[1:], eps)
        entry = {"eps": eps, "k_eps": k_eps, "tau": tau[k_eps], "bounds": {}}
        for name, values in bounds.items():
            kb = first_at_most(values, eps)
            entry["bounds"][name] = {"k": kb, "tau": tau[kb], "bound": values[kb - 1]}
        m = first_at_most(b4_bound, eps)  # the last step (every block kept) has bound 0
        entry["bounds"]["b4"] = {"k": int(kept[m - 1]), "tau": b4_tau[m - 1],
                                 "bound": b4_bound[m - 1]}
        results.append(entry)
    return n, results


def close(a, b, rtol):
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + TINY


def compare(row_path, json_path, eps_list, block, groups):
    s, masked = read_row(row_path)
    n, expected = analyse(s, eps_list, block, groups)
    with open(json_path, encoding="utf-8") as handle:
        got = json.load(handle)
    where = f"{row_path} (block {block}, groups {groups})"
    errors = []
    if got["n"] != n or got["masked"] != masked or got["block"] != block:
        errors.append(f"{where}: n/masked/block {got['n']}/{got['masked']}/{got['block']}, "
                      f"numpy {n}/{masked}/{block}")
    if len(got["results"]) != len(expected):
        return errors + [f"{where}: {len(got['results'])} results, expected {len(expected)}"]
    for want, have in zip(expected, got["results"]):
        at = f"{where} eps {want['eps']}"
        if have["eps"] != want["eps"]:
            errors.append(f"{at}: eps {have['eps']}")
        if have["k_eps"] != want["k_eps"]:
            errors.append(f"{at}: k_eps tvk {have['k_eps']} numpy {want['k_eps']}")
        if not close(have["tau"], want["tau"], TAU_RTOL):
            errors.append(f"{at}: tau tvk {have['tau']!r} numpy {want['tau']!r}")
        kl = -np.log1p(-want["tau"])
        if not close(have["identities"]["kl_truncated_to_full"], kl, TAU_RTOL):
            errors.append(f"{at}: KL tvk {have['identities']['kl_truncated_to_full']!r} "
                          f"numpy {kl!r}")
        if set(have["bounds"]) != set(want["bounds"]):
            errors.append(f"{at}: bounds {sorted(have['bounds'])}, expected "
                          f"{sorted(want['bounds'])}")
            continue
        for name, ref in want["bounds"].items():
            cert = have["bounds"][name]
            if cert["k"] != ref["k"]:
                errors.append(f"{at} {name}: k tvk {cert['k']} numpy {ref['k']} "
                              f"(numpy bound there {ref['bound']!r})")
                continue
            if not close(cert["tau"], ref["tau"], TAU_RTOL):
                errors.append(f"{at} {name}: tau(kept) tvk {cert['tau']!r} numpy {ref['tau']!r}")
            if not close(cert["bound"], ref["bound"], 1e-11):
                errors.append(f"{at} {name}: bound tvk {cert['bound']!r} numpy {ref['bound']!r}")
            if not close(cert["price"], ref["k"] / want["k_eps"], 1e-15):
                errors.append(f"{at} {name}: price tvk {cert['price']!r}")
            if cert["k"] < want["k_eps"] or cert["bound"] > want["eps"]:
                errors.append(f"{at} {name}: certificate k {cert['k']} bound {cert['bound']!r} "
                              "is not a certificate")
    return errors


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    errors, rows, budgets = [], 0, 0
    with open(argv[1], encoding="utf-8") as manifest:
        for line in manifest:
            if not line.strip():
                continue
            row_path, json_path, eps_text, block, groups = line.split()
            eps_list = [float(e) for e in eps_text.split(",")]
            errors += compare(row_path, json_path, eps_list, int(block), int(groups))
            rows += 1
            budgets += len(eps_list)
    for error in errors[:50]:
        print(error)
    if errors:
        print(f"{len(errors)} mismatches over {rows} rows")
        return 1
    print(f"ok: {rows} rows, {budgets} budgets agree with numpy")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
