"""Figure tv_vs_k: mean tail mass tau_k = TV(P, P^_k) against k/n for Gaussian logits.

Reads results/tv_vs_k.h5 (configs/paper/tv_vs_k.yaml). Monte Carlo mean tau_k at each k/n of
the config's k_grid with its 95% confidence band (mean +- 1.96 sem), next to the asymptotic
tau_inf(k/n) = Phi(Phi_c^{-1}(k/n) - sigma) stored beside it, one colour per sigma.
(a) linear axes at the largest n; (b) log tau axis, both n, where the finite-n gap shows.
"""

import re

import matplotlib.pyplot as plt
import numpy as np

import common as c


def profile(row, grid):
    mean = np.array([row[f"tau_mean_at_{r}"] for r in grid])
    sem = np.array([row[f"tau_sem_at_{r}"] for r in grid])
    inf = np.array([row[f"tau_inf_at_{r}"] for r in grid])
    return mean, sem, inf


def main():
    args = c.setup("tv_vs_k", __doc__)
    points = c.load(args, "tv_vs_k")["points"]
    grid_names = [m.group(1) for col in points.columns
                  if (m := re.fullmatch(r"tau_mean_at_(.+)", col))]
    if not grid_names:
        c.die("tv_vs_k: no tau_mean_at_R columns (the config needs a k_grid)")
    grid = np.array([float(r) for r in grid_names])
    order = np.argsort(grid)
    grid, grid_names = grid[order], [grid_names[i] for i in order]

    points = points[points.model == "gaussian"]
    eps0 = points.eps.unique()[0]  # tau_k does not depend on eps: one row per grid point
    points = points[points.eps == eps0]
    sigmas = sorted(points.sigma.unique())
    ns = sorted(points.n.unique())
    n_big, n_small = ns[-1], ns[0]
    colors = c.ordered_colors(len(sigmas))

    fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(c.TWO_COLUMN, 2.7),
                                         constrained_layout=True)
    for sigma, color in zip(sigmas, colors):
        for n in ns:
            row = points[(points.sigma == sigma) & (points.n == n)].iloc[0]
            mean, sem, inf = profile(row, grid_names)
            # k = round(R n) clamped to [1, n]: plot at the k/n actually used.
            k_over_n = np.clip(np.round(grid * n), 1, n) / n
            half = c.ci95(sem)
            big = n == n_big
            axes = [ax_lin, ax_log] if big else [ax_log]
            for ax in axes:
                style = dict(color=color, lw=1.3 if big else 1.0,
                             ls="-" if big else (0, (1, 1)))
                ax.fill_between(k_over_n, np.maximum(mean - half, 1e-300), mean + half,
                                color=color, alpha=0.25, lw=0)
                ax.plot(k_over_n, mean,
                        label=rf"$\sigma = {sigma:g}$" if big and ax is ax_lin else None,
                        **style)
            if big:
                for ax in (ax_lin, ax_log):
                    ax.plot(k_over_n, inf, color="black", lw=0.8, ls="--", zorder=3)

    for ax in (ax_lin, ax_log):
        ax.set_xlabel(r"kept fraction $k/n$")
        ax.set_ylabel(r"tail mass $\tau_k = \mathrm{TV}(P, \hat P_k)$")
    ax_lin.set_xlim(0, 1)
    ax_lin.set_ylim(0, 1)
    c.panel_label(ax_lin, f"(a) n = {n_big}")
    ax_log.set_yscale("log")
    finite = points[[f"tau_mean_at_{r}" for r in grid_names]].to_numpy()
    ax_log.set_ylim(max(np.nanmin(finite[finite > 0]) / 3, 1e-12), 1.5)
    ax_log.set_xlim(0, 1)
    c.panel_label(ax_log, f"(b) log scale: n = {n_big} (solid), n = {n_small} (dotted)")

    # Legend: sigma colours, then line meanings, outside the data on the right of (a).
    from matplotlib.lines import Line2D
    handles, labels = ax_lin.get_legend_handles_labels()
    handles += [Line2D([], [], color="black", ls="--", lw=0.8),
                Line2D([], [], color="grey", lw=1.3),
                Line2D([], [], color="grey", ls=(0, (1, 1)))]
    labels += [r"$\tau_\infty(k/n) = \Phi(\Phi_c^{-1}(k/n) - \sigma)$",
               f"Monte Carlo, n = {n_big} (95% CI band)",
               f"Monte Carlo, n = {n_small}"]
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
               frameon=False)
    rows = int(points.rows.iloc[0])
    print(f"tv_vs_k: {len(sigmas)} sigma x {len(ns)} n, {rows} rows per point, "
          f"{len(grid)} k/n values")
    for n in ns:
        gap = (0.0, None, None)
        for _, row in points[points.n == n].iterrows():
            mean, _, inf = profile(row, grid_names)
            i = int(np.nanargmax(np.abs(mean - inf)))
            if abs(mean[i] - inf[i]) > gap[0]:
                gap = (abs(mean[i] - inf[i]), row.sigma, grid[i], mean[i], inf[i])
        print(f"tv_vs_k: n = {n}: largest |mean tau_k - tau_inf| = {gap[0]:.3f} at sigma = "
              f"{gap[1]:g}, k/n = {gap[2]:g} (Monte Carlo {gap[3]:.3f}, tau_inf {gap[4]:.3f})")
    c.save(fig, args)


if __name__ == "__main__":
    main()
