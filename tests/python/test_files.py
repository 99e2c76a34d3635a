"""tvk.LogitStore, tvk.run and tvk.read_results against the CLI."""

import json

import numpy as np
import pytest

import tvk

from test_rows import EPS, assert_same, cli_row


@pytest.fixture(scope="module")
def store(root):
    return tvk.LogitStore(root / "tests" / "fixtures" / "smollm2_store.h5")


def test_store_structure(store):
    assert store.layers == 6 and store.heads == 9 and store.kv_heads == 3 and store.head_dim == 64
    assert store.causal and len(store.sequences) == 1
    assert "model_name" in store.attributes
    assert "6 layers" in repr(store)


def test_store_logits(store, cli):
    head = store.head(2, 4, 0)
    logits = store.logits(2, 4, 0)
    positions = head["query_positions"]
    assert logits.shape == (len(positions), head["k"].shape[0])
    kv = store.kv_head_of[4]
    assert kv == 4 // 3
    for r in (0, 10, len(positions) - 1):
        seen = positions[r] + 1
        expected = store.scale * (head["k"][:seen] @ head["q"][r])
        assert np.allclose(logits[r, :seen], expected, rtol=1e-12, atol=1e-12)
        assert np.all(np.isneginf(logits[r, seen:]))
        assert_same(tvk.analyze(logits[r], EPS), cli_row(cli, logits[r]))
    frame = store.frame(2, 4, 0, eps=[0.05])
    assert len(frame) == len(positions) and (frame["position"].to_numpy() == positions).all()


def test_store_errors(store, tmp_path):
    with pytest.raises(tvk.InputError, match="no such file"):
        tvk.LogitStore(tmp_path / "missing.h5")
    (tmp_path / "bad.h5").write_text("not hdf5")
    with pytest.raises(tvk.InputError, match="bad.h5"):
        tvk.LogitStore(tmp_path / "bad.h5")
    with pytest.raises(IndexError, match="layer"):
        store.logits(6, 0, 0)


def test_run_writes_the_cli_bytes(root, cli, tmp_path):
    config = root / "configs" / "quickstart.yaml"
    ours = tvk.run(config, ["rows=40", "seed=3"], out=tmp_path / "py", threads=2)
    cli("run", config, "rows=40", "seed=3", "--out", tmp_path / "cli", "--threads", 1, "--quiet",
        "--progress", "none")
    theirs = tmp_path / "cli" / "quickstart.csv"
    assert open(ours["csv"], "rb").read() == theirs.read_bytes()
    results = tvk.read_results(ours["h5"])
    points = results["points"]
    header = theirs.read_text().splitlines()[0].split(",")
    assert list(points.columns) == header
    assert len(points) == len(theirs.read_text().splitlines()) - 1
    assert results["_provenance"]["filetype"]


def test_run_errors(root, tmp_path):
    with pytest.raises(tvk.InputError, match="rowz"):
        tvk.run(root / "configs" / "quickstart.yaml", ["rowz=3"], out=tmp_path)
    with pytest.raises(tvk.InputError, match="cannot open"):
        tvk.run(tmp_path / "none.yaml", out=tmp_path)
