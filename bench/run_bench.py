#!/usr/bin/env python3
"""tvk against the numpy program a user would otherwise write (bench/numpy_baseline.py).

Same work on both sides: gaussian sigma = 2, eps = 0.05, exact k_eps with the certified k of B1
and B2, n = 512 and 4096. Prints rows/s of numpy and of `tvk run` at 1 and 2 threads, the
ratios, the thread scaling, and (with --memory) the peak RSS of 10^6- and 10^7-row runs.

Usage: bench/run_bench.py [--build build] [--rows-numpy N] [--rows-tvk N] [--repeat R] [--memory]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

CONFIG = """name: bench
seed: 1
rows: {rows}
n: {n}
eps: 0.05
model: {{type: gaussian, sigma: 2}}
bounds: [b1, b2]
k_grid: []
chunk_rows: 64
"""


def numpy_rate(n, rows):
    env = dict(os.environ)
    # Older OpenBLAS builds need these on some CPUs; they only slow a current numpy (see env docs).
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    out = subprocess.run([PY, os.path.join(HERE, "numpy_baseline.py"), str(n), str(rows)],
                         check=True, capture_output=True, text=True, env=env).stdout
    rate = float(re.search(r"([\d.]+) rows/s", out).group(1))
    means = re.search(r"= \[(.*)\]", out).group(1)
    return rate, means


def tvk_rate(tvk, n, rows, threads, workdir):
    path = os.path.join(workdir, f"bench_{n}.yaml")
    with open(path, "w") as f:
        f.write(CONFIG.format(rows=rows, n=n))
    t0 = time.perf_counter()
    out = subprocess.run([tvk, "run", path, "--out", workdir, "--threads", str(threads),
                          "--progress", "none", "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    m = re.search(r"(\d+) rows in ([\d.]+) s", out)
    return int(m.group(1)) / float(m.group(2)), wall


def peak_rss_mb(cmd):
    # This child's own peak (wait4), not RUSAGE_CHILDREN's maximum over every earlier child:
    # the numpy runs before it peak far higher.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rows-numpy", type=int, default=4000)
    ap.add_argument("--rows-tvk", type=int, default=80000)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions; medians are printed")
    ap.add_argument("--memory", action="store_true", help="also measure the peak RSS of 10^6- and 10^7-row runs")
    args = ap.parse_args()
    tvk = os.path.join(args.build, "tvk")
    print(f"machine: {os.cpu_count()} cores; numpy {PY}; tvk {tvk}")
    with tempfile.TemporaryDirectory() as workdir:
        for n in (512, 4096):
            rows_tvk = args.rows_tvk if n == 4096 else 4 * args.rows_tvk
            np_rates, t1, t2 = [], [], []
            for _ in range(args.repeat):
                r, means = numpy_rate(n, args.rows_numpy)
                np_rates.append(r)
                t1.append(tvk_rate(tvk, n, rows_tvk, 1, workdir)[0])
                t2.append(tvk_rate(tvk, n, rows_tvk, 2, workdir)[0])
            np_m, t1_m, t2_m = (statistics.median(x) for x in (np_rates, t1, t2))
            print(f"n={n:5d}  numpy {np_m:10.0f} rows/s ({1e9 / np_m / n:6.1f} ns/key)   "
                  f"tvk 1 thread {t1_m:10.0f} rows/s ({1e9 / t1_m / n:5.1f} ns/key)   "
                  f"tvk 2 threads {t2_m:10.0f} rows/s")
            print(f"         ratio tvk(2 threads)/numpy = {t2_m / np_m:.1f}x   "
                  f"1 thread = {t1_m / np_m:.1f}x   scaling 1->2 threads = {t2_m / t1_m:.2f}x   "
                  f"(numpy mean k/n exact,B1,B2 = [{means}])")
        if args.memory:
            # Flat in the rows: 10^6 and 10^7 rows should peak at the same RSS.
            for exponent in (6, 7):
                path = os.path.join(workdir, f"memory{exponent}.yaml")
                with open(path, "w") as f:
                    f.write(CONFIG.format(rows=10**exponent, n=512))
                t0 = time.perf_counter()
                rss = peak_rss_mb([tvk, "run", path, "--out", workdir, "--progress", "none", "--quiet"])
                print(f"memory: 10^{exponent} rows at n=512: peak RSS {rss:.0f} MB "
                      f"in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
