#!/usr/bin/env python3
"""tvk.analyze from Python: the call overhead on one 4,096-key row and the throughput on 10,000
such rows, against the CLI (`tvk row`, one process per row, and `tvk row` reading a file) and a
numpy k_eps (sort, exp, tail sums; k_eps and tau only: no bounds).

usage: python bench/python_bench.py [--tvk build/tvk] [--rows 10000] [--n 4096] [--threads 2]
Needs the package installed (make python) in the interpreter that runs it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import tvk


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_k_eps(rows, eps):
    s = -np.sort(-rows, axis=1)
    w = np.exp(s - s[:, :1])
    tail = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # tail[k] = sum of ranks >= k+1 (0-based)
    total = tail[:, :1]
    tau = np.concatenate([tail[:, 1:], np.zeros((len(rows), 1))], axis=1) / total  # tau_k, k = 1..n
    k = np.argmax(tau <= eps, axis=1) + 1
    return k, tau[np.arange(len(rows)), k - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tvk", default="build/tvk")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cli-rows", type=int, default=50, help="rows timed through `tvk row` processes")
    args = parser.parse_args()

    rows = tvk.sample("gaussian", args.n, args.rows, seed=1, sigma=3)
    eps = [0.05]
    one = rows[0]
    tvk.analyze(one, eps)
    overhead = best(lambda: tvk.analyze(one, eps), 200)
    tiny = best(lambda: tvk.analyze([3.0, 2.5, 1.0, 0.0], eps), 200)
    print(f"tvk {tvk.__version__}, kernels {tvk.kernel_set()}, n = {args.n}, eps = {eps[0]}")
    print(f"tvk.analyze, one {args.n}-key row: {overhead * 1e6:.0f} us per call "
          f"(a 4-key row: {tiny * 1e6:.1f} us: the fixed overhead)")
    for threads in (1, args.threads):
        t = best(lambda: tvk.analyze(rows, eps, threads=threads), 3)
        print(f"tvk.analyze, {args.rows} rows, {threads} thread(s): {t:.3f} s = {args.rows / t:,.0f} rows/s "
              "(k_eps, tau and all 7 bounds, each scanned from k = 1)")
    t = best(lambda: numpy_k_eps(rows, eps[0]), 3)
    k, tau = numpy_k_eps(rows, eps[0])
    a = tvk.analyze(rows, eps, threads=args.threads)
    agree = np.array_equal(k, a.k_eps[:, 0])
    print(f"numpy k_eps and tau only, {args.rows} rows: {t:.3f} s = {args.rows / t:,.0f} rows/s "
          f"(k_eps agrees with tvk on {np.mean(k == a.k_eps[:, 0]) * 100:.2f}% of rows)")
    if os.access(args.tvk, os.X_OK):
        with tempfile.TemporaryDirectory() as folder:
            paths = []
            for r in range(args.cli_rows):
                path = os.path.join(folder, f"{r}.txt")
                np.savetxt(path, rows[r][None, :], fmt="%.17g")
                paths.append(path)
            start = time.perf_counter()
            for path in paths:
                subprocess.run([args.tvk, "row", "--json", "--eps", "0.05", path], check=True,
                               stdout=subprocess.DEVNULL)
            t = (time.perf_counter() - start) / args.cli_rows
            print(f"tvk row (CLI, one process per row, text file in): {t * 1e3:.1f} ms per row = "
                  f"{1 / t:,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
