#!/usr/bin/env python3
"""Scale-out benchmark: rows/s of one sweep on 1, 2 and 4 MPI ranks (1 thread each; this machine
has 2 cores, so 4 ranks are oversubscribed), next to one process with 1 and 2 threads, and the
cost of putting the pieces together: rank 0's decoding + merging of the ranks' shares, and
`tvk merge` of --shard partial files, each as a fraction of the run.

Usage: bench/scale_bench.py [--build build] [--rows N] [--repeat R]
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

CONFIG = """name: scale
seed: 1
rows: {rows}
n: 4096
eps: 0.05
model: {{type: gaussian, sigma: [1, 2, 3, 4]}}
bounds: [b1, b2]
k_grid: []
"""
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(cmd, env=None):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rows", type=int, default=10000, help="rows per point (4 points, n = 4096)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tvk = os.path.abspath(os.path.join(args.build, "tvk"))
    with tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "scale.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(rows=args.rows))
        total = 4 * args.rows
        common = ["--progress", "none", "--quiet"]
        print(f"sweep: 4 points x {args.rows} rows, gaussian n=4096, b1+b2; {os.cpu_count()} cores; "
              f"medians of {args.repeat}")
        for threads in (1, 2):
            walls = [run([tvk, "run", config, "--out", work, "--threads", str(threads)] + common)[1]
                     for _ in range(args.repeat)]
            print(f"  1 process, {threads} thread(s):        {total / statistics.median(walls):9.0f} rows/s")
        for ranks in (1, 2, 4):
            walls, fractions = [], []
            for _ in range(args.repeat):
                out, wall = run(["mpirun", "--oversubscribe", "-np", str(ranks), tvk, "run", config,
                                 "--out", work, "--threads", "1"] + common, env=MPI_ENV)
                walls.append(wall)
                m = re.search(r"merging on rank 0: ([\d.]+) s \(([\d.]+)% of the run\)", out)
                fractions.append(float(m.group(2)) if m else 0.0)
            note = " (oversubscribed: 4 ranks on 2 cores)" if ranks > os.cpu_count() else ""
            print(f"  mpirun -np {ranks}, 1 thread each:   {total / statistics.median(walls):9.0f} rows/s"
                  f"   merge on rank 0: {statistics.median(fractions):.3f}% of the run{note}")
        # Shards: run sequentially (as a job array would, one after another here), then merge.
        parts = os.path.join(work, "parts")
        shard_walls, merge_walls = [], []
        for _ in range(args.repeat):
            wall = 0.0
            for i in range(2):
                wall += run([tvk, "run", config, "--shard", f"{i}/2", "--out", parts, "--threads", "2",
                             "--progress", "none"])[1]
            shard_walls.append(wall)
            files = [os.path.join(parts, f"scale.shard-{i}-of-2.tvkpart") for i in range(2)]
            merge_walls.append(run([tvk, "merge", os.path.join(work, "merged.h5")] + files)[1])
        s, m = statistics.median(shard_walls), statistics.median(merge_walls)
        print(f"  2 shards + tvk merge: shards {s:.2f} s, merge {m:.3f} s = {100 * m / (s + m):.2f}% of the run")


if __name__ == "__main__":
    main()
