"""Figure keps_vs_sigma: minimal certified k_eps/n of Gaussian rows against sigma.

Reads results/keps_vs_sigma.h5 (configs/paper/keps_vs_sigma.yaml). One panel per eps; one colour
per n: Monte Carlo mean k_eps/n with its 95% confidence band (mean +- 1.96 sem) and the 5-95%
row quantiles as whiskers at every other sigma; the paper's asymptotic rule
Phi_c(sigma + Phi^{-1}(eps)) in black (column rule_k_over_n). The dotted floor is k = 1 (k/n = 1/n).
"""

import matplotlib.pyplot as plt
import numpy as np

import common as c


def main():
    args = c.setup("keps_vs_sigma", __doc__)
    points = c.load(args, "keps_vs_sigma")["points"]
    c.require(points, ["sigma", "n", "eps", "k_over_n_mean", "k_over_n_sem", "k_over_n_q05",
                       "k_over_n_q95", "rule_k_over_n"], "keps_vs_sigma")
    points = points[points.model == "gaussian"]
    eps_values = sorted(points.eps.unique())
    ns = sorted(points.n.unique())
    colors = c.ordered_colors(len(ns))
    markers = ["o", "s", "^", "D", "v"]

    fig, axes = plt.subplots(1, len(eps_values), figsize=(c.TWO_COLUMN, 2.6), sharey=True,
                             constrained_layout=True, squeeze=False)
    axes = axes[0]
    worst = []
    for ax, eps, letter in zip(axes, eps_values, "abcdef"):
        at_eps = points[points.eps == eps]
        for n, color, marker in zip(ns, colors, markers):
            d = at_eps[at_eps.n == n].sort_values("sigma")
            half = c.ci95(d.k_over_n_sem)
            ax.fill_between(d.sigma, d.k_over_n_mean - half, d.k_over_n_mean + half,
                            color=color, alpha=0.3, lw=0)
            ax.plot(d.sigma, d.k_over_n_mean, color=color, marker=marker, ms=2.5, lw=1.0,
                    label=f"Monte Carlo, n = {n}")
            # 5-95% of rows: every other sigma, offset by n so whiskers do not overlap.
            w = d.iloc[::2]
            shift = (ns.index(n) - (len(ns) - 1) / 2) * 0.06
            ax.vlines(w.sigma + shift, w.k_over_n_q05, w.k_over_n_q95, color=color, lw=0.6,
                      alpha=0.8)
            ax.axhline(1.0 / n, color=color, lw=0.6, ls=":", zorder=0)
            rel = (d.rule_k_over_n - d.k_over_n_mean).abs() / d.k_over_n_mean
            i = int(np.argmax(rel.to_numpy()))
            worst.append((rel.iloc[i], n, eps, d.sigma.iloc[i], d.k_over_n_mean.iloc[i],
                          d.rule_k_over_n.iloc[i]))
        rule = at_eps[at_eps.n == ns[-1]].sort_values("sigma")
        ax.plot(rule.sigma, rule.rule_k_over_n, color="black", lw=1.1, ls="--",
                label=r"rule $\Phi_c(\sigma + \Phi^{-1}(\varepsilon))$", zorder=4)
        ax.set_yscale("log")
        ax.set_xlabel(r"logit standard deviation $\sigma$")
        ax.set_xlim(0, points.sigma.max() + 0.15)
        c.panel_label(ax, f"({letter}) " + c.eps_label(eps))
    axes[0].set_ylabel(r"minimal certified $k_\varepsilon/n$")
    lo = min(1.0 / ns[-1], np.nanmin(points.rule_k_over_n.to_numpy()))
    axes[0].set_ylim(lo / 1.5, 1.4)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D
    handles += [Line2D([], [], color="grey", lw=0.6), Line2D([], [], color="grey", lw=0.6, ls=":")]
    labels += ["5-95% of rows", r"floor $k = 1$"]
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=(len(handles) + 1) // 2, frameon=False)
    worst.sort(reverse=True)
    for rel, n, eps, sigma, mean, rule in worst[:3]:
        print(f"keps_vs_sigma: rule off by {rel:.0%} at n = {n}, eps = {eps:g}, sigma = {sigma:g}"
              f" (Monte Carlo {mean:.4f}, rule {rule:.4f})")
    c.save(fig, args)


if __name__ == "__main__":
    main()
