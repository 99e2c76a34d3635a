#!/usr/bin/python3
"""The PyTorch program a user would otherwise write: the same Monte Carlo as numpy_baseline.py
(k_eps and the certified k of B1 and B2), on the CPU in float64, vectorised over batches of rows.
Prints rows per second for one (n, sigma, eps) point, with the torch version and thread count.

Usage: torch_baseline.py N ROWS [SIGMA EPS] [--threads T] [--batch B] [--seed S]

torch comes from Debian's python3-torch (`make bench` installs it); run this with
/usr/bin/python3, which sees it. Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the run
(bench/run_bench.py does): they only slow a current build.
"""
import argparse
import sys
import time

try:
    import torch
except ImportError as exc:  # one clear line, exit 2: run_bench.py reports it and goes on
    print(f"torch_baseline: PyTorch is not installed ({exc}); install Debian's python3-torch "
          f"(`make bench` installs it) and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)


def first_at_most(bound, eps):
    """Index of the first column whose bound is <= eps, per row (the last column is 0, so always one).
    argmax is not implemented for bool tensors in torch 1.13: go through uint8; ties give the first."""
    return torch.argmax((bound <= eps).to(torch.uint8), dim=1)


def run(n, rows, sigma=2.0, eps=0.05, batch=2048, seed=0):
    gen = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    k_idx = torch.arange(1, n, dtype=f64)                   # k = 1..n-1
    b1_scale = k_idx / (n - k_idx)
    n_minus_k = n - k_idx
    done, t0 = 0, time.perf_counter()
    acc = torch.zeros(3, dtype=f64)
    with torch.no_grad():
        while done < rows:
            b = min(batch, rows - done)
            s = torch.randn((b, n), generator=gen, dtype=f64) * sigma
            s = torch.sort(s, dim=1, descending=True).values
            e = torch.exp(s - s[:, :1])
            tail = torch.flip(torch.cumsum(torch.flip(e, [1]), dim=1), [1])  # tail[:, j] = sum_{i>=j} e_i
            Z = tail[:, 0:1]
            zeros = torch.zeros((b, 1), dtype=f64)
            tau = torch.cat([tail[:, 1:], zeros], dim=1) / Z                  # tau_k for k=1..n
            k_exact = first_at_most(tau, eps) + 1
            gap = s[:, :-1] - s[:, 1:]
            b1 = 1.0 / (1.0 + b1_scale * torch.exp(gap))
            b1 = torch.cat([b1, zeros], dim=1)
            k_b1 = first_at_most(b1, eps) + 1
            head = torch.cumsum(e, dim=1)
            u = n_minus_k * e[:, 1:]
            b2 = torch.cat([u / (head[:, :-1] + u), zeros], dim=1)
            k_b2 = first_at_most(b2, eps) + 1
            acc += torch.stack([k_exact.sum(), k_b1.sum(), k_b2.sum()]).to(f64)
            done += b
    dt = time.perf_counter() - t0
    return rows / dt, acc / rows / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("rows", type=int)
    ap.add_argument("sigma", type=float, nargs="?", default=2.0)
    ap.add_argument("eps", type=float, nargs="?", default=0.05)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=2048, help="rows per vectorised batch (default 2048, as numpy's)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rate, means = run(args.n, args.rows, args.sigma, args.eps, args.batch, args.seed)
    means = [round(float(m), 4) for m in means]
    print(f"torch n={args.n} rows={args.rows}: {rate:.0f} rows/s  ({1e9 / rate / args.n:.1f} ns/key)  "
          f"mean k/n exact,B1,B2 = [{' '.join(str(m) for m in means)}]  "
          f"(torch {torch.__version__}, {torch.get_num_threads()} thread{'' if torch.get_num_threads() == 1 else 's'})")


if __name__ == "__main__":
    main()
