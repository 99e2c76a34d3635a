"""Figure bert_reduction: key reduction n/k on real attention, exact and certified, by layer.

Reads results/bert_reduction.h5 (configs/paper/bert_reduction.yaml: every row of the committed
all-MiniLM-L6-v2 logit store). Key reduction = total keys / total kept keys (sum of n over sum of
k, column key_reduction of the layers table; X_key_reduction for bound X) for the exact minimal
k_eps and for the k certified by each bound, per layer and, last, pooled over all layers (from
the rows table). One panel per eps. 1 = no saving.
"""

import matplotlib.pyplot as plt
import numpy as np

import common as c

# name -> (label, colour, hatch)
SERIES = {
    "exact": (r"exact $k_\varepsilon$", "#000000", None),
    "b1": ("B1 single gap", "#D55E00", None),
    "b2": ("B2 exact head, boundary gap", "#0072B2", None),
    "b3": ("B3 geometric, exact head", "#009E73", None),
    "b3_gap": ("B3 geometric, gap form", "#009E73", "////"),
    "b3_equal": ("B3 8 equal groups, exact head", "#CC79A7", None),
    "b3_equal_gap": ("B3 8 equal groups, gap form", "#CC79A7", "////"),
    "b4": ("B4 blockwise (b = 16)", "#E69F00", None),
}


def main():
    args = c.setup("bert_reduction", __doc__)
    results = c.load(args, "bert_reduction")
    layers = results["layers"]
    rows = results["rows"]
    c.require(layers, ["layer", "eps", "key_reduction"], "bert_reduction layers table")
    series = ["exact"] + [b for b in SERIES if b != "exact" and f"{b}_key_reduction" in
                          layers.columns]
    eps_values = sorted(layers.eps.unique())
    layer_ids = sorted(layers.layer.unique())
    groups = [f"{int(l)}" for l in layer_ids] + ["all"]

    fig, axes = plt.subplots(len(eps_values), 1, figsize=(c.TWO_COLUMN, 1.55 * len(eps_values)
                                                          + 0.5),
                             sharex=True, constrained_layout=True, squeeze=False)
    axes = axes[:, 0]
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    ymax = 0
    for ax, eps, letter in zip(axes, eps_values, "abcdef"):
        at = layers[layers.eps == eps].set_index("layer").loc[layer_ids]
        pooled = rows[rows.eps == eps]
        for i, s in enumerate(series):
            col = "key_reduction" if s == "exact" else f"{s}_key_reduction"
            kcol = "k_eps" if s == "exact" else f"{s}_k"
            values = list(at[col].to_numpy())
            values.append(pooled.n.sum() / pooled[kcol].sum())
            # Cross-check: the rows table reproduces the layers table's per-layer numbers.
            per_layer = pooled.groupby("layer").apply(lambda g: g.n.sum() / g[kcol].sum())
            if not np.allclose(per_layer.loc[layer_ids].to_numpy(), at[col].to_numpy(),
                               rtol=1e-9):
                c.die(f"bert_reduction: rows and layers tables disagree on {col}")
            label, color, hatch = SERIES[s]
            ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width * 0.92,
                   color="white" if hatch else color, edgecolor=color, hatch=hatch,
                   lw=0.6, label=label)
            ymax = max(ymax, max(values))
            if s == "exact" or s in ("b2", "b3"):
                print(f"bert_reduction: eps = {eps:g}, {s}: n/k by layer "
                      + ", ".join(f"{v:.2f}" for v in values[:-1]) + f"; all {values[-1]:.2f}")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.axvline(len(layer_ids) - 0.5, color="grey", lw=0.6)
        ax.set_ylabel(r"key reduction $n/k$")
        ax.grid(axis="x", visible=False)
        c.panel_label(ax, f"({letter}) " + c.eps_label(eps))
    for ax in axes:
        ax.set_ylim(0, ymax * 1.08)
    axes[-1].set_xticks(x)
    axes[-1].set_xticklabels([f"layer {g}" if g != "all" else "all layers" for g in groups])
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=(len(series) + 1) // 2, frameon=False)
    fig.suptitle(f"all-MiniLM-L6-v2: {len(rows[rows.eps == eps_values[0]])} attention rows "
                 f"(6 layers × 12 heads, n = {int(rows.n.min())}–{int(rows.n.max())})",
                 fontsize=8)
    c.save(fig, args)


if __name__ == "__main__":
    main()
