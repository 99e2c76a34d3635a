"""Figure output_error: the exact output error of a certified selection against its bounds.

Reads the two certified-search results files (rows tables kept):
  results/certified_search.h5 (configs/paper/certified_search.yaml): all-MiniLM-L6-v2, every
      layer and head, n = 128 and 256;
  results/output_error.h5 (configs/paper/output_error.yaml): synthetic clustered and positional
      q/K/V rows, n = 1024.
For a kept set K (the keys a search keeps), Attn - Attn_K = tau(K) (mu_T - mu_K) (THEORY §3, O1).
(a), (b) Per row (one query row x search x eps): exact ||Attn - Attn_K||_2 against the output
    certificate (certified bound on tau x a tail radius from scored values and value summaries:
    what a deployed search can compute), log-log with y = x; every point must lie on or above it.
    A random subsample per search is drawn (same count per search); rows with zero error (K = every
    key) cannot be drawn on log axes and are counted in the log.
(c) The ratio bound / exact error for the certificate and the oracle bounds O2 (head-tail
    diameter), O3 (head-centred radius), O4 (variance) and O5 (2 tau max ||v||), which use the true
    tau and every value. The results keep these ratios only as medians over the rows of each point
    (MiniLM: layer x n x search x eps; synthetic: family x search x eps), so each box is the spread
    of those per-point medians.
B5 is left out: it keeps every key it scores, so on MiniLM almost every B5 row has zero error.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import common as c

# search -> (label, colour, marker), as in certified_search.py
SEARCHES = {
    "mc_clusters": ("MC-Search, 16 k-means cells", "#0072B2", "o"),
    "mc_clusters64": ("MC-Search, 64 k-means cells", "#56B4E9", "s"),
    "mc_blocks": ("MC-Search, position blocks of 16", "#009E73", "^"),
    "delta_k": (r"$\Delta k$-Search, B2, $\Delta k = 8$", "#CC79A7", "v"),
}
LEFT_OUT = {"b5"}
# ratio column prefix -> tick label
BOUNDS = {
    "certificate": "output\ncert.",
    "o2": "O2\ndiam.",
    "o3": "O3\nradius",
    "o4": "O4\nvar.",
    "o5": "O5\ngeneric",
}
SOURCES = {"MiniLM (n = 128, 256)": "#555555", "synthetic (n = 1024)": "#E69F00"}
PER_SEARCH = 1500  # rows drawn per search in the scatter panels
LIMITS = (1e-6, 3.0)


def scatter(ax, rows, title, rng):
    """Exact error against the certificate, one colour per search; returns summary numbers."""
    rows = rows[~rows.search.isin(LEFT_OUT)]
    invalid = rows[rows.exact_error > rows.certificate]
    if len(invalid):
        c.die(f"output_error: {len(invalid)} rows with exact error above the certificate ({title})")
    zero = int((rows.exact_error == 0).sum())
    nonzero = rows[rows.exact_error > 0]
    below = int((nonzero.exact_error < LIMITS[0]).sum())
    searches = [s for s in SEARCHES if s in set(nonzero.search)]
    for s in searches:
        d = nonzero[nonzero.search == s]
        pick = d.iloc[rng.choice(len(d), size=min(PER_SEARCH, len(d)), replace=False)]
        _, color, marker = SEARCHES[s]
        ax.scatter(pick.exact_error, pick.certificate, s=3, marker=marker, color=color,
                   alpha=0.35, lw=0, rasterized=True)
    line = np.array(LIMITS)
    ax.plot(line, line, color="black", lw=1.0, zorder=5)
    for factor in (10, 100):
        ax.plot(line, factor * line, color="grey", lw=0.6, ls=":", zorder=4)
        ax.text(2.5e-6, factor * 2.5e-6 * 1.3, f"y = {factor}x", fontsize=6, color="grey",
                rotation=45, rotation_mode="anchor", ha="left", va="bottom")
    # Below the diagonal no row can be: the label goes there.
    ax.text(1e-3, 1e-3 / 1.6, "y = x", fontsize=6.5, rotation=45, rotation_mode="anchor",
            ha="center", va="top")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*LIMITS)
    ax.set_ylim(*LIMITS)
    ax.set_aspect("equal")
    ax.set_xlabel("exact error ‖Attn − Attn$_K$‖$_2$")
    c.panel_label(ax, title)
    ratio = nonzero.certificate / nonzero.exact_error
    medians = ratio.groupby(nonzero.search).median()
    return {"rows": len(rows), "zero": zero, "below": below, "medians": medians,
            "searches": searches}


def ratio_boxes(ax, tables):
    """Box per (bound, source) of the per-point median ratios bound / exact."""
    width = 0.36
    stats = {}
    for i, (source, color) in enumerate(SOURCES.items()):
        points = tables[source]
        points = points[~points.search.isin(LEFT_OUT)]
        data, positions = [], []
        for j, b in enumerate(BOUNDS):
            values = points[f"{b}_ratio_median"].dropna().to_numpy()
            data.append(values)
            positions.append(j + (i - 0.5) * width * 1.1)
            stats[(source, b)] = (np.median(values), values.min(), values.max(), len(values))
        ax.boxplot(data, positions=positions, widths=width, whis=(5, 95), showfliers=True,
                   patch_artist=True, manage_ticks=False,
                   boxprops=dict(facecolor=color, alpha=0.35, edgecolor=color, lw=0.8),
                   medianprops=dict(color=color, lw=1.6),
                   whiskerprops=dict(color=color, lw=0.8), capprops=dict(color=color, lw=0.8),
                   flierprops=dict(marker=".", ms=2.5, mfc=color, mec="none", alpha=0.6))
    ax.axhline(1.0, color="black", lw=1.0)
    ax.text(len(BOUNDS) - 0.45, 1.08, "= exact", fontsize=6.5, ha="right", va="bottom")
    ax.set_yscale("log")
    ax.set_xticks(range(len(BOUNDS)))
    ax.set_xticklabels(BOUNDS.values(), fontsize=6.5)
    ax.set_xlim(-0.6, len(BOUNDS) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("bound / exact error\n(median over the rows of a point)")
    c.panel_label(ax, "(c) tightness of each bound")
    ax.legend(handles=[Patch(facecolor=col, alpha=0.5, edgecolor=col, label=src)
                       for src, col in SOURCES.items()],
              loc="upper left", fontsize=6.5, handlelength=1.2)
    return stats


def main():
    args = c.setup("output_error", __doc__)
    bert = c.load(args, "certified_search")
    synthetic = c.load(args, "output_error")
    needed = ["search", "eps", "exact_error", "certificate"]
    c.require(bert["rows"], needed, "certified_search rows table")
    c.require(synthetic["rows"], needed, "output_error rows table")
    ratio_columns = [f"{b}_ratio_median" for b in BOUNDS]
    c.require(bert["points"], ratio_columns, "certified_search points table")
    c.require(synthetic["points"], ratio_columns, "output_error points table")
    if bert["rows"].exact_error.isna().all() or synthetic["rows"].exact_error.isna().all():
        c.die("output_error: no exact errors in the rows table: the run needs output_error: true")

    fig = plt.figure(figsize=(c.TWO_COLUMN, 2.75), constrained_layout=True)
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.0, 1.25])
    ax_b, ax_s, ax_r = (fig.add_subplot(grid[0, i]) for i in range(3))
    rng = np.random.default_rng(7)
    b = scatter(ax_b, bert["rows"], "(a) MiniLM rows", rng)
    s = scatter(ax_s, synthetic["rows"], "(b) synthetic rows", rng)
    ax_b.set_ylabel("output certificate")
    ax_s.tick_params(labelleft=False)
    stats = ratio_boxes(ax_r, {"MiniLM (n = 128, 256)": bert["points"],
                               "synthetic (n = 1024)": synthetic["points"]})
    for ax, info in ((ax_b, b), (ax_s, s)):
        ax.text(0.97, 0.03, f"{info['rows']:,} rows;\n≤ {PER_SEARCH} per\nsearch drawn",
                transform=ax.transAxes, fontsize=6, color="dimgrey", ha="right", va="bottom")

    searches = [x for x in SEARCHES if x in set(b["searches"]) | set(s["searches"])]
    handles = [Line2D([], [], ls="none", marker=SEARCHES[x][2], color=SEARCHES[x][1], ms=4,
                      label=SEARCHES[x][0]) for x in searches]
    handles.append(Line2D([], [], color="black", lw=1.0, label="bound = exact error (y = x)"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
               frameon=False)

    for name, info in (("MiniLM", b), ("synthetic", s)):
        print(f"output_error: {name}: {info['rows']} rows (B5 left out), certificate >= exact on "
              f"all; {info['zero']} with zero error (not drawn), {info['below']} below "
              f"{LIMITS[0]:g}; median certificate / exact by search: "
              + ", ".join(f"{k} {v:.2f}" for k, v in info["medians"].items()))
    for (source, bound), (med, lo, hi, count) in stats.items():
        print(f"output_error: {source}: {bound} ratio, median of {count} point medians "
              f"{med:.2f} (range {lo:.2f}-{hi:.2f})")
    c.save(fig, args)


if __name__ == "__main__":
    main()
