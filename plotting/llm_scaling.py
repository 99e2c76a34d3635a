"""Figure llm_scaling: k_eps/n against n on a decoder LLM's causal attention rows, per layer.

Reads results/llm_scaling.h5 (configs/paper/llm_scaling.yaml: the full SmolLM2-135M store of
`make llm-store`, every 16th query position of an 8,192-token sequence, all 30 layers and 9
heads). One panel per eps (0.01, 0.05, 0.1): the exact k_eps/n of each layer (heads pooled; the
`layers` table) against n_bucket (the power of two at or below the row's n, log axis), coloured
by depth, and the paper's rule Phi_c(sigma_hat + Phi^{-1}(eps)) at each row's fitted sigma_hat,
averaged the same way (dashed, the mean over layers 1-29). Exits 3 when the store or the results
file is missing (make llm-store first).
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm
from matplotlib.colors import Normalize

import common as c


def main():
    args = c.setup("llm_scaling", __doc__)
    if not (args.results / "llm_scaling.h5").exists():
        print("llm_scaling: no results/llm_scaling.h5 (the full store comes from "
              "`make llm-store`, then `bash plotting/make_figures.sh llm_scaling`)", file=sys.stderr)
        sys.exit(3)
    results = c.load(args, "llm_scaling")
    layers = results["layers"]
    c.require(layers, ["layer", "n_bucket", "eps", "k_over_n_mean", "rule_k_over_n_mean", "rows"],
              "llm_scaling")
    eps_values = sorted(layers.eps.unique())
    ids = sorted(layers.layer.unique())
    norm = Normalize(vmin=min(ids), vmax=max(ids))
    cmap = cm.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(eps_values), figsize=(c.TWO_COLUMN, 2.6), sharex=True,
                             constrained_layout=True, squeeze=False)
    for ax, eps in zip(axes[0], eps_values):
        d = layers[(layers.eps == eps) & (layers.rows >= 8)]
        for layer in ids:
            g = d[d.layer == layer].sort_values("n_bucket")
            ax.plot(g.n_bucket, g.k_over_n_mean, color=cmap(norm(layer)), lw=0.9,
                    marker="o", ms=1.8, alpha=0.9)
        deep = d[d.layer >= 1].groupby("n_bucket")
        rule = deep.rule_k_over_n_mean.mean()
        exact = deep.k_over_n_mean.mean()
        ax.plot(rule.index, rule.values, color="black", ls="--", lw=1.2)
        ax.plot(exact.index, exact.values, color="#D55E00", lw=1.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("n (keys in the row, bucket)")
        c.panel_label(ax, c.eps_label(eps))
        for n in (1024, 2048, 4096, 8192):
            if n in exact.index:
                print(f"llm_scaling: eps = {eps:g}, n = {n}: k/n (layers >= 1) {exact[n]:.3f}, "
                      f"rule {rule[n]:.3f} ({100 * (rule[n] - exact[n]) / exact[n]:+.0f}%)")
    axes[0][0].set_ylabel(r"$k_\varepsilon/n$")
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.8, pad=0.01,
                 label="layer")
    from matplotlib.lines import Line2D
    fig.legend([Line2D([], [], color="#D55E00", lw=1.6), Line2D([], [], color="black", ls="--")],
               ["mean over layers 1-29", r"rule at fitted $\hat\sigma$ (layers 1-29)"],
               loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)
    fig.suptitle("SmolLM2-135M, causal rows of one 8,192-token text", fontsize=8)
    c.save(fig, args)


if __name__ == "__main__":
    main()
