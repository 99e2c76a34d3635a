"""Figure tv_kl: the exact TV-KL identity of Top-k truncation against generic inequalities.

Reads results/tv_kl.h5 (configs/paper/tv_kl.yaml, Gaussian rows with store_rows).
(a) For a Top-k truncation, TV(P, P^_k) = tau_k and KL(P^_k || P) = -ln(1 - tau_k), so
    TV = 1 - e^{-KL} exactly (THEORY I2); Pinsker sqrt(KL/2) and Bretagnolle-Huber
    sqrt(1 - e^{-KL}) are what a KL-only argument would give. Dots: Monte Carlo rows
    (tau at k_eps for every eps of the config), placed at KL = -ln(1 - tau).
(b) The keys a certificate costs: to guarantee TV <= eps, the identity needs tau <= eps,
    Pinsker needs KL <= 2 eps^2 (tau <= 1 - e^{-2 eps^2}), Bretagnolle-Huber needs
    1 - e^{-KL} <= eps^2 (tau <= eps^2). Mean k/n of the smallest such k, from the Monte Carlo
    columns at those tail-mass budgets (the config lists them as eps values).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import common as c


def find_eps(available, target):
    """The config's eps equal to target (to 1e-8 relative), or None."""
    for e in available:
        if c.close(e, target, 1e-8):
            return e
    return None


def main():
    args = c.setup("tv_kl", __doc__)
    results = c.load(args, "tv_kl")
    points = results["points"]
    points = points[points.model == "gaussian"].reset_index(drop=True)
    sigmas = sorted(points.sigma.unique())
    eps_all = sorted(points.eps.unique())
    colors = c.ordered_colors(len(sigmas))

    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(c.TWO_COLUMN, 2.7),
                                     constrained_layout=True)

    # (a) curves over KL, with Monte Carlo rows on the exact curve.
    kl = np.logspace(-5, 1.2, 400)
    ax_a.plot(kl, -np.expm1(-kl), color="black", lw=1.4, label=r"exact: $1 - e^{-\mathrm{KL}}$",
              zorder=3)
    ax_a.plot(kl, np.minimum(np.sqrt(kl / 2), 1), color=c.OKABE_ITO[0], lw=1.2, ls="--",
              label=r"Pinsker: $\sqrt{\mathrm{KL}/2}$")
    ax_a.plot(kl, np.sqrt(-np.expm1(-kl)), color=c.OKABE_ITO[1], lw=1.2, ls="-.",
              label=r"B–H: $\sqrt{1 - e^{-\mathrm{KL}}}$")
    if results.has("rows"):
        rows = results["rows"]
        rng = np.random.default_rng(0)  # thin the cloud for the eye only
        take = rng.choice(len(rows), size=min(len(rows), 3000), replace=False)
        tau = rows.tau.to_numpy()[take]
        tau = tau[tau > 0]
        ax_a.scatter(-np.log1p(-tau), tau, s=3, color=c.OKABE_ITO[2], alpha=0.5, lw=0,
                     zorder=4, label="Monte Carlo rows")
    ax_a.set_xscale("log")
    ax_a.set_yscale("log")
    ax_a.set_xlim(kl[0], kl[-1])
    ax_a.set_ylim(1e-5, 1.5)
    ax_a.set_xlabel(r"$\mathrm{KL}(\hat P_k \,\Vert\, P) = -\ln(1 - \tau_k)$")
    ax_a.set_ylabel(r"$\mathrm{TV}(P, \hat P_k)$ or its bound")
    ax_a.legend(loc="lower right", handlelength=2.2, markerscale=2.5)
    c.panel_label(ax_a, "(a) TV against KL")

    # (b) keys needed to certify TV <= eps by each route.
    routes = [("exact", lambda e: e, "black", "-", "o"),
              ("Pinsker", lambda e: -np.expm1(-2 * e * e), c.OKABE_ITO[0], "--", "s"),
              ("Bretagnolle–Huber", lambda e: e * e, c.OKABE_ITO[1], "-.", "^")]
    targets = [e for e in eps_all
               if all(find_eps(eps_all, f(e)) is not None for _, f, *_ in routes)]
    if not targets:
        c.die("tv_kl: the config's eps list holds no eps with both eps^2 and 1 - exp(-2 eps^2)")
    report = []
    for sigma, color in zip(sigmas, colors):
        at = points[points.sigma == sigma]
        for name, budget, _, ls, marker in routes:
            y = [at[at.eps == find_eps(eps_all, budget(e))].k_over_n_mean.iloc[0]
                 for e in targets]
            ax_b.plot(targets, y, color=color, ls=ls, marker=marker, ms=2.8, lw=1.0)
            report.append((sigma, name, dict(zip(targets, y))))
    ax_b.set_xscale("log")
    ax_b.set_xlabel(r"certified budget $\varepsilon$ on $\mathrm{TV}(P, \hat P_k)$")
    ax_b.set_ylabel(r"kept fraction $k/n$ needed")
    ax_b.set_ylim(0, 1.02)
    c.panel_label(ax_b, f"(b) keys to certify TV ≤ ε, n = {int(points.n.iloc[0])}")
    handles = [Line2D([], [], color=col, lw=1.2) for col in colors]
    labels = [rf"$\sigma = {s:g}$" for s in sigmas]
    handles += [Line2D([], [], color="grey", ls=ls, marker=m, ms=2.8) for _, _, _, ls, m in routes]
    labels += [r"exact: $\tau_k \leq \varepsilon$",
               r"Pinsker: $\tau_k \leq 1 - e^{-2\varepsilon^2}$",
               r"B–H: $\tau_k \leq \varepsilon^2$"]
    ax_b.legend(handles, labels, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)

    for sigma, name, ys in report:
        if name == "exact":
            continue
        exact = next(r[2] for r in report if r[0] == sigma and r[1] == "exact")
        e = min(ys, key=lambda t: abs(t - 0.05))
        print(f"tv_kl: sigma = {sigma:g}, eps = {e:g}: {name} needs k/n = {ys[e]:.3f} "
              f"vs exact {exact[e]:.3f} ({ys[e] / exact[e]:.2f}x the keys)")
    c.save(fig, args)


if __name__ == "__main__":
    main()
