"""tvk from Python: certified Top-k attention on numpy arrays and torch tensors.

The same C++ core as the ``tvk`` command-line tool (one compiled module, ``tvk._tvk``): every
result here is the CLI's, bit for bit.

    >>> import tvk
    >>> tvk.analyze([3, 2.5, 1, 0], 0.1).k_eps
    array([2])

Functions: analyze, sample, rule, models, bounds, searches, certified_select, run,
read_results; classes: LogitStore, KvCache (with dense_decode and certified_decode). Bad input
raises tvk.InputError (a ValueError) with the CLI's message; a wrong dtype or shape raises
TypeError or ValueError naming the argument.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _tvk
from ._tvk import InputError

InputError.__module__ = "tvk"

__all__ = [
    "InputError", "Analysis", "analyze", "sample", "rule", "models", "bounds", "searches",
    "certified_select", "LogitStore", "KvCache", "dense_decode", "certified_decode", "run",
    "read_results", "kernel_set",
]
__version__ = "0.1.0"

kernel_set = _tvk.kernel_set

_FLOAT_KINDS = "fiub"  # float, signed/unsigned integer, bool: converted to the float tvk needs


def _numpy(x: Any, name: str) -> np.ndarray:
    """x as a numpy array without copying where possible (torch tensors: through .numpy())."""
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):  # a torch tensor
        t = x.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if str(t.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            t = t.float()
        x = t.numpy()
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name}: expected a numeric array, got {type(x).__name__} ({error})") from None
    if a.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(f"{name}: expected a float array (float32 or float64), got dtype {a.dtype}")
    return a


def _array(x: Any, name: str, dtype: Any, ndims: Sequence[int]) -> np.ndarray:
    """x as a C-contiguous array of `dtype` with one of `ndims` dimensions (no copy when it is one)."""
    a = _numpy(x, name)
    if a.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name}: expected a {want} array, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=dtype)


def _eps_list(eps: Any) -> list[float]:
    values = np.atleast_1d(np.asarray(eps, dtype=np.float64))
    if values.ndim != 1:
        raise ValueError(f"eps: expected a number or a list of numbers, got shape {values.shape}")
    return [float(e) for e in values]


class Analysis:
    """What tvk.analyze found, per row and budget (the numbers `tvk row --json` prints).

    Attributes (R rows, E budgets; a 1-D input drops the row axis):
      eps: the budgets (E,);  n: unmasked keys per row;  masked: keys masked by -inf;
      k_eps: the minimal certified k (R, E);  tau: the tail mass at k_eps (R, E);
      bounds: {name: {"k", "bound", "tau"}}: each bound's certified k, its value (<= eps) and the
        true tail mass of its kept set, each (R, E);
      identities: {"tv_half_l1", "kl_truncated_to_full", "kl_truncated_to_full_direct",
        "kl_full_to_truncated"} at k_eps, each (R, E).
    to_pandas() gives one DataFrame row per (row, eps).
    """

    def __init__(self, raw: dict, eps: list[float], single: bool):
        pick = (lambda a: a[0]) if single else (lambda a: a)
        self.eps = np.asarray(eps)
        self.single = single
        self.n = pick(raw["n"])
        self.masked = pick(raw["masked"])
        self.k_eps = pick(raw["k_eps"])
        self.tau = pick(raw["tau"])
        self.identities = {key: pick(raw[key]) for key in (
            "tv_half_l1", "kl_truncated_to_full", "kl_truncated_to_full_direct",
            "kl_full_to_truncated")}
        self.bounds = {
            name: {"k": pick(raw["bound_k"][b]), "bound": pick(raw["bound_value"][b]),
                   "tau": pick(raw["bound_tau"][b])}
            for b, name in enumerate(raw["bounds"])}

    @property
    def rows(self) -> int:
        return 1 if self.single else len(self.n)

    def to_pandas(self):
        """A pandas DataFrame, one row per (row, eps): row, eps, n, masked, k_eps, tau, then
        k_<bound>, bound_<bound>, tau_<bound> for every bound."""
        import pandas as pd

        rows, E = self.rows, len(self.eps)
        flat = lambda a: np.reshape(a, (rows * E,))
        data = {
            "row": np.repeat(np.arange(rows), E),
            "eps": np.tile(self.eps, rows),
            "n": np.repeat(np.atleast_1d(self.n), E),
            "masked": np.repeat(np.atleast_1d(self.masked), E),
            "k_eps": flat(self.k_eps),
            "tau": flat(self.tau),
        }
        for name, b in self.bounds.items():
            data["k_" + name] = flat(b["k"])
            data["bound_" + name] = flat(b["bound"])
            data["tau_" + name] = flat(b["tau"])
        return pd.DataFrame(data)

    def __repr__(self) -> str:
        if not self.single:
            return f"<tvk.Analysis of {self.rows} rows at eps {list(self.eps)}: k_eps {self.k_eps.tolist()}>"
        lines = [f"tvk.Analysis: n = {int(self.n)} keys" +
                 (f" ({int(self.masked)} masked)" if self.masked else "")]
        for e, eps in enumerate(self.eps):
            ks = ", ".join(f"{name} {int(b['k'][e])}" for name, b in self.bounds.items())
            lines.append(f"  eps = {eps:g}: k_eps = {int(self.k_eps[e])}, tau = {self.tau[e]:.6g}; "
                         f"bounds' k: {ks}")
        return "\n".join(lines)


def analyze(logits: Any, eps: Any = (0.01, 0.05, 0.1), *, block: int = 16, b3_groups: int = 8,
            threads: int = 0, as_frame: bool = False):
    """Certified Top-k analysis of attention rows, exactly as ``tvk row`` reports it.

    logits: one row (1-D) or rows (2-D) of logits: numpy, a list, or a torch tensor; float32 or
        float64 (float32 is widened to float64 exactly). ``-inf`` masks a key; NaN or +inf is an
        InputError naming the row.
    eps: one TV budget or a list, each in (0, 1) (default 0.01, 0.05, 0.1 as the CLI).
    block: the block size of bound b4 (``--block``); b3_groups: groups of the equal-grouping b3
        variants (``--b3-groups``); threads: worker threads over rows (0 = all cores).
    as_frame: return ``to_pandas()``'s DataFrame instead of the Analysis.

    Returns an Analysis: per row and eps k_eps, tau (the tail mass at k_eps) and every bound's
    certified k (analysis.bounds[name]["k"]). C-contiguous float64 input is read without a copy;
    the GIL is released while tvk works.
    """
    a = _array(logits, "logits", np.float64, (1, 2))
    single = a.ndim == 1
    if single:
        a = a.reshape(1, -1)
    eps_list = _eps_list(eps)
    raw = _tvk.analyze(a, eps_list, int(block), int(b3_groups), int(threads))
    result = Analysis(raw, eps_list, single)
    return result.to_pandas() if as_frame else result


def _params(params: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in params.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"model parameter {key}: expected a number, got {value!r}") from None
    return out


def sample(model: str, n: int, rows: int = 1, seed: int = 0, *, point: int = 0, threads: int = 0,
           **params: float) -> np.ndarray:
    """Rows of n logits from a registered score model (tvk.models() lists them), shape (rows, n).

    Row r is the row ``tvk run`` draws for grid point `point`, row r with this seed. Model
    parameters are keyword arguments, e.g. ``tvk.sample("gaussian", 512, 4, seed=1, sigma=3)``.
    """
    return _tvk.sample(str(model), int(n), int(rows), int(seed), _params(params), int(point),
                       int(threads))


def rule(model: str, n: int, eps: float, *, tolerance: float = 1e-6, **params: float) -> dict:
    """The asymptotic k_eps rule and the finite-n prediction of E[k_eps]/n (``tvk rule --json``):
    a dict with asymptotic, finite_n, finite_n_keys, blom and their notes."""
    return _tvk.rule(str(model), int(n), float(eps), _params(params), float(tolerance))


def models() -> list[dict]:
    """The registered score models (``tvk models``): name, doc, params (name, default, range, doc)."""
    return _tvk.models()


def bounds() -> dict[str, str]:
    """The registered bound variants and their descriptions (``tvk bounds``)."""
    return _tvk.bounds()


def searches() -> dict[str, dict]:
    """The registered certified search types: {type: {"doc", "keys"}} (the keys it takes)."""
    return _tvk.searches()


def _yaml_value(key: str, value: Any) -> str:
    if not key.replace("_", "").isalnum():
        raise ValueError(f"search key {key!r}: expected a name such as block or bits")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(value.item() if hasattr(value, "item") else value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a YAML flow scalar
    raise TypeError(f"search key {key}: expected a number, string or bool, got {type(value).__name__}")


def certified_select(q: Any, K: Any, eps: float, search: str = "quantized", *, V: Any = None,
                     scale: float | None = None, **keys: Any):
    """Certified selection of the keys of K for query q (THEORY §6), as a certified run's search.

    q: one query (d,) or queries (m, d); K: keys (n, d); V: values (n, dv), optional (searches
    over value-aware cells use them). scale: the logit scale (default 1/sqrt(d)); logits are
    scale * q.k. search: a registered type (tvk.searches()); its keys as keyword arguments, the
    same as in a config's ``searches:`` element (e.g. bits=4, kept="topk").

    Returns a dict (a list of them for 2-D q): kept (key indices, descending logit), kept_logits,
    scored (keys scored exactly), tau_bound (the certified bound on the dropped mass, NaN for a
    baseline), certified, true_tau (the dropped mass from the full row), valid (true_tau <=
    tau_bound <= eps), dense_fallback, cost, bytes.
    """
    Q = _array(q, "q", np.float64, (1, 2))
    single = Q.ndim == 1
    Q = Q.reshape(1, -1) if single else Q
    Karr = _array(K, "K", np.float64, (2,))
    Varr = None if V is None else _array(V, "V", np.float64, (2,))
    d = Karr.shape[1]
    s = 1.0 / math.sqrt(d) if scale is None else float(scale)
    options = {key: _yaml_value(key, value) for key, value in keys.items()}
    out = _tvk.certified_select(Q, Karr, Varr, float(eps), str(search), options, s)
    return out[0] if single else out


class LogitStore:
    """A logit store (HDF5 q, k, v of real attention; ``tvk store info``).

    store.layers, .heads, .kv_heads, .head_dim, .scale, .causal, .sequences (list of dicts:
    name, length, text, query_positions), .attributes (provenance); store.head(layer, head,
    sequence) -> {"q", "k", "v", "query_positions"}; store.logits(layer, head, sequence) ->
    (Q, T) logits of every stored query (-inf where a causal query sees no key), ready for
    tvk.analyze; store.frame(...) -> that analysis as a DataFrame.
    """

    def __init__(self, path: str | os.PathLike):
        self._store = _tvk.LogitStore.open(os.fspath(path))
        info = self._store.info()
        self.info = info
        for key in ("path", "layers", "heads", "kv_heads", "kv_head_of", "causal", "layer_ids",
                    "head_dim", "scale", "format_version", "sequences", "attributes"):
            setattr(self, key, info[key])

    def head(self, layer: int, head: int, sequence: int = 0) -> dict:
        """q (Q, d), k and v (T, d) as float64, and the stored query positions."""
        return self._store.head(int(layer), int(head), int(sequence))

    def logits(self, layer: int, head: int, sequence: int = 0) -> np.ndarray:
        """Logits of every stored query row of (layer, head, sequence), shape (Q, T)."""
        return self._store.logits(int(layer), int(head), int(sequence))

    def frame(self, layer: int, head: int, sequence: int = 0, eps: Any = (0.01, 0.05, 0.1),
              **options):
        """tvk.analyze of the head's rows as a DataFrame, with the query position of each row."""
        frame = analyze(self.logits(layer, head, sequence), eps, as_frame=True, **options)
        positions = self.sequences[int(sequence)]["query_positions"]
        frame.insert(1, "position", np.asarray(positions)[frame["row"].to_numpy()])
        return frame

    def __repr__(self) -> str:
        return (f"<tvk.LogitStore {self.path}: {self.layers} layers, {self.heads} heads "
                f"({self.kv_heads} KV), d = {self.head_dim}, {len(self.sequences)} sequences>")


def _half_bits(x: Any, name: str) -> np.ndarray:
    a = _numpy(x, name)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a (d,) or (m, d) array, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float16).view(np.uint16)


class KvCache(_tvk.KvCache):
    """One KV head's 16-bit cache (binary16 keys and values, key codes of `bits` bits, 8 or 4):
    KvCache(head_dim, bits=8, two_tier=False), head_dim a multiple of 8, at most 64. append(k, v)
    adds one key (d,) or several (m, d); float16 is stored as is, other floats are rounded to
    float16 (numpy or torch). int4 codes bound the logits more loosely (more keys scored); their
    bytes count the packed 4-bit size. two_tier (bits 8) holds the int8 codes as 6 + 2 bits and
    reads the last 2 only for the tiles of keys near the top (docs/THEORY.md §14.8)."""

    def append(self, k: Any, v: Any) -> None:
        """Appends keys k and values v, each (d,) or (m, d)."""
        self._append(_half_bits(k, "k"), _half_bits(v, "v"))

    def copy(self) -> "KvCache":
        """An independent copy (keys, values, key codes), cheaper than appending them again."""
        clone = KvCache(self.head_dim, bits=self.bits, two_tier=self.two_tier)
        clone._assign(self)
        return clone


def _queries(queries: Any) -> np.ndarray:
    a = _array(queries, "queries", np.float32, (1, 2))
    return a.reshape(1, -1) if a.ndim == 1 else a


def dense_decode(cache: KvCache, queries: Any, scale: float, *, count: int | None = None) -> np.ndarray:
    """softmax(scale q.K) V over the first `count` keys (default all) for each query head sharing
    this KV head: queries (heads, d) float32 -> outputs (heads, d) float32."""
    return _tvk.dense_decode(cache, _queries(queries), float(scale), -1 if count is None else int(count))


def certified_decode(cache: KvCache, queries: Any, eps: float, scale: float, *,
                     count: int | None = None, kept_keys: bool = False) -> dict:
    """The certified decode step (THEORY §8) over the cache for each query head: a dict with out
    (heads, d) and per head scored, kept, refined (keys whose second tier was read, two-tier
    caches), tau_bound (>= the true dropped mass, <= eps),
    output_bound (>= ||out - o||_2: the returned float output against exact attention over
    every key), bytes, dense_bytes, dense_fallback (and kept_keys: per head
    the kept key indices, when asked)."""
    return _tvk.certified_decode(cache, _queries(queries), float(eps), float(scale),
                                 -1 if count is None else int(count), bool(kept_keys))


def run(config: str | os.PathLike, overrides: Iterable[str] = (), *, out: str | os.PathLike = "results",
        threads: int = 0, progress: str = "none", resume: bool = False, quiet: bool = True,
        shard: str | None = None) -> dict:
    """Runs a config exactly as ``tvk run CONFIG OVERRIDES --out OUT`` does (same files, same
    bits): returns {"h5": path, "csv": path, "name": stem}. Overrides are Hydra-style strings,
    e.g. ["rows=100", "model.sigma=[1,2]"]."""
    config = os.fspath(config)
    overrides = [str(o) for o in overrides]
    args = [config, *overrides, "--out", os.fspath(out), "--threads", str(int(threads)),
            "--progress", progress]
    if resume:
        args.append("--resume")
    if quiet:
        args.append("--quiet")
    if shard is not None:
        args += ["--shard", str(shard)]
    code = _tvk.run(args)
    if code != 0:
        raise InputError(f"tvk run {' '.join(args)}: exit code {code}")
    name = _tvk.results_name(config, overrides)
    base = os.path.join(os.fspath(out), name)
    return {"name": name, "h5": base + ".h5", "csv": base + ".csv"}


def read_results(path: str | os.PathLike, *, frames: bool = True) -> dict:
    """The tables of a results file written by ``tvk run`` (<out>/<name>.h5): a dict from each
    table's name ("points", ...) to a pandas DataFrame (frames=False: a dict of columns), plus
    "_arrays" (its numeric datasets) and "_provenance" (its root attributes)."""
    tables, arrays, provenance = _tvk.read_results(os.fspath(path))
    if frames:
        import pandas as pd

        tables = {name: pd.DataFrame(columns) for name, columns in tables.items()}
    out = dict(tables)
    out["_arrays"] = arrays
    out["_provenance"] = provenance
    return out
