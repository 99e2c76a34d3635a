"""Figure heavy_tails: k_eps/n against n where E[e^s] is finite and where it is infinite.

Reads results/heavy_tails.h5 (configs/paper/heavy_tails.yaml). Mean k_eps/n (95% confidence band)
against n, log-log, one line per score model. Models with a finite E[e^s] (gaussian, laplace with
scale < 1; solid) level off at their asymptotic rule rho_eps (dashed horizontal, same colour);
models with an infinite E[e^s] (student_t, laplace with scale >= 1; dash-dot) have no rule and
k_eps/n -> 0. The grey dotted line is the floor k = 1 (k/n = 1/n).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import common as c

PARAMS = {"gaussian": ["sigma"], "laplace": ["scale"], "student_t": ["nu", "scale"],
          "gumbel": ["scale"], "logistic": ["scale"]}
SYMBOL = {"sigma": r"\sigma", "scale": "b", "nu": r"\nu"}


def describe(model, row):
    parts = []
    for p in PARAMS.get(model, []):
        if p in row and np.isfinite(row[p]):
            if model == "student_t" and p == "scale" and row[p] == 1:
                continue
            parts.append(f"{SYMBOL[p]} = {row[p]:g}")
    return f"{model.replace('_', '-')}" + (rf" (${', '.join(parts)}$)" if parts else "")


def main():
    args = c.setup("heavy_tails", __doc__)
    points = c.load(args, "heavy_tails")["points"]
    c.require(points, ["model", "n", "eps", "k_over_n_mean", "k_over_n_sem", "rule_k_over_n",
                       "exp_mean_finite"], "heavy_tails")
    eps = sorted(points.eps.unique())[0]
    points = points[points.eps == eps]
    param_cols = [p for p in ("sigma", "nu", "scale", "mu") if p in points.columns]
    keys = points[["model"] + param_cols].drop_duplicates()
    curves = []
    for _, key in keys.iterrows():
        mask = points.model == key.model
        for p in param_cols:
            mask &= (points[p] == key[p]) | (points[p].isna() & np.isnan(key[p]))
        d = points[mask].sort_values("n")
        curves.append((bool(d.exp_mean_finite.iloc[0]), key.model, d))
    # Finite E[e^s] first, then infinite; inside each, by model name and parameters.
    curves.sort(key=lambda t: (not t[0], t[1]))

    colors = dict(zip(range(len(curves)), c.OKABE_ITO[:3] + ["#882255"] + c.OKABE_ITO[3:]))
    fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(c.TWO_COLUMN, 2.8),
                                         constrained_layout=True)
    ns = np.sort(points.n.unique())
    ax_log.plot(ns, 1.0 / ns, color="grey", ls=":", lw=1.0, zorder=0)
    handles_f, labels_f, handles_i, labels_i = [], [], [], []
    for i, (finite, model, d) in enumerate(curves):
        color = colors[i % len(colors)]
        half = c.ci95(d.k_over_n_sem)
        for ax in (ax_lin, ax_log):
            ax.fill_between(d.n, np.maximum(d.k_over_n_mean - half, 1e-12),
                            d.k_over_n_mean + half, color=color, alpha=0.25, lw=0)
            line, = ax.plot(d.n, d.k_over_n_mean, color=color, ls="-" if finite else "-.",
                            marker=c.MARKERS[i % len(c.MARKERS)], ms=3, lw=1.1)
            if finite:
                ax.axhline(d.rule_k_over_n.iloc[0], color=color, lw=0.8, ls="--", zorder=1)
        label = describe(model, d.iloc[0])
        if finite:
            rule = d.rule_k_over_n.iloc[0]
            handles_f.append(line)
            labels_f.append(label + rf", $\rho_\varepsilon = {rule:.3f}$")
        else:
            handles_i.append(line)
            labels_i.append(label)
        first, last = d.iloc[0], d.iloc[-1]
        print(f"heavy_tails: {label.replace('$', '')}: k/n {first.k_over_n_mean:.4f} at "
              f"n = {int(first.n)} -> {last.k_over_n_mean:.2e} at n = {int(last.n)}"
              + (f" (rule {first.rule_k_over_n:.4f})" if finite else " (no rule)"))
    for ax in (ax_lin, ax_log):
        ax.set_xscale("log", base=2)
        ax.set_xlim(ns[0] / 1.3, ns[-1] * 1.3)
        ax.set_xlabel(r"keys per row $n$")
        ax.set_ylabel(r"minimal certified $k_\varepsilon/n$")
    ax_lin.set_ylim(0, 1)
    ax_log.set_yscale("log")
    ax_log.set_ylim(min(1.0 / ns[-1], points.k_over_n_mean.min()) / 2, 1.5)
    rows = int(points.rows.iloc[0])
    c.panel_label(ax_lin, "(a) " + c.eps_label(eps) + f", {rows} rows per point")
    c.panel_label(ax_log, "(b) log scale")
    blank = Line2D([], [], lw=0)
    handles = ([blank] + handles_f + [blank] + handles_i +
               [Line2D([], [], color="grey", ls="--", lw=0.8),
                Line2D([], [], color="grey", ls=":", lw=1.0)])
    labels = ([r"$\mathrm{E}[e^s] < \infty$:"] + labels_f
              + [r"$\mathrm{E}[e^s] = \infty$, no rule:"] + labels_i
              + [r"asymptotic rule $\rho_\varepsilon$", r"floor $k = 1$"])
    ax_log.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    c.save(fig, args)


if __name__ == "__main__":
    main()
