"""What one run of a method is worth against the dense run at the same prefill: perplexity, the
next-token distributions' KL and top-1 agreement (both teacher-forced on the same tokens), bytes
read, keys scored and kept, and whether every certificate held."""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """(steps, vocab) float64 log-probabilities of float32 logits."""
    x = logits.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def perplexity(logp: np.ndarray, targets: np.ndarray) -> float:
    return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))


def compare(logp: np.ndarray, dense_logp: np.ndarray, targets: np.ndarray, dense_ppl: float,
            stats: dict, certified: bool) -> dict:
    """One results row's metrics. stats: hook.StepRecorder.stats, arrays (steps, layers, heads)."""
    kl = (np.exp(dense_logp) * (dense_logp - logp)).sum(axis=1)  # KL(dense || method) per step
    ppl = perplexity(logp, targets)
    n = stats["n"]
    row = {
        "ppl": ppl,
        "delta_ppl_rel": ppl / dense_ppl - 1.0,
        "kl_mean": float(kl.mean()),
        "kl_p95": float(np.percentile(kl, 95)),
        "kl_max": float(kl.max()),
        "top1_agreement": float((logp.argmax(axis=1) == dense_logp.argmax(axis=1)).mean()),
        # Per step: the bytes of every selected layer and head over their dense 16-bit K+V.
        "bytes_over_dense_mean": float((stats["bytes"].sum(axis=(1, 2)) /
                                        stats["dense_bytes"].sum(axis=(1, 2))).mean()),
        "scored_over_n_mean": float((stats["scored"] / n).mean()),
        "kept_over_n_mean": float((stats["kept"] / n).mean()),
        "n_mean": float(n.mean()),
        "certificate_valid": np.nan,
        "output_bound_valid": np.nan,
        "tau_bound_mean": np.nan,
        "true_tau_mean": np.nan,
        "output_error_over_bound_max": np.nan,
        "head_steps": int(n.size),
    }
    if certified and not np.isnan(stats["true_tau"]).all():
        true_tau, tau_bound = stats["true_tau"], stats["tau_bound"]
        error, bound = stats["output_error"], stats["output_bound"]
        row.update(certificate_valid=float((true_tau <= tau_bound).mean()),
                   output_bound_valid=float((error <= bound).mean()),
                   tau_bound_mean=float(tau_bound.mean()), true_tau_mean=float(true_tau.mean()),
                   output_error_over_bound_max=float(np.max(error / np.maximum(bound, 1e-300))))
    elif certified:
        row.update(tau_bound_mean=float(stats["tau_bound"].mean()))
    return row


def per_layer_output_check(stats: dict, layers: list[int]) -> list[dict]:
    """Per layer of a certified run: the fraction of (step, head) whose output bound held and the
    largest measured error over its bound (the issue's 'measured output error against the output
    certificate, per layer')."""
    out = []
    for i, layer in enumerate(layers):
        error, bound = stats["output_error"][:, i], stats["output_bound"][:, i]
        out.append({"layer": layer, "output_bound_valid": float((error <= bound).mean()),
                    "output_error_mean": float(error.mean()), "output_bound_mean": float(bound.mean()),
                    "output_error_over_bound_max": float(np.max(error / np.maximum(bound, 1e-300)))})
    return out


def greedy_agreement(dense: np.ndarray, other: np.ndarray) -> tuple[int, float]:
    """(tokens before the first divergence, fraction of identical tokens) of two greedy continuations."""
    same = dense == other
    first = int(np.argmin(same)) if not same.all() else len(same)
    return first, float(same.mean())
