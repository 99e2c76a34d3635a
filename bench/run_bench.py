#!/usr/bin/env python3
"""tvk against the numpy and PyTorch programs a user would otherwise write
(bench/numpy_baseline.py, bench/torch_baseline.py).

Same work on every side: gaussian sigma = 2, eps = 0.05, exact k_eps with the certified k of B1
and B2, n = 512 and 4096. Prints rows/s of numpy, of PyTorch (CPU, float64, 2 threads) and of
`tvk run` at 1 and 2 threads, medians of --repeat repetitions run interleaved, the ratios
tvk(2 threads)/numpy and tvk(2 threads)/PyTorch, the thread scaling, and (with --memory) the peak
RSS of 10^6- and 10^7-row runs. Where `import torch` fails (Debian's python3-torch, which
`make bert-deps` installs, is missing) PyTorch is skipped with a line saying why; where the tvk
binary is missing, tvk is skipped likewise. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for
the numpy and PyTorch children only (they slow a current OpenBLAS; see the env docs).

--compare-build DIR (repeatable): also measure DIR/tvk (e.g. a -march=native build) on the perf
sweep, n = 4096 at 2 threads with --rows-tvk rows, interleaved with the main build inside each
repetition (the order alternates between repetitions) so machine noise hits both alike, and print
the medians and the ratio main/DIR, e.g.
    dispatched vs native: build/tvk 45977 rows/s, build-native/tvk 46500 rows/s: 0.989x (within 5%: yes)

--kernels LIST (comma-separated, e.g. generic,avx2,avx512): run the main build's perf sweep once
per kernel set per repetition with TVK_KERNELS=<set> in its environment (tvk picks its SIMD kernels
at run time; TVK_KERNELS forces one set) and print the median rows/s of each set and its ratio to
the first set measured. A set for which tvk exits 2 is reported unavailable on this CPU (or
unknown to this tvk, as its message says) and dropped; the others go on.

tvk's rows/s is the one its summary line prints ("R rows in S s (X rows/s)"), 4 significant
digits; where that is absent, R / S.

Usage: bench/run_bench.py [--build build] [--rows-numpy N] [--rows-torch N] [--rows-tvk N]
                          [--repeat R] [--torch-threads T] [--memory]
                          [--compare-build DIR ...] [--kernels LIST]
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
PERF_N = 4096       # the perf sweep of --compare-build and --kernels
PERF_THREADS = 2

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


class Unavailable(Exception):
    """A side that cannot run here (torch not installed, a kernel set this CPU lacks)."""


def baseline_env():
    env = dict(os.environ)
    # Older OpenBLAS builds need these on some CPUs; they only slow a current numpy/torch (see env docs).
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def numpy_rate(n, rows):
    out = subprocess.run([PY, os.path.join(HERE, "numpy_baseline.py"), str(n), str(rows)],
                         check=True, capture_output=True, text=True, env=baseline_env()).stdout
    rate = float(re.search(r"([\d.]+) rows/s", out).group(1))
    means = re.search(r"= \[(.*)\]", out).group(1)
    return rate, means


def torch_rate(n, rows, threads):
    """(rows/s, mean k/n string, 'torch VERSION, T threads'); Unavailable where torch is missing."""
    proc = subprocess.run([PY, os.path.join(HERE, "torch_baseline.py"), str(n), str(rows),
                           "--threads", str(threads)],
                          capture_output=True, text=True, env=baseline_env())
    if proc.returncode == 2:
        raise Unavailable((proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1])
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    out = proc.stdout
    rate = float(re.search(r"([\d.]+) rows/s", out).group(1))
    means = re.search(r"= \[(.*?)\]", out).group(1)
    version = re.search(r"\((torch [^)]*)\)\s*$", out).group(1)
    return rate, means, version


def tvk_rate(tvk, n, rows, threads, workdir, kernels=None):
    """(rows/s from tvk's own report, wall s). With kernels, TVK_KERNELS=kernels; exit 2 -> Unavailable."""
    path = os.path.join(workdir, f"bench_{n}_{rows}.yaml")
    with open(path, "w") as f:
        f.write(CONFIG.format(rows=rows, n=n))
    env = dict(os.environ)
    if kernels is not None:
        env["TVK_KERNELS"] = kernels
    t0 = time.perf_counter()
    proc = subprocess.run([tvk, "run", path, "--out", workdir, "--threads", str(threads),
                           "--progress", "none", "--quiet"],
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if kernels is not None and proc.returncode == 2:
        why = (proc.stderr.strip() or proc.stdout.strip() or "exit 2").splitlines()[-1]
        raise Unavailable(why)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    m = re.search(r"(\d+) rows in ([\d.]+) s(?: \(([\d.e+]+) rows/s\))?", proc.stdout)
    # tvk's own rows/s (4 significant digits) where it prints one: the seconds carry only 2 decimals.
    return (float(m.group(3)) if m.group(3) else int(m.group(1)) / float(m.group(2))), wall


def tvk_version(tvk):
    proc = subprocess.run([tvk, "--version"], capture_output=True, text=True)
    return "; ".join((proc.stdout.strip() or proc.stderr.strip() or f"exit {proc.returncode}").splitlines())


def peak_rss_mb(cmd):
    # This child's own peak (wait4), not RUSAGE_CHILDREN's maximum over every earlier child:
    # the numpy runs before it peak far higher.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return usage.ru_maxrss / 1024.0


def compare_builds(tvk, others, rows, repeat, workdir):
    """Main build against each other build on the perf sweep, interleaved within each repetition.
    Keyed by position, so the same directory given twice is measured twice (a plumbing check)."""
    builds = [tvk] + others
    rates = [[] for _ in builds]
    for rep in range(repeat):
        order = range(len(builds)) if rep % 2 == 0 else range(len(builds) - 1, -1, -1)
        for i in order:   # alternate, so neither build always goes first
            rates[i].append(tvk_rate(builds[i], PERF_N, rows, PERF_THREADS, workdir)[0])
    main_m = statistics.median(rates[0])
    for b, r in zip(others, rates[1:]):
        m = statistics.median(r)
        ratio = main_m / m
        print(f"dispatched vs native: {tvk} {main_m:.0f} rows/s, {b} {m:.0f} rows/s: {ratio:.3f}x "
              f"(within 5%: {'yes' if abs(ratio - 1) <= 0.05 else 'no'})   "
              f"[n={PERF_N}, {PERF_THREADS} threads, {rows} rows, median of {repeat}]")


def kernel_sweep(tvk, sets, rows, repeat, workdir):
    """The main build's perf sweep once per TVK_KERNELS set per repetition, interleaved."""
    rates = {k: [] for k in sets}
    unavailable = {}
    for _ in range(repeat):
        for k in sets:
            if k in unavailable:
                continue
            try:
                rates[k].append(tvk_rate(tvk, PERF_N, rows, PERF_THREADS, workdir, kernels=k)[0])
            except Unavailable as exc:
                unavailable[k] = str(exc)
    first = None
    for k in sets:
        if k in unavailable:
            where = "to this tvk" if "unknown" in unavailable[k] else "on this CPU"
            print(f"kernels {k:8s}: unavailable {where} (tvk exited 2: {unavailable[k]})")
            continue
        m = statistics.median(rates[k])
        first = first or (k, m)
        print(f"kernels {k:8s}: {m:10.0f} rows/s ({1e9 / m / PERF_N:5.2f} ns/key)   "
              f"{m / first[1]:.3f}x of {first[0]}   [TVK_KERNELS={k}, n={PERF_N}, {PERF_THREADS} threads]")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rows-numpy", type=int, default=4000)
    ap.add_argument("--rows-torch", type=int, default=None, help="rows of the PyTorch runs (default: --rows-numpy)")
    ap.add_argument("--rows-tvk", type=int, default=80000)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions; medians are printed")
    ap.add_argument("--torch-threads", type=int, default=2, help="torch.set_num_threads of the PyTorch runs")
    ap.add_argument("--memory", action="store_true", help="also measure the peak RSS of 10^6- and 10^7-row runs")
    ap.add_argument("--compare-build", action="append", default=[], metavar="DIR",
                    help="also measure DIR/tvk on the perf sweep, interleaved with --build (repeatable)")
    ap.add_argument("--kernels", default=None, metavar="LIST",
                    help="comma-separated TVK_KERNELS sets to run the main build's perf sweep with")
    args = ap.parse_args()
    rows_torch = args.rows_torch or args.rows_numpy
    tvk = os.path.join(args.build, "tvk")
    have_tvk = os.access(tvk, os.X_OK)
    print(f"machine: {os.cpu_count()} cores; numpy {PY}; tvk {tvk}"
          + (f"; TVK_KERNELS={os.environ['TVK_KERNELS']}" if "TVK_KERNELS" in os.environ else ""))
    if have_tvk:
        print(f"tvk --version: {tvk_version(tvk)}")
    else:
        print(f"tvk skipped: {tvk} not found (build it: make build)")
    have_torch, torch_why, torch_version = True, "", ""
    with tempfile.TemporaryDirectory() as workdir:
        for n in (512, 4096):
            rows_tvk = args.rows_tvk if n == 4096 else 4 * args.rows_tvk
            np_rates, pt_rates, t1, t2 = [], [], [], []
            pt_means = ""
            for _ in range(args.repeat):
                r, means = numpy_rate(n, args.rows_numpy)
                np_rates.append(r)
                if have_torch:
                    try:
                        r, pt_means, torch_version = torch_rate(n, rows_torch, args.torch_threads)
                        pt_rates.append(r)
                    except Unavailable as exc:
                        have_torch, torch_why = False, str(exc)
                        print(f"PyTorch skipped: {torch_why}")
                if have_tvk:
                    t1.append(tvk_rate(tvk, n, rows_tvk, 1, workdir)[0])
                    t2.append(tvk_rate(tvk, n, rows_tvk, 2, workdir)[0])
            np_m = statistics.median(np_rates)
            pt_m = statistics.median(pt_rates) if pt_rates else None
            line = f"n={n:5d}  numpy {np_m:10.0f} rows/s ({1e9 / np_m / n:6.1f} ns/key)   "
            if pt_m:
                line += f"PyTorch {pt_m:10.0f} rows/s ({1e9 / pt_m / n:6.1f} ns/key)   "
            if have_tvk:
                t1_m, t2_m = statistics.median(t1), statistics.median(t2)
                line += (f"tvk 1 thread {t1_m:10.0f} rows/s ({1e9 / t1_m / n:5.1f} ns/key)   "
                         f"tvk 2 threads {t2_m:10.0f} rows/s")
            print(line.rstrip())
            if have_tvk:
                print(f"         ratio tvk(2 threads)/numpy = {t2_m / np_m:.1f}x   "
                      + (f"tvk(2 threads)/PyTorch = {t2_m / pt_m:.1f}x   " if pt_m else "")
                      + f"1 thread = {t1_m / np_m:.1f}x   scaling 1->2 threads = {t2_m / t1_m:.2f}x   "
                      f"(numpy mean k/n exact,B1,B2 = [{means}])")
            else:
                print(f"         (numpy mean k/n exact,B1,B2 = [{means}])")
            if pt_m:
                print(f"         PyTorch/numpy = {pt_m / np_m:.2f}x   "
                      f"(PyTorch mean k/n exact,B1,B2 = [{pt_means}]; {torch_version}, {rows_torch} rows)")
        if have_tvk and args.compare_build:
            others = [os.path.join(d, "tvk") for d in args.compare_build]
            compare_builds(tvk, others, args.rows_tvk, args.repeat, workdir)
        elif args.compare_build:
            print("compare builds skipped: no main tvk build")
        if have_tvk and args.kernels:
            kernel_sweep(tvk, [k.strip() for k in args.kernels.split(",") if k.strip()],
                         args.rows_tvk, args.repeat, workdir)
        elif args.kernels:
            print("kernel sweep skipped: no main tvk build")
        if args.memory and have_tvk:
            # Flat in the rows: 10^6 and 10^7 rows should peak at the same RSS.
            for exponent in (6, 7):
                path = os.path.join(workdir, f"memory{exponent}.yaml")
                with open(path, "w") as f:
                    f.write(CONFIG.format(rows=10**exponent, n=512))
                t0 = time.perf_counter()
                rss = peak_rss_mb([tvk, "run", path, "--out", workdir, "--progress", "none", "--quiet"])
                print(f"memory: 10^{exponent} rows at n=512: peak RSS {rss:.0f} MB "
                      f"in {time.perf_counter() - t0:.0f} s")
        elif args.memory:
            print("memory skipped: no tvk build")


if __name__ == "__main__":
    main()
