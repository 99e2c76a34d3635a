"""tvk.analyze, sample, rule, models and bounds against the CLI on the same input."""

import json
import math

import numpy as np
import pytest

import tvk

EPS = [0.01, 0.05, 0.1, 0.3]


def row_text(row):
    # repr() of a float round-trips, so the CLI parses exactly these doubles.
    return " ".join("-inf" if x == -math.inf else repr(float(x)) for x in row)


def cli_row(cli, row, eps=EPS, *extra):
    done = cli("row", "--json", "--eps", ",".join(map(repr, eps)), *extra, input=row_text(row))
    return json.loads(done.stdout)


def assert_same(analysis, report, r=None):
    pick = (lambda a: a) if r is None else (lambda a: a[r])
    assert int(pick(analysis.n)) == report["n"]
    assert int(pick(analysis.masked)) == report["masked"]
    for e, res in enumerate(report["results"]):
        assert int(pick(analysis.k_eps)[e]) == res["k_eps"]
        assert float(pick(analysis.tau)[e]).hex() == float(res["tau"]).hex()  # the same bits
        for name, b in res["bounds"].items():
            assert int(pick(analysis.bounds[name]["k"])[e]) == b["k"], name
            assert float(pick(analysis.bounds[name]["bound"])[e]).hex() == float(b["bound"]).hex(), name
            assert float(pick(analysis.bounds[name]["tau"])[e]).hex() == float(b["tau"]).hex(), name


def rows(seed=0, count=6, n=300):
    rng = np.random.default_rng(seed)
    out = rng.normal(scale=rng.uniform(0.5, 4, size=(count, 1)), size=(count, n))
    out[1, ::7] = -np.inf  # masked keys
    out[2, :50] = 3.0  # ties
    return out


def test_readme_example():
    a = tvk.analyze([3, 2.5, 1, 0], 0.1)
    assert a.k_eps.tolist() == [3]
    assert "k_eps = 3" in repr(a)


def test_rows_match_cli_bit_for_bit(cli):
    data = rows()
    both = tvk.analyze(data, EPS, threads=2)
    for r, row in enumerate(data):
        report = cli_row(cli, row)
        assert_same(tvk.analyze(row, EPS), report)
        assert_same(both, report, r)


def test_options_match_cli(cli):
    row = rows(1, 3, 1000)[0]
    assert_same(tvk.analyze(row, EPS, block=4, b3_groups=3), cli_row(cli, row, EPS, "--block", 4, "--b3-groups", 3))


def test_threads_float32_noncontiguous_torch_are_the_same():
    data = rows(2, 8, 257)
    base = tvk.analyze(data, EPS, threads=1)
    assert np.array_equal(tvk.analyze(data, EPS, threads=3).k_eps, base.k_eps)
    wide = np.zeros((8, 514))
    wide[:, ::2] = data
    strided = tvk.analyze(wide[:, ::2], EPS)  # not contiguous: copied
    assert np.array_equal(strided.tau, base.tau)
    f32 = data.astype(np.float32)
    assert np.array_equal(tvk.analyze(f32, EPS).tau, tvk.analyze(f32.astype(np.float64), EPS).tau)
    torch = pytest.importorskip("torch")
    assert np.array_equal(tvk.analyze(torch.from_numpy(data), EPS).tau, base.tau)
    assert np.array_equal(tvk.analyze(torch.from_numpy(f32), EPS).k_eps, tvk.analyze(f32, EPS).k_eps)


def test_frame():
    pd = pytest.importorskip("pandas")
    frame = tvk.analyze(rows(3, 3, 64), [0.05, 0.1], as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 6 and {"row", "eps", "k_eps", "tau", "k_b2"} <= set(frame.columns)


@pytest.mark.parametrize("bad, error, message", [
    ([1.0, math.nan], tvk.InputError, "NaN"),
    ([1.0, math.inf], tvk.InputError, "logits"),
    ([-math.inf, -math.inf], tvk.InputError, "no unmasked"),
    (["a", "b"], TypeError, "logits"),
    (np.zeros((2, 2, 2)), ValueError, "logits"),
    (np.zeros((2, 0)), tvk.InputError, "logits"),
    ([1 + 2j], TypeError, "logits"),
])
def test_bad_rows(bad, error, message):
    with pytest.raises(error, match=message):
        tvk.analyze(bad, 0.1)


def test_bad_options():
    for eps in (0.0, 1.0, 1.5, []):
        with pytest.raises(tvk.InputError, match="eps"):
            tvk.analyze([1.0, 2.0], eps)
    with pytest.raises(tvk.InputError, match="block"):
        tvk.analyze([1.0, 2.0], 0.1, block=0)
    assert issubclass(tvk.InputError, ValueError)


def test_models_and_bounds_match_cli(cli):
    text = cli("models").stdout
    names = [m["name"] for m in tvk.models()]
    assert names == [line for line in text.splitlines() if line and not line.startswith(" ")]
    listing = cli("bounds").stdout.splitlines()
    assert [line.split()[0] for line in listing] == list(tvk.bounds())
    for line, (name, doc) in zip(listing, tvk.bounds().items()):
        assert line.split(None, 1)[1] == doc
    assert set(tvk.searches()) >= {"quantized", "mc_search", "delta_k", "quest"}


def test_rule_matches_cli(cli):
    for model, n, eps, params in [("gaussian", 512, 0.05, {"sigma": 3}), ("student_t", 128, 0.1, {"nu": 3})]:
        ours = tvk.rule(model, n, eps, **params)
        theirs = json.loads(cli("rule", "--model", model, *[f"{k}={v}" for k, v in params.items()],
                                "--n", n, "--eps", eps, "--json").stdout)
        for key in ("asymptotic", "finite_n", "blom"):
            a, b = ours[key], theirs[key]
            assert (b is None and math.isnan(a)) or float(a).hex() == float(b).hex(), key
    with pytest.raises(tvk.InputError, match="gausian"):
        tvk.rule("gausian", 10, 0.1)


def test_sample():
    a = tvk.sample("gaussian", 100, 3, seed=7, sigma=2)
    assert a.shape == (3, 100) and a.dtype == np.float64
    assert np.array_equal(a, tvk.sample("gaussian", 100, 3, seed=7, sigma=2, threads=1))
    assert not np.array_equal(a, tvk.sample("gaussian", 100, 3, seed=8, sigma=2))
    assert abs(a.std() - 2) < 0.3
    with pytest.raises(tvk.InputError, match="sigma"):
        tvk.sample("gaussian", 10, sigma=-1)
    with pytest.raises(tvk.InputError, match="did you mean"):
        tvk.sample("gausian", 10)
    with pytest.raises(TypeError, match="sigma"):
        tvk.sample("gaussian", 10, sigma="x")
