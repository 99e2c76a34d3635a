"""Figure certified_llm: certified selection against Quest, top-p and StreamingLLM on decoder rows.

Reads results/certified_llm.h5 (configs/paper/certified_llm.yaml: the committed SmolLM2-135M
fixture, layers >= 1, causal rows with n >= 1024). The `pooled` table holds one row per
(n_bucket, search, eps) with layers and heads pooled. Three panels:
  (a) keys scored / n against eps per search (exact k_eps/n of the oracle beside them);
  (b) bytes read / dense 16-bit K+V bytes against eps per search;
  (c) Quest's violation fraction (rows with true tau > eps) against its token budget, per eps.
Certified searches (quantized*, mc_*, oracle_topk) never violate; their markers are filled.
"""

import re
import sys

import matplotlib.pyplot as plt

import common as c


def main():
    args = c.setup("certified_llm", __doc__)
    if not (args.results / "certified_llm.h5").exists():
        print("certified_llm: no results/certified_llm.h5 "
              "(bash plotting/make_figures.sh certified_llm runs its config)", file=sys.stderr)
        sys.exit(3)
    results = c.load(args, "certified_llm")
    pooled = results["pooled"]
    c.require(pooled, ["search", "n_bucket", "eps", "rows", "scored_over_n_mean",
                       "kept_over_n_mean", "k_over_n_mean", "bytes_over_dense_mean",
                       "violation_fraction", "certified_fraction", "certificate_valid"],
              "certified_llm")
    # Rows of every n_bucket pooled, weighted by their row counts.
    cols = ["scored_over_n_mean", "kept_over_n_mean", "k_over_n_mean", "bytes_over_dense_mean",
            "violation_fraction"]
    weighted = pooled.copy()
    for col in cols:
        weighted[col] = weighted[col] * weighted.rows
    table = weighted.groupby(["search", "eps"])[cols + ["rows"]].sum().reset_index()
    for col in cols:
        table[col] = table[col] / table.rows
    searches = list(dict.fromkeys(pooled.search))
    quest = [s for s in searches if re.fullmatch(r"quest_\d+(\.\d+)?", s)]
    others = [s for s in searches if s not in quest]
    colors = dict(zip(others, c.ordered_colors(len(others))))
    fig, axes = plt.subplots(1, 3, figsize=(c.TWO_COLUMN, 2.6), constrained_layout=True)
    for search in others:
        d = table[table.search == search].sort_values("eps")
        uncertified = d.violation_fraction.max() > 0 or search in ("top_p", "streaming")
        style = dict(color=colors[search], marker="o", ms=3, lw=1.1,
                     mfc="white" if uncertified else colors[search], label=search)
        axes[0].plot(d.eps, d.scored_over_n_mean, **style)
        axes[1].plot(d.eps, d.bytes_over_dense_mean, **style)
    oracle = table[table.search == searches[0]].sort_values("eps")
    axes[0].plot(oracle.eps, oracle.k_over_n_mean, color="black", ls="--", lw=1.0,
                 label=r"exact $k_\varepsilon/n$")
    for ax, label in zip(axes[:2], ["keys scored / n", "bytes / dense (16-bit K+V)"]):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\varepsilon$")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=6, frameon=False)
    if quest:
        budgets = {s: float(s.split("_", 1)[1]) for s in quest}
        for eps, color in zip(sorted(table.eps.unique()), c.ordered_colors(3)):
            d = table[(table.eps == eps) & table.search.isin(quest)].copy()
            d["budget"] = d.search.map(budgets)
            d = d.sort_values("budget")
            axes[2].plot(d.budget, d.violation_fraction, marker="o", ms=3, color=color,
                         label=c.eps_label(eps))
            for _, row in d.iterrows():
                print(f"certified_llm: {row.search} eps = {eps:g}: violations "
                      f"{row.violation_fraction:.3f}, kept/n {row.kept_over_n_mean:.3f}")
        axes[2].set_xscale("log", base=2)
        axes[2].set_xlabel("Quest token budget")
        axes[2].set_ylabel(r"rows with $\tau > \varepsilon$")
        axes[2].legend(fontsize=6, frameon=False)
    for ax, letter in zip(axes, "abc"):
        c.panel_label(ax, f"({letter})")
    for _, row in table.iterrows():
        print(f"certified_llm: {row.search:18s} eps = {row.eps:<5g} scored/n "
              f"{row.scored_over_n_mean:.3f} kept/n {row.kept_over_n_mean:.3f} "
              f"k/n {row.k_over_n_mean:.3f} bytes {row.bytes_over_dense_mean:.3f} "
              f"violations {row.violation_fraction:.3f}")
    c.save(fig, args)


if __name__ == "__main__":
    main()
