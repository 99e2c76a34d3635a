"""Figure generation: certified attention inside a generating model against uncertified baselines.

Reads results/generation_llm.h5 (python -m tvk.generation configs/generation_llm.yaml --out
results: SmolLM2-135M, M teacher-forced decode steps after P dense prefill tokens). Two panels per
prefill P (rows): (a) |delta perplexity| relative to dense and (b) mean KL(dense || method) of the
next-token distribution, both against the bytes read per decode step over dense 16-bit K+V; one
curve per method, certified points labelled with their eps, Quest's with its token budget.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

import common as c

# Curves in this order (methods absent from the file are left out).
METHODS = ["quantized8", "quantized4", "two_tier", "oracle_topk", "top_p", "quest", "streaming",
           "dense_fp16"]
CERTIFIED = {"quantized8", "quantized4", "two_tier"}


def main():
    args = c.setup("generation", __doc__)
    path = args.results / "generation_llm.h5"
    if not path.exists():
        print("generation: no results/generation_llm.h5 (python -m tvk.generation "
              "configs/generation_llm.yaml --out results writes it)", file=sys.stderr)
        sys.exit(3)
    table = c.Results(path)["generation"]
    c.require(table, ["method", "param", "prefill", "delta_ppl_rel", "kl_mean",
                      "bytes_over_dense_mean"], "generation")
    prefills = sorted(table.prefill.unique())
    fig, axes = plt.subplots(len(prefills), 2, figsize=(c.TWO_COLUMN, 2.4 * len(prefills)),
                             squeeze=False)
    floor = 1e-8  # zero changes (a method that equals dense) sit on the log axis' floor
    for row, prefill in enumerate(prefills):
        at = table[table.prefill == prefill]
        for col, (metric, label) in enumerate([("delta_ppl_rel", "|Δ perplexity| / dense"),
                                               ("kl_mean", "mean KL(dense ‖ method)")]):
            ax = axes[row, col]
            for i, method in enumerate(m for m in METHODS if m in set(at.method)):
                points = at[at.method == method].sort_values("bytes_over_dense_mean")
                y = np.maximum(np.abs(points[metric].to_numpy()), floor)
                ax.plot(points.bytes_over_dense_mean, y, marker=c.MARKERS[i % len(c.MARKERS)],
                        color=c.OKABE_ITO[i % len(c.OKABE_ITO)], label=method,
                        linestyle="-" if method in CERTIFIED else "--")
                if method in CERTIFIED or method == "quest":
                    for x, yy, p in zip(points.bytes_over_dense_mean, y, points.param):
                        text = f"ε={p:g}" if method in CERTIFIED else f"{p:g}"
                        ax.annotate(text, (x, yy), fontsize=5, xytext=(2, 2), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("bytes per decode step / dense 16-bit K+V")
            ax.set_ylabel(label)
            ax.set_title(f"P = {prefill}")
            c.panel_label(ax, "ab"[col] if len(prefills) == 1 else f"{'ab'[col]}{row + 1}")
    axes[0, 1].legend(loc="best")
    fig.tight_layout()
    c.save(fig, args)


if __name__ == "__main__":
    main()
