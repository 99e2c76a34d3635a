"""Writing the results: <out>/<name>.csv (the generation table) and <out>/<name>.h5 (every table
plus provenance as root attributes, in the spirit of tvk run's results files: results/README.md).
Each file is written to <file>.tmp and renamed when complete, so a file that exists is whole."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import numpy as np

import tvk

FORMAT_VERSION = (1, 0)


def _git(*args: str) -> str:
    root = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def provenance(config, gguf: str, text_source: str, command_line: str) -> dict:
    import h5py
    import torch
    import transformers

    return {
        "filetype": "tvk-results", "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "experiment": "generation", "tvk_version": tvk.__version__,
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": int(bool(_git("status", "--porcelain", "--untracked-files=no"))),
        "config": config.text, "config_file": config.path, "command_line": command_line,
        "threads": config.threads, "kernels": tvk.kernel_set(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model_gguf": gguf, "text_source": text_source,
        "library_torch": torch.__version__, "library_transformers": transformers.__version__,
        "library_numpy": np.__version__, "library_h5py": h5py.__version__,
        "python": sys.version.split()[0],
    }


def _records(rows: list[dict]) -> np.ndarray:
    """A compound array of the rows: float64, int64 and fixed-length ASCII columns."""
    columns = list(rows[0])
    fields = []
    for c in columns:
        values = [r[c] for r in rows]
        if all(isinstance(v, str) for v in values):
            fields.append((c, f"S{max(1, max(len(v) for v in values))}"))
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            fields.append((c, np.int64))
        else:
            fields.append((c, np.float64))
    out = np.empty(len(rows), dtype=fields)
    for c, _ in fields:
        out[c] = [r[c].encode() if isinstance(r[c], str) else (np.nan if r[c] is None else r[c]) for r in rows]
    return out


def write(out_dir: str, name: str, tables: dict, attributes: dict, docs: dict) -> tuple[str, str]:
    """Writes <out_dir>/<name>.csv and .h5; returns their paths."""
    import h5py
    import pandas as pd

    os.makedirs(out_dir, exist_ok=True)
    csv, h5 = os.path.join(out_dir, name + ".csv"), os.path.join(out_dir, name + ".h5")
    with h5py.File(h5 + ".tmp", "w") as f:
        for key, value in attributes.items():
            f.attrs[key] = str(value) if isinstance(value, str) else value  # TorchVersion is a str subclass
        for table, rows in tables.items():
            if not rows:
                continue
            data = f.create_dataset(table, data=_records(rows), compression="gzip", shuffle=True)
            for column, doc in docs.items():
                if column in data.dtype.names:
                    data.attrs["doc:" + column] = doc
    os.replace(h5 + ".tmp", h5)
    pd.DataFrame(tables["generation"]).to_csv(csv + ".tmp", index=False, na_rep="")
    os.replace(csv + ".tmp", csv)
    if tables.get("greedy"):
        greedy = os.path.join(out_dir, name + "_greedy.csv")
        pd.DataFrame(tables["greedy"]).to_csv(greedy + ".tmp", index=False, na_rep="")
        os.replace(greedy + ".tmp", greedy)
    return csv, h5


DOCS = {
    "method": "attention of the selected layers' decode steps",
    "param": "the method's parameter: eps (certified, oracle_topk), token budget (quest), window (streaming), p (top_p)",
    "prefill": "P: tokens prefilled densely before the decode steps",
    "ppl": "perplexity of the M teacher-forced next tokens",
    "delta_ppl_rel": "ppl / dense ppl - 1 (same P, same tokens)",
    "kl_mean": "mean over steps of KL(dense || method) of the next-token distribution (nats)",
    "kl_p95": "95th percentile of that KL over steps", "kl_max": "its maximum over steps",
    "top1_agreement": "fraction of steps whose argmax token equals dense's",
    "bytes_over_dense_mean": "mean over steps of bytes read / dense 16-bit K+V bytes (selected layers, all heads)",
    "scored_over_n_mean": "mean over (step, layer, head) of keys scored exactly / keys in the cache",
    "kept_over_n_mean": "mean over (step, layer, head) of keys attended / keys in the cache",
    "certificate_valid": "certified: fraction of (step, layer, head) with true dropped mass <= tau bound (must be 1); NaN otherwise",
    "output_bound_valid": "certified: fraction with ||out - exact||_2 <= output bound; NaN otherwise",
}
