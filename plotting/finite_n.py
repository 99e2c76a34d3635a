"""Figure finite_n: Monte Carlo k_eps/n, the asymptotic rule and tvk's finite-n predictor.

Reads results/finite_n.h5 (configs/paper/finite_n.yaml). Gaussian points only: one column of
panels per eps; top: Monte Carlo mean k_eps/n against sigma (one colour per n, 95% confidence
band), the asymptotic rule Phi_c(sigma + Phi^{-1}(eps)) (black dashed, column rule_k_over_n) and,
where the tvk binary has the `rule` verb, its finite-n prediction at each (sigma, n, eps)
(`tvk rule --model gaussian sigma=S --n N --eps E --json` -> "finite_n"; same colour, dotted,
open markers); bottom: relative error (prediction - Monte Carlo) / Monte Carlo, with the +-5% target
band. Without the verb the figure shows Monte Carlo and the rule only and says so in the legend.

The predictor is a cheap closed-form evaluation, not a sweep: the figure still reruns no Monte
Carlo. The binary is $TVK (default build/tvk). Exits 3 (make_figures.sh: SKIPPED) when
results/finite_n.h5 does not exist and configs/paper/finite_n.yaml does not exist either.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import common as c

TARGET = 0.05  # the finite-n predictor's target worst relative error (THEORY §4)


def tvk_binary() -> Path:
    return Path(os.environ.get("TVK", c.ROOT / "build" / "tvk"))


def has_rule_verb(tvk: Path) -> bool:
    if not tvk.exists():
        return False
    try:
        out = subprocess.run([str(tvk), "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.split()[:1] == ["rule"] for line in out.stdout.splitlines())


def predict(tvk: Path, sigma: float, n: int, eps: float):
    """tvk rule's JSON for one point, or None (with a warning) when the call fails."""
    cmd = [str(tvk), "rule", "--model", "gaussian", f"sigma={sigma:.17g}", "--n", str(n),
           "--eps", f"{eps:.17g}", "--json"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip() or f"exit {out.returncode}")
        return json.loads(out.stdout)
    except (OSError, subprocess.TimeoutExpired, RuntimeError, json.JSONDecodeError) as err:
        print(f"finite_n: warning: `{' '.join(cmd)}` failed: {err}", file=sys.stderr)
        return None


def main():
    args = c.setup("finite_n", __doc__)
    path = args.results / "finite_n.h5"
    config = c.ROOT / "configs" / "paper" / "finite_n.yaml"
    if not path.exists() and not config.exists():
        print(f"finite_n: SKIPPED: {path} does not exist and neither does "
              f"{os.path.relpath(config)} (its config); nothing to plot yet")
        sys.exit(3)
    points = c.load(args, "finite_n")["points"]
    c.require(points, ["model", "sigma", "n", "eps", "k_over_n_mean", "k_over_n_sem",
                       "rule_k_over_n"], "finite_n")
    others = sorted(set(points.model) - {"gaussian"})
    if others:
        print(f"finite_n: plotting gaussian points only; not shown: {others}")
    points = points[points.model == "gaussian"].copy()
    if points.empty:
        c.die(f"{path}: no gaussian points")

    tvk = tvk_binary()
    with_predictor = has_rule_verb(tvk)
    points["finite_n"] = np.nan
    if with_predictor:
        for i, row in points.iterrows():
            answer = predict(tvk, row.sigma, int(row.n), row.eps)
            if answer is not None and answer.get("finite_n") is not None:
                points.loc[i, "finite_n"] = float(answer["finite_n"])
        print(f"finite_n: finite-n predictor from `{tvk} rule --json` at "
              f"{points.finite_n.notna().sum()} of {len(points)} points")
    else:
        print(f"finite_n: {tvk} has no `rule` verb: plotting Monte Carlo and the asymptotic "
              "rule only (no finite-n predictor)")

    eps_values = sorted(points.eps.unique())
    ns = sorted(points.n.unique())
    colors = c.ordered_colors(len(ns))
    fig, axes = plt.subplots(2, len(eps_values), figsize=(c.TWO_COLUMN, 4.3), sharex=True,
                             sharey="row", constrained_layout=True, squeeze=False,
                             gridspec_kw=dict(height_ratios=[1.5, 1]))
    worst = {"rule": (0, None), "finite_n": (0, None)}
    for j, eps in enumerate(eps_values):
        top, bottom = axes[0, j], axes[1, j]
        at = points[points.eps == eps]
        for n, color, marker in zip(ns, colors, c.MARKERS):
            d = at[at.n == n].sort_values("sigma")
            half = c.ci95(d.k_over_n_sem)
            top.fill_between(d.sigma, d.k_over_n_mean - half, d.k_over_n_mean + half,
                             color=color, alpha=0.3, lw=0)
            top.plot(d.sigma, d.k_over_n_mean, color=color, marker=marker, ms=3, lw=1.1)
            rel_rule = (d.rule_k_over_n - d.k_over_n_mean) / d.k_over_n_mean
            bottom.plot(d.sigma, rel_rule, color=color, ls="--", lw=0.9, marker=marker, ms=2.5)
            for key, rel in (("rule", rel_rule),
                             ("finite_n", (d.finite_n - d.k_over_n_mean) / d.k_over_n_mean)):
                if rel.notna().any():
                    k = int(np.nanargmax(np.abs(rel.to_numpy())))
                    if abs(rel.iloc[k]) > worst[key][0]:
                        worst[key] = (abs(rel.iloc[k]), (n, eps, d.sigma.iloc[k]))
            if d.finite_n.notna().any():
                top.plot(d.sigma, d.finite_n, color=color, ls=":", lw=1.1, marker=marker,
                         ms=3.5, mfc="white")
                bottom.plot(d.sigma, (d.finite_n - d.k_over_n_mean) / d.k_over_n_mean,
                            color=color, ls=":", lw=1.1, marker=marker, ms=3.5, mfc="white")
        rule = at[at.n == ns[-1]].sort_values("sigma")
        top.plot(rule.sigma, rule.rule_k_over_n, color="black", ls="--", lw=1.1, zorder=4)
        top.set_yscale("log")
        c.panel_label(top, f"({'abcdef'[j]}) " + c.eps_label(eps))
        bottom.axhspan(-TARGET, TARGET, color="grey", alpha=0.2, lw=0)
        bottom.axhline(0, color="black", lw=0.6)
        bottom.set_xlabel(r"logit standard deviation $\sigma$")
    axes[0, 0].set_ylabel(r"$k_\varepsilon/n$")
    axes[1, 0].set_ylabel("relative error\n(prediction − MC) / MC")
    lo = np.nanmin(points.rule_k_over_n.to_numpy())
    axes[0, 0].set_ylim(lo / 1.5, 1.2)
    rel_all = np.concatenate([((points[col] - points.k_over_n_mean) / points.k_over_n_mean)
                              .to_numpy() for col in ("rule_k_over_n", "finite_n")])
    axes[1, 0].set_ylim(min(-0.2, np.nanmin(rel_all) * 1.1), max(0.2, np.nanmax(rel_all) * 1.1))

    handles = [Line2D([], [], color=col, marker=m, ms=3, lw=1.1) for col, m in
               zip(colors, c.MARKERS)]
    labels = [f"Monte Carlo, n = {n}" for n in ns]
    handles.append(Line2D([], [], color="black", ls="--", lw=1.1))
    labels.append(r"asymptotic rule $\Phi_c(\sigma + \Phi^{-1}(\varepsilon))$"
                  " (bottom: dashed, per n)")
    if with_predictor and points.finite_n.notna().any():
        handles.append(Line2D([], [], color="grey", ls=":", marker="o", ms=3.5, mfc="white"))
        labels.append("tvk finite-n predictor (dotted, open markers, per n)")
    else:
        handles.append(Line2D([], [], lw=0))
        labels.append("finite-n predictor: not available (tvk has no `rule` verb)")
    handles.append(Line2D([], [], color="grey", alpha=0.4, lw=5))
    labels.append(rf"$\pm${TARGET:.0%} target")
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=2, frameon=False)
    for key, (value, where) in worst.items():
        if where is not None:
            n, eps, sigma = where
            print(f"finite_n: worst |relative error| of the {key.replace('_', '-')} "
                  f"prediction: {value:.1%} (n = {n}, eps = {eps:g}, sigma = {sigma:g})")
    c.save(fig, args)


if __name__ == "__main__":
    main()
