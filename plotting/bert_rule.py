"""Figure bert_rule: real attention rows against the Gaussian k_eps rule, by layer.

Reads results/bert_rule.h5 (configs/paper/bert_rule.yaml: every layer, head and query row of the
committed all-MiniLM-L6-v2 logit store). One panel per layer: every row's empirical k_eps/n against
the rule Phi_c(sigma_hat + Phi^{-1}(eps)) evaluated at the row's own fitted sigma_hat (std of its
logits), as a 2-D histogram (count per hexagon, log colour scale) at one eps (default 0.05); the
line is the mean empirical k_eps/n in bins of the rule's value; the diagonal is agreement.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

import common as c

EPS = 0.05


def main():
    args = c.setup("bert_rule", __doc__)
    results = c.load(args, "bert_rule")
    rows = results["rows"]
    c.require(rows, ["layer", "eps", "k_over_n", "rule_k_over_n", "sigma_hat", "n"], "bert_rule")
    eps = min(rows.eps.unique(), key=lambda e: abs(e - EPS))
    rows = rows[rows.eps == eps]
    layers = sorted(rows.layer.unique())
    ncols = 3
    nrows = int(np.ceil(len(layers) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(c.TWO_COLUMN, 2.25 * nrows + 0.3),
                             sharex=True, sharey=True, constrained_layout=True, squeeze=False)
    edges = np.linspace(0, 1, 21)
    norm = LogNorm(vmin=1, vmax=None)
    hexes = []
    for ax, layer in zip(axes.flat, layers):
        d = rows[rows.layer == layer]
        x, y = d.rule_k_over_n.to_numpy(), d.k_over_n.to_numpy()
        hb = ax.hexbin(x, y, gridsize=36, extent=(0, 1, 0, 1), mincnt=1, cmap="Blues",
                       norm=norm, linewidths=0.0)
        hexes.append(hb)
        ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--")
        which = np.digitize(x, edges) - 1
        centers, means = [], []
        for b in range(len(edges) - 1):
            sel = which == b
            if sel.sum() >= 20:
                centers.append(0.5 * (edges[b] + edges[b + 1]))
                means.append(y[sel].mean())
        ax.plot(centers, means, color="#D55E00", lw=1.3, marker="o", ms=2.2)
        mae = np.mean(np.abs(y - x))
        ax.text(0.03, 0.97,
                f"{len(d)} rows\nmean $k_\\varepsilon/n$ = {y.mean():.3f}\n"
                f"mean rule = {x.mean():.3f}\nmean |error| = {mae:.3f}\n"
                rf"mean $\hat\sigma$ = {d.sigma_hat.mean():.2f}",
                transform=ax.transAxes, ha="left", va="top", fontsize=6.3,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5))
        c.panel_label(ax, f"layer {int(layer)}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        print(f"bert_rule: layer {int(layer)}, eps = {eps:g}: mean k/n {y.mean():.3f}, "
              f"mean rule {x.mean():.3f}, mean |rule - k/n| {mae:.3f}, "
              f"sigma_hat {d.sigma_hat.mean():.2f}")
    for ax in axes.flat[len(layers):]:
        ax.set_visible(False)
    vmax = max(h.get_array().max() for h in hexes)
    for h in hexes:
        h.set_norm(LogNorm(vmin=1, vmax=vmax))
    for ax in axes[-1]:
        ax.set_xlabel(r"rule $\Phi_c(\hat\sigma + \Phi^{-1}(\varepsilon))$")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"empirical $k_\varepsilon/n$")
    cbar = fig.colorbar(hexes[0], ax=axes, shrink=0.6, pad=0.01, aspect=30)
    cbar.set_label("rows per hexagon")
    from matplotlib.lines import Line2D
    fig.legend([Line2D([], [], color="#D55E00", marker="o", ms=2.2),
                Line2D([], [], color="black", ls="--", lw=0.8)],
               ["mean empirical $k_\\varepsilon/n$ per bin of the rule", "agreement $y = x$"],
               loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)
    fig.suptitle(f"all-MiniLM-L6-v2, {c.eps_label(eps)}, every head and query row",
                 fontsize=8)
    c.save(fig, args)


if __name__ == "__main__":
    main()
