// The decode step: tvk.KvCache (one KV head's binary16 cache with int8 key codes), dense_decode
// and certified_decode (core/certified/decode_attention.h) for the query heads that share it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.h"
#include "core/certified/decode_attention.h"
#include "core/error.h"
#include "core/text/text.h"

namespace tvk::python {
namespace {

//! `count` as given, or every key when negative; ValueError when beyond the cache.
std::size_t key_count(const KvCache& cache, long long count) {
  if (count < 0) return cache.size();
  if (count == 0 || static_cast<std::size_t>(count) > cache.size()) {
    throw nb::value_error(("count: " + std::to_string(count) + " keys, the cache holds " +
                           std::to_string(cache.size()))
                              .c_str());
  }
  return static_cast<std::size_t>(count);
}

void require_queries(const KvCache& cache, const In<float>& queries) {
  require_dims(queries, 2, "queries");
  if (queries.shape(1) != cache.dim()) {
    throw nb::value_error(("queries: " + std::to_string(queries.shape(1)) +
                           " channels, but the cache's head_dim is " + std::to_string(cache.dim()))
                              .c_str());
  }
  if (queries.shape(0) == 0) throw nb::value_error("queries: needs at least one head");
  if (cache.size() == 0) throw nb::value_error("cache: holds no keys (append some first)");
}

void append(KvCache& cache, In<std::uint16_t> keys, In<std::uint16_t> values) {
  require_dims(keys, 2, "k");
  require_dims(values, 2, "v");
  const std::size_t d = cache.dim();
  if (keys.shape(1) != d || values.shape(1) != d || keys.shape(0) != values.shape(0)) {
    throw nb::value_error(("k, v: expected two (m, " + std::to_string(d) +
                           ") arrays of the same m (head_dim " + std::to_string(d) + ")")
                              .c_str());
  }
  nb::gil_scoped_release release;
  for (std::size_t i = 0; i < keys.shape(0); ++i)
    cache.append(keys.data() + i * d, values.data() + i * d);
}

nb::ndarray<nb::numpy, float> dense(const KvCache& cache, In<float> queries, double scale,
                                    long long count) {
  require_queries(cache, queries);
  const std::size_t n = key_count(cache, count), heads = queries.shape(0), d = cache.dim();
  std::vector<float> out(heads * d);
  {
    nb::gil_scoped_release release;
    DecodeScratch scratch;
    dense_decode(cache, n, queries.data(), heads, static_cast<float>(scale), out.data(), scratch);
  }
  return to_numpy(std::move(out), {heads, d});
}

//! At most this many heads per certified_decode call (the kernel's limit): more heads are
//! served in groups, each head's result being its own.
constexpr std::size_t kHeadsPerCall = 4;

nb::dict certified(const KvCache& cache, In<float> queries, double eps, double scale,
                   long long count, bool with_kept) {
  require_queries(cache, queries);
  if (!(eps > 0.0 && eps < 1.0))
    throw InputError("eps: " + format_shortest(eps) + " is outside (0, 1)");
  const std::size_t n = key_count(cache, count), heads = queries.shape(0), d = cache.dim();
  std::vector<float> out(heads * d);
  std::vector<CertifiedDecodeHead> result(heads);
  std::vector<std::vector<std::uint32_t>> kept(heads);
  {
    nb::gil_scoped_release release;
    DecodeScratch scratch;
    std::vector<std::uint32_t> group_kept[kHeadsPerCall];
    for (std::size_t h = 0; h < heads; h += kHeadsPerCall) {
      const std::size_t g = std::min(kHeadsPerCall, heads - h);
      certified_decode(cache, n, queries.data() + h * d, g, static_cast<float>(scale), eps,
                       out.data() + h * d, result.data() + h, scratch,
                       with_kept ? group_kept : nullptr);
      if (with_kept) {
        for (std::size_t i = 0; i < g; ++i)
          kept[h + i] = std::move(group_kept[i]);
      }
    }
  }
  std::vector<std::int64_t> scored(heads), kept_count(heads), refined(heads);
  std::vector<double> tau(heads), bound(heads), bytes(heads), dense_bytes(heads);
  std::vector<std::uint8_t> fallback(heads);
  for (std::size_t h = 0; h < heads; ++h) {
    scored[h] = static_cast<std::int64_t>(result[h].scored);
    kept_count[h] = static_cast<std::int64_t>(result[h].kept);
    refined[h] = static_cast<std::int64_t>(result[h].refined);
    tau[h] = result[h].tau_bound;
    bound[h] = result[h].output_bound;
    bytes[h] = result[h].bytes;
    dense_bytes[h] = result[h].dense_bytes;
    fallback[h] = result[h].dense_fallback ? 1 : 0;
  }
  nb::dict o;
  o["out"] = to_numpy(std::move(out), {heads, d});
  o["scored"] = to_numpy(std::move(scored), {heads});
  o["kept"] = to_numpy(std::move(kept_count), {heads});
  o["refined"] = to_numpy(std::move(refined), {heads});
  o["tau_bound"] = to_numpy(std::move(tau), {heads});
  o["output_bound"] = to_numpy(std::move(bound), {heads});
  o["bytes"] = to_numpy(std::move(bytes), {heads});
  o["dense_bytes"] = to_numpy(std::move(dense_bytes), {heads});
  o["dense_fallback"] = to_numpy(std::move(fallback), {heads});
  if (with_kept) {
    nb::list keys;
    for (auto& k : kept) {
      const std::size_t size = k.size();
      keys.append(to_numpy(std::move(k), {size}));
    }
    o["kept_keys"] = keys;
  }
  return o;
}

}  // namespace

void bind_decode(nb::module_& m) {
  nb::class_<KvCache>(m, "KvCache")
      .def(nb::init<std::size_t, int, bool>(), nb::arg("head_dim"), nb::arg("bits") = 8,
           nb::arg("two_tier") = false)
      .def("_append", &append, nb::arg("k"), nb::arg("v"))
      // Makes this cache a copy of `other` (keys, values, codes and value summaries: one vector
      // copy each, no re-encoding), so a prefill mirrored once serves every method that then
      // appends its own decode steps; tvk.KvCache.copy() wraps it.
      .def(
          "_assign", [](KvCache& self, const KvCache& other) { self = other; }, nb::arg("other"))
      .def("__len__", &KvCache::size)
      .def_prop_ro("head_dim", &KvCache::dim)
      .def_prop_ro("bits", &KvCache::bits)
      .def_prop_ro("two_tier", &KvCache::two_tier)
      .def_prop_ro("value_norm_max", &KvCache::value_norm_max);
  m.def("dense_decode", &dense, nb::arg("cache"), nb::arg("queries"), nb::arg("scale"),
        nb::arg("count"));
  m.def("certified_decode", &certified, nb::arg("cache"), nb::arg("queries"), nb::arg("eps"),
        nb::arg("scale"), nb::arg("count"), nb::arg("with_kept"));
}

}  // namespace tvk::python
