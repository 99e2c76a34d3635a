"""Figure bounds: what each deterministic bound certifies on Gaussian rows, and at what price.

Reads results/bounds.h5 (configs/paper/bounds.yaml: n = 512, every registered bound).
(a) certified kept fraction k_B/n of every bound variant against sigma at one eps (default 0.05,
    the reference figures' eps), next to the exact minimum k_eps/n: B1 (single boundary gap) sits
    near 0.95 whatever sigma, i.e. it is nearly vacuous on gapless rows; (b) the price k_B/k_eps
    (mean over rows, log scale); (c) the fraction of rows whose certificate held (true tau of the
    kept set <= certified bound), the minimum over every sigma and eps of the run: it must be 1.
Exact-head variants are solid, gap-form variants (lower bound k e^{s_(k)} on the head) dashed.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import common as c

# name -> (label, colour, line style, marker)
BOUNDS = {
    "b1": ("B1 single gap", "#D55E00", "-", "o"),
    "b2": ("B2 exact head, boundary gap", "#0072B2", "-", "s"),
    "b3": ("B3 geometric groups, exact head", "#009E73", "-", "^"),
    "b3_gap": ("B3 geometric groups, gap form", "#009E73", "--", "^"),
    "b3_equal": ("B3 8 equal groups, exact head", "#CC79A7", "-", "D"),
    "b3_equal_gap": ("B3 8 equal groups, gap form", "#CC79A7", "--", "D"),
    "b4": ("B4 blockwise (b = 16)", "#E69F00", "-", "v"),
}
EPS = 0.05


def main():
    args = c.setup("bounds", __doc__)
    points = c.load(args, "bounds")["points"]
    points = points[points.model == "gaussian"]
    bounds = [b for b in BOUNDS if f"{b}_k_over_n_mean" in points.columns]
    unknown = sorted({col[:-len("_k_over_n_mean")] for col in points.columns
                      if col.endswith("_k_over_n_mean") and col != "k_over_n_mean"} - set(BOUNDS))
    if unknown:
        print(f"bounds: not plotted (no style yet): {unknown}")
    eps_values = sorted(points.eps.unique())
    eps = min(eps_values, key=lambda e: abs(e - EPS))
    n = int(points.n.iloc[0])
    d = points[points.eps == eps].sort_values("sigma")

    fig = plt.figure(figsize=(c.TWO_COLUMN, 2.75), constrained_layout=True)
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.0, 0.7])
    ax_k, ax_p, ax_h = (fig.add_subplot(grid[0, i]) for i in range(3))

    ax_k.axhline(1.0, color="grey", lw=0.8, ls=":", zorder=0)
    ax_k.text(d.sigma.min() - 0.1, 1.01, "k = n", fontsize=6.5, color="grey", va="bottom")
    ax_k.plot(d.sigma, d.k_over_n_mean, color="black", lw=1.8, marker="o", ms=2.8,
              label=r"exact $k_\varepsilon$", zorder=5)
    for b in bounds:
        label, color, ls, marker = BOUNDS[b]
        half = c.ci95(d[f"{b}_k_over_n_sem"])
        ax_k.fill_between(d.sigma, d[f"{b}_k_over_n_mean"] - half,
                          d[f"{b}_k_over_n_mean"] + half, color=color, alpha=0.25, lw=0)
        ax_k.plot(d.sigma, d[f"{b}_k_over_n_mean"], color=color, ls=ls, marker=marker, ms=2.8,
                  lw=1.1, label=label)
        ax_p.plot(d.sigma, d[f"{b}_price_mean"], color=color, ls=ls, marker=marker, ms=2.8,
                  lw=1.1)
    ax_k.set_ylim(0, 1.2)
    ax_k.set_yticks(np.arange(0, 1.01, 0.2))
    ax_k.set_xlabel(r"logit standard deviation $\sigma$")
    ax_k.set_ylabel(r"certified kept fraction $k_B/n$")
    c.panel_label(ax_k, f"(a) certified $k_B$, n = {n}, " + c.eps_label(eps))
    if "b1" in bounds:
        b1 = d.b1_k_over_n_mean
        at = d.sigma.iloc[-2]
        ax_k.annotate(f"B1 = {b1.min():.2f}–{b1.max():.2f} at every σ:\n"
                      "near-vacuous on gapless rows",
                      xy=(at, b1.iloc[-2]), xytext=(d.sigma.max() + 0.1, 1.18), ha="right",
                      va="top", fontsize=6.5, color=BOUNDS["b1"][1],
                      arrowprops=dict(arrowstyle="->", color=BOUNDS["b1"][1], lw=0.7,
                                      shrinkA=0, shrinkB=1))

    ax_p.axhline(1.0, color="black", lw=1.8, zorder=0)
    ax_p.set_yscale("log")
    ax_p.set_xlabel(r"logit standard deviation $\sigma$")
    ax_p.set_ylabel(r"price $k_B / k_\varepsilon$ (mean over rows)")
    c.panel_label(ax_p, "(b) price of each bound")

    held = [points[f"{b}_held"].min() for b in bounds]
    y = np.arange(len(bounds))[::-1]
    ax_h.barh(y, held, color=[BOUNDS[b][1] for b in bounds], height=0.6,
              hatch=None, alpha=0.85)
    for yi, h, b in zip(y, held, bounds):
        ax_h.text(0.03, yi, f"{h:.3f}", va="center", ha="left", fontsize=6.5, color="white",
                  fontweight="bold")
    ax_h.set_yticks(y)
    ax_h.set_yticklabels([b.upper().replace("_", " ").replace("GAP", "gap")
                          .replace("EQUAL", "equal") for b in bounds])
    ax_h.set_xlim(0, 1.0)
    ax_h.set_xticks([0, 0.5, 1])
    ax_h.grid(axis="y", visible=False)
    total_rows = int(points.rows.sum() / len(eps_values))
    ax_h.set_xlabel(f"fraction of rows held\n(min of {len(points)} σ × ε points)")
    c.panel_label(ax_h, "(c) certificate held")
    ax_h.set_ylim(-0.6, len(bounds) - 0.4)

    handles, labels = ax_k.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
               frameon=False)

    ref = d[np.isclose(d.sigma, 2.0)]
    if len(ref):
        r = ref.iloc[0]
        parts = ", ".join(f"{b} {r[f'{b}_k_over_n_mean']:.3f}" for b in bounds)
        print(f"bounds: sigma = 2, n = {n}, eps = {eps:g}: exact {r.k_over_n_mean:.3f}, {parts}")
    last = d.iloc[-1]
    print(f"bounds: sigma = {last.sigma:g}: prices " +
          ", ".join(f"{b} {last[f'{b}_price_mean']:.1f}" for b in bounds))
    print(f"bounds: held fraction min {min(held):.3f} over {len(points)} points, "
          f"{total_rows} rows")
    c.save(fig, args)


if __name__ == "__main__":
    main()
