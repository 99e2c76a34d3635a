"""Shared style, paths and loading for the paper figures (plotting/<figure>.py).

Every figure script reads results files only (results/<name>.h5 written by `tvk run`), never
reruns a sweep, and writes results/figures/<figure>.png (150 dpi) and .pdf.  Common options:

    --results DIR   where the results files are (default: <repo>/results)
    --figures DIR   where the figures go (default: <results>/figures)

Run with Debian's /usr/bin/python3 (numpy, h5py, pandas, matplotlib 3.6).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import h5py  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Paper widths (inches): one column of a two-column layout, and the full text width.
COLUMN = 3.4
TWO_COLUMN = 7.0

# Okabe-Ito: distinguishable for colour-blind readers and in greyscale print.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
             "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "legend.borderaxespad": 0.3,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # TrueType in the PDF: editable text, accepted by publishers
    "mathtext.fontset": "dejavusans",
}


def setup(figure: str, description: str) -> argparse.Namespace:
    """Parses the common options and applies the style; returns the options."""
    parser = argparse.ArgumentParser(prog=f"plotting/{figure}.py", description=description)
    parser.add_argument("--results", type=Path, default=ROOT / "results",
                        help="folder holding the results files (default: %(default)s)")
    parser.add_argument("--figures", type=Path, default=None,
                        help="folder for the figures (default: RESULTS/figures)")
    args = parser.parse_args()
    if args.figures is None:
        args.figures = args.results / "figures"
    args.figure = figure
    plt.rcParams.update(STYLE)
    return args


class Results:
    """One results file: its root attributes and its tables as pandas DataFrames."""

    def __init__(self, path: Path):
        self.path = path
        with h5py.File(path, "r") as f:
            if f.attrs.get("filetype") != "tvk-results":
                die(f"{path}: not a tvk results file (filetype {f.attrs.get('filetype')!r})")
            major = int(np.asarray(f.attrs["format_version"])[0])
            if major != 1:
                die(f"{path}: format_version {major}.x, these scripts read 1.x")
            self.attrs = {k: _plain(v) for k, v in f.attrs.items()}
            self.tables = {name: _frame(f[name][()]) for name in f.keys()
                           if isinstance(f[name], h5py.Dataset) and f[name].dtype.names}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.tables:
            die(f"{self.path}: no table '{table}' (has {sorted(self.tables)}); "
                "rerun its config (plotting/make_figures.sh --force)")
        return self.tables[table]

    def has(self, table: str) -> bool:
        return table in self.tables


def load(args: argparse.Namespace, name: str) -> Results:
    """Reads RESULTS/<name>.h5, or stops with a message saying how to make it."""
    path = args.results / f"{name}.h5"
    if not path.exists():
        die(f"{path} does not exist: run `bash plotting/make_figures.sh` "
            f"(or `build/tvk run configs/paper/{name}.yaml --out {args.results}`)")
    results = Results(path)
    source = str(results.attrs.get("config_file", ""))
    expected = f"configs/paper/{name}.yaml"
    if not source.endswith(expected):
        print(f"warning: {path} was written from {source or 'an unknown config'}, not {expected}; "
              "`bash plotting/make_figures.sh` reruns the paper config", file=sys.stderr)
    return results


def require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        die(f"{what}: missing columns {missing}; rerun its config with the current tvk")


def save(fig: plt.Figure, args: argparse.Namespace) -> None:
    """Writes FIGURES/<figure>.png and .pdf and says where."""
    args.figures.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        path = args.figures / f"{args.figure}.{ext}"
        fig.savefig(path, metadata=None if ext == "png" else {"Creator": "tvk plotting"})
        print(f"wrote {os.path.relpath(path)}")
    plt.close(fig)


def die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def panel_label(ax: plt.Axes, label: str) -> None:
    """(a), (b), ... in the top-left corner, outside the data area."""
    ax.set_title(label, loc="left", fontweight="bold", fontsize=8)


def ci95(sem):
    """Half-width of a normal 95% confidence interval from a standard error."""
    return 1.959963984540054 * np.asarray(sem, dtype=float)


def ordered_colors(count: int):
    """Colours for an ordered parameter (sigma, n, ...): dark to light, all readable on white."""
    cold_to_warm = ["#332288", "#0072B2", "#009E73", "#E69F00", "#D55E00", "#882255"]
    if count == 1:
        return [cold_to_warm[1]]
    if count <= 5:
        return [cold_to_warm[int(round(i))] for i in np.linspace(0, 4, count)]
    if count == 6:
        return cold_to_warm
    return list(plt.cm.viridis(np.linspace(0.0, 0.9, count)))


def eps_label(eps: float) -> str:
    return rf"$\varepsilon = {eps:g}$"


def close(a, b, rel=1e-9) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def _frame(records) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].str.decode("ascii")
    return frame


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    return value
