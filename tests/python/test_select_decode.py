"""tvk.certified_select and the decode step (KvCache, dense_decode, certified_decode)."""

import numpy as np
import pytest

import tvk

SETTINGS = {"quest": {"budget": 32}, "streaming": {"sinks": 4, "window": 32}, "top_p": {}}


@pytest.fixture(scope="module")
def keys():
    rng = np.random.default_rng(5)
    K = rng.normal(size=(400, 32))
    V = rng.normal(size=(400, 16))
    q = rng.normal(size=(3, 32)) * 2
    return q, K, V


def exact_tail(q, K, kept, scale):
    s = scale * (K @ q)
    w = np.exp(s - s.max())
    mask = np.ones(len(s), dtype=bool)
    mask[kept] = False
    return w[mask].sum() / w.sum()


@pytest.mark.parametrize("search", sorted(tvk.searches()))
def test_every_search(keys, search):
    q, K, V = keys
    options = SETTINGS.get(search, {})
    try:
        results = tvk.certified_select(q, K, 0.05, search, V=V, **options)
    except tvk.InputError as error:  # a type whose required key this test does not know
        pytest.skip(str(error))
    assert len(results) == 3
    for i, r in enumerate(results):
        assert r["search"] == search and r["n"] == 400
        assert len(set(r["kept"].tolist())) == len(r["kept"])
        assert r["true_tau"] == pytest.approx(exact_tail(q[i], K, r["kept"], 1 / np.sqrt(32)), rel=1e-9, abs=1e-15)
        if r["certified"]:
            assert r["valid"] and r["true_tau"] <= r["tau_bound"] <= 0.05
        else:
            assert np.isnan(r["tau_bound"])
    one = tvk.certified_select(q[0], K, 0.05, search, V=V, **options)
    assert np.array_equal(one["kept"], results[0]["kept"])


def test_select_inputs(keys):
    q, K, _ = keys
    base = tvk.certified_select(q[0], K, 0.1, "quantized")
    torch = pytest.importorskip("torch")
    same = tvk.certified_select(torch.from_numpy(q[0]), torch.from_numpy(K), 0.1, "quantized")
    assert np.array_equal(same["kept"], base["kept"])
    wide = np.zeros((400, 64))
    wide[:, ::2] = K
    assert np.array_equal(tvk.certified_select(q[0], wide[:, ::2], 0.1, "quantized")["kept"], base["kept"])
    assert tvk.certified_select(q[0].astype(np.float32), K, 0.1, "quantized")["valid"]
    assert tvk.certified_select(q[0], K, 0.1, "quantized", bits=4)["valid"]


def test_select_errors(keys):
    q, K, _ = keys
    with pytest.raises(tvk.InputError, match="did you mean bits"):
        tvk.certified_select(q[0], K, 0.1, "quantized", bitz=4)
    with pytest.raises(tvk.InputError, match="did you mean quantized"):
        tvk.certified_select(q[0], K, 0.1, "quantised")
    with pytest.raises(tvk.InputError, match="eps"):
        tvk.certified_select(q[0], K, 1.5)
    with pytest.raises(ValueError, match="q: 16 channels"):
        tvk.certified_select(q[0][:16], K, 0.1)
    with pytest.raises(ValueError, match="K"):
        tvk.certified_select(q[0], K[0], 0.1)
    with pytest.raises(TypeError, match="K"):
        tvk.certified_select(q[0], [["x"] * 32], 0.1)


def cache_of(n=300, d=64, seed=0, bits=8, two_tier=False):
    rng = np.random.default_rng(seed)
    k = (rng.normal(size=(n, d)) * 2).astype(np.float16)
    v = rng.normal(size=(n, d)).astype(np.float16)
    cache = tvk.KvCache(d, bits=bits, two_tier=two_tier)
    cache.append(k[:1][0], v[:1][0])  # one key (d,)
    cache.append(k[1:], v[1:])  # then the rest (m, d)
    return cache, k, v


def exact_attention(q, k, v, scale, kept=None):
    s = np.float64(np.float32(scale)) * (k.astype(np.float64) @ q.astype(np.float64))
    w = np.exp(s - s.max())
    if kept is not None:
        mask = np.zeros(len(s), dtype=bool)
        mask[kept] = True
        w = np.where(mask, w, 0.0)
    return (w @ v.astype(np.float64)) / w.sum(), w


@pytest.mark.parametrize("bits,two_tier", [(8, False), (4, False), (8, True)])
def test_decode_against_exact_attention(bits, two_tier):
    cache, k, v = cache_of(bits=bits, two_tier=two_tier)
    assert len(cache) == 300 and cache.head_dim == 64 and cache.bits == bits
    assert cache.two_tier == two_tier and cache.copy().two_tier == two_tier
    rng = np.random.default_rng(1)
    queries = rng.normal(size=(6, 64)).astype(np.float32)  # 6 heads: served 4 + 2
    dense = tvk.dense_decode(cache, queries, 0.125)
    result = tvk.certified_decode(cache, queries, 0.05, 0.125, kept_keys=True)
    for h in range(6):
        exact, w = exact_attention(queries[h], k, v, 0.125)
        assert np.allclose(dense[h], exact, atol=1e-5)
        kept = result["kept_keys"][h]
        assert len(kept) == result["kept"][h] <= result["scored"][h]
        assert 0 <= result["refined"][h] <= (300 if two_tier else 0)
        _, wk = exact_attention(queries[h], k, v, 0.125, kept)
        tail = 1 - wk.sum() / w.sum()
        assert tail <= result["tau_bound"][h] <= 0.05
        # The output bound covers the returned floats against exact attention over every key.
        returned = result["out"][h].astype(np.float64)
        assert np.linalg.norm(returned - exact) <= result["output_bound"][h]
    tiny = tvk.certified_decode(cache, queries, 1e-300, 0.125)
    assert np.allclose(tiny["out"], dense, atol=1e-5)
    partial = tvk.dense_decode(cache, queries, 0.125, count=100)
    assert np.allclose(partial[0], exact_attention(queries[0], k[:100], v[:100], 0.125)[0], atol=1e-5)


def test_decode_torch_and_conversions():
    torch = pytest.importorskip("torch")
    cache, k, v = cache_of(64, 32, 2)
    other = tvk.KvCache(32)
    other.append(torch.from_numpy(k), torch.from_numpy(v))  # float16 tensors
    third = tvk.KvCache(32)
    third.append(k.astype(np.float32), v.astype(np.float64))  # rounded to float16: the same values
    q = torch.randn(3, 32)
    a = tvk.dense_decode(cache, q, 0.2)
    assert np.array_equal(a, tvk.dense_decode(other, q, 0.2))
    assert np.array_equal(a, tvk.dense_decode(third, q.numpy().astype(np.float64), 0.2))
    assert np.array_equal(tvk.certified_decode(cache, q, 0.1, 0.2)["out"],
                          tvk.certified_decode(other, q[:, :].T.contiguous().T, 0.1, 0.2)["out"])


def test_decode_errors():
    cache, _, _ = cache_of(10, 16)
    q = np.zeros((2, 16), dtype=np.float32)
    with pytest.raises(ValueError, match="head dimension"):
        tvk.KvCache(12)
    with pytest.raises(ValueError, match="bits must be 8 or 4"):
        tvk.KvCache(16, bits=6)
    with pytest.raises(ValueError, match="two-tier"):
        tvk.KvCache(16, bits=4, two_tier=True)
    with pytest.raises(ValueError, match="k, v"):
        cache.append(np.zeros(16), np.zeros(8))
    with pytest.raises(ValueError, match="non-finite|finite"):
        cache.append(np.full(16, np.inf), np.zeros(16))
    with pytest.raises(ValueError, match="queries"):
        tvk.dense_decode(cache, np.zeros((2, 8)), 0.1)
    with pytest.raises(ValueError, match="count"):
        tvk.dense_decode(cache, q, 0.1, count=11)
    with pytest.raises(tvk.InputError, match="eps"):
        tvk.certified_decode(cache, q, 0.0, 0.1)
    with pytest.raises(ValueError, match="no keys"):
        tvk.dense_decode(tvk.KvCache(16), q, 0.1)
    with pytest.raises(TypeError, match="queries"):
        tvk.dense_decode(cache, "x", 0.1)
    assert len(cache) == 10  # unchanged by the failed appends
