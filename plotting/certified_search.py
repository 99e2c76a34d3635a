"""Figure certified_search: keys scored by the certified searches against eps, and keys kept.

Reads two results files (both `kind: certified`, rows table kept):
  results/certified_search.h5 (configs/paper/certified_search.yaml): every layer and head of the
      all-MiniLM-L6-v2 store at n = 128 and n = 256 (panels a, b);
  results/output_error.h5 (configs/paper/output_error.yaml): synthetic q/K/V rows, n = 1024,
      clustered keys and positional locality (panels c, d).
Per search, the mean scored keys / n (solid, markers) and kept keys / n (dashed) against eps (log
axis), with the exact minimal k_eps / n of the full row (black) as the floor no kept set can beat
and n (scored/n = 1, dense attention) as the ceiling. Bands: 95% intervals over key sets (a key
set's queries share its keys, so rows are not independent). Delta-k-Search scores every key
(scored/n = 1) and B5 keeps every key it scores (kept = scored), so each has one line. The legend
reports the fraction of searches whose certificate held (true tau(K) <= certified bound <= eps):
it must be 1.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import common as c

# search -> (label, colour, marker)
SEARCHES = {
    "mc_clusters": ("MC-Search, 16 k-means cells", "#0072B2", "o"),
    "mc_clusters64": ("MC-Search, 64 k-means cells", "#56B4E9", "s"),
    "mc_blocks": ("MC-Search, position blocks of 16", "#009E73", "^"),
    "b5": ("B5, blocks of 16 (kept = scored)", "#D55E00", "D"),
    "delta_k": (r"$\Delta k$-Search, B2, $\Delta k = 8$ (scores all)", "#CC79A7", "v"),
}
# The anchor THEORY §6 quotes for bert-base-uncased (MC-Search, eps = 0.01): kept keys of n.
ANCHOR_EPS = 0.01
ANCHOR_KEPT = {128: 58.8, 256: 107.8}
FAMILIES = {"clustered": "clustered keys", "positional": "positional keys"}


def key_set_stats(rows, keys, column):
    """Mean of column/n per (search, eps) and the 95% half-width over key-set means."""
    ratio = rows[column] / rows["n"]
    per_set = ratio.groupby([rows.search, rows.eps] + [rows[k] for k in keys]).mean()
    grouped = per_set.groupby(level=["search", "eps"])
    mean = grouped.mean()
    half = grouped.std(ddof=1) / np.sqrt(grouped.count())
    return mean, half.fillna(0.0) * c.ci95(1.0)


def draw(ax, rows, keys, table, searches, title):
    """One panel: scored/n and kept/n per search, exact k_eps/n, from the rows of one n/family."""
    scored, scored_half = key_set_stats(rows, keys, "scored")
    kept, kept_half = key_set_stats(rows, keys, "kept")
    exact, exact_half = key_set_stats(rows, keys, "k_eps")
    # Cross-check against the run's own aggregate table.
    for s in searches:
        t = table[table.search == s].sort_values("eps")
        if not np.allclose(t.scored_over_n_mean.to_numpy(), scored.loc[s].to_numpy(), rtol=1e-9) \
                or not np.allclose(t.kept_over_n_mean.to_numpy(), kept.loc[s].to_numpy(),
                                   rtol=1e-9):
            c.die(f"certified_search: rows and points tables disagree for {s} ({title})")
    first = searches[0]
    eps = exact.loc[first].index.to_numpy()
    ax.axhline(1.0, color="grey", lw=0.8, ls=":", zorder=0)
    k_line = exact.loc[first].to_numpy()
    ax.fill_between(eps, k_line - exact_half.loc[first], k_line + exact_half.loc[first],
                    color="black", alpha=0.15, lw=0)
    ax.plot(eps, k_line, color="black", lw=1.8, zorder=6)
    for s in searches:
        _, color, marker = SEARCHES[s]
        if s != "delta_k":  # Delta-k-Search scores every key: its scored line is the n line
            m, h = scored.loc[s].to_numpy(), scored_half.loc[s].to_numpy()
            ax.fill_between(eps, m - h, m + h, color=color, alpha=0.12, lw=0)
            ax.plot(eps, m, color=color, marker=marker, ms=3.2, lw=1.2, zorder=4)
        if s != "b5":  # B5 keeps what it scores
            m, h = kept.loc[s].to_numpy(), kept_half.loc[s].to_numpy()
            ax.fill_between(eps, m - h, m + h, color=color, alpha=0.12, lw=0)
            ax.plot(eps, m, color=color, ls="--", lw=1.1, marker=marker, ms=3.2,
                    mfc="white", zorder=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"TV budget $\varepsilon$")
    c.panel_label(ax, title)
    return exact.loc[first]


def main():
    args = c.setup("certified_search", __doc__)
    bert = c.load(args, "certified_search")
    synthetic = c.load(args, "output_error")
    needed = ["search", "eps", "n", "scored", "kept", "k_eps", "valid"]
    c.require(bert["rows"], needed + ["layer", "head", "sequence"], "certified_search rows table")
    c.require(synthetic["rows"], needed + ["point", "key_set"], "output_error rows table")
    brows, bpooled = bert["rows"], bert["pooled"]
    srows, spoints = synthetic["rows"], synthetic["points"]
    searches = [s for s in SEARCHES if s in set(brows.search) | set(srows.search)]
    unknown = sorted((set(brows.search) | set(srows.search)) - set(SEARCHES))
    if unknown:
        print(f"certified_search: not plotted (no style yet): {unknown}")

    ns = sorted(n for n in brows.n.unique() if n in (128, 256)) or sorted(brows.n.unique())[-2:]
    families = [f for f in FAMILIES if f in set(spoints.family)]
    panels = len(ns) + len(families)
    fig, axes = plt.subplots(1, panels, figsize=(c.TWO_COLUMN, 2.55), constrained_layout=True,
                             squeeze=False)
    axes = axes[0]
    # MiniLM panels share one y range, synthetic panels another (both log).
    for ax in axes[1:len(ns)]:
        ax.sharey(axes[0])
    for ax in axes[len(ns) + 1:]:
        ax.sharey(axes[len(ns)])
    letters = iter("abcdefgh")
    for ax, n in zip(axes, ns):
        rows = brows[brows.n == n]
        present = [s for s in searches if s in set(rows.search)]
        layers, heads = rows["layer"].nunique(), rows["head"].nunique()
        k = draw(ax, rows, ["layer", "head", "sequence"], bpooled[bpooled.n == n], present,
                 f"({next(letters)}) MiniLM, n = {n}")
        ax.text(0.03, 0.03, f"{layers} layers × {heads} heads,\n{n} queries each",
                transform=ax.transAxes,
                fontsize=6.5, color="dimgrey", va="bottom")
        if n in ANCHOR_KEPT:
            ax.plot([ANCHOR_EPS], [ANCHOR_KEPT[n] / n], ls="none", marker="*", ms=7,
                    mfc="none", mec="dimgrey", mew=0.8, zorder=7)
        for s in present:
            t = bpooled[(bpooled.n == n) & (bpooled.search == s)].set_index("eps")
            print(f"certified_search: MiniLM n = {n}, {s}: scored/n "
                  + ", ".join(f"{e:g}: {t.scored_over_n_mean[e]:.3f}" for e in t.index)
                  + "; kept " + ", ".join(f"{t.kept_mean[e]:.1f}" for e in t.index))
        print(f"certified_search: MiniLM n = {n}: exact k_eps/n "
              + ", ".join(f"{e:g}: {v:.3f}" for e, v in k.items()))
    for ax, family in zip(axes[len(ns):], families):
        point = spoints[spoints.family == family]
        pids = point.point.unique()
        if len(pids) != 1:
            c.die(f"certified_search: expected one {family} grid point, found {len(pids)}")
        rows = srows[srows.point == pids[0]]
        present = [s for s in searches if s in set(rows.search)]
        p = point.iloc[0]
        k = draw(ax, rows, ["point", "key_set"], point, present,
                 f"({next(letters)}) {FAMILIES[family]}")
        ax.text(0.03, 0.03, f"n = {int(p.n)}, {rows.row.nunique()} queries",
                transform=ax.transAxes, fontsize=6.5, color="dimgrey", va="bottom")
        for s in present:
            t = point[point.search == s].set_index("eps")
            print(f"certified_search: {family}, {s}: scored/n "
                  + ", ".join(f"{e:g}: {t.scored_over_n_mean[e]:.3f}" for e in t.index)
                  + "; kept/n " + ", ".join(f"{t.kept_over_n_mean[e]:.3f}" for e in t.index)
                  + f"; certified (no dense fallback) {t.certified_fraction.min():.2f}–"
                  f"{t.certified_fraction.max():.2f}")
        print(f"certified_search: {family}: exact k_eps/n "
              + ", ".join(f"{e:g}: {v:.3f}" for e, v in k.items()))
    for i, ax in enumerate(axes):
        ax.set_xlim(0.0007, 0.14)
        if i in (0, len(ns)):
            ax.set_ylabel("keys / n")
        else:
            ax.tick_params(labelleft=False)
    axes[0].set_ylim(0.25, 1.12)
    if families:
        axes[len(ns)].set_ylim(0.02, 1.25)
    for ax in axes[:len(ns)]:
        ax.set_yticks([0.3, 0.4, 0.6, 0.8, 1.0])
        ax.set_yticklabels(["0.3", "0.4", "0.6", "0.8", "1"])
        ax.yaxis.set_minor_formatter(plt.NullFormatter())

    # Legend: one entry per search (its colour and marker), then what solid/dashed mean.
    valid = np.concatenate([brows.valid.to_numpy(), srows.valid.to_numpy()])
    total = len(valid)
    held = valid.mean()
    handles = [Line2D([], [], color=SEARCHES[s][1], marker=SEARCHES[s][2], ms=3.2, lw=1.2,
                      label=SEARCHES[s][0]) for s in searches]
    handles += [
        Line2D([], [], color="black", lw=1.8, label=r"exact $k_\varepsilon/n$ (full row)"),
        Line2D([], [], color="dimgrey", lw=1.2, marker="o", ms=3.2, label="scored keys / n"),
        Line2D([], [], color="dimgrey", lw=1.1, ls="--", marker="o", ms=3.2, mfc="white",
               label="kept keys / n"),
        Line2D([], [], color="grey", lw=0.8, ls=":", label="n: dense attention"),
        Line2D([], [], ls="none", marker="*", ms=7, mfc="none", mec="dimgrey", mew=0.8,
               label=rf"MC kept/n reported, bert-base, $\varepsilon = {ANCHOR_EPS:g}$"),
    ]
    legend = fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
                        frameon=False,
                        title="certificate held (true τ(K) ≤ certified bound ≤ ε): "
                              + (f"on all {total:,} searches (fraction 1)" if held == 1.0 else
                                 f"fraction {held:.6f} of {total:,} searches"))
    legend.get_title().set_fontsize(7)
    print(f"certified_search: certificate held on {held:.6f} of {total} searches "
          f"(MiniLM {brows.valid.mean():.6f} of {len(brows)}, "
          f"synthetic {srows.valid.mean():.6f} of {len(srows)})")
    c.save(fig, args)


if __name__ == "__main__":
    main()
