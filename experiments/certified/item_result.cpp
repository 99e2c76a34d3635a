#include "experiments/certified/item_result.h"

#include "core/engine/byte_codec.h"
#include "core/error.h"

namespace tvk::certified {

// A work item's slot as checkpoint bytes, field by field (no padding bytes in the file).
constexpr std::uint64_t kItemMagic = 0x3274696b43545654ULL;  // "TVTCkit2"

std::string serialize_item(const ItemResult& item) {
  ByteWriter out;
  out.put(kItemMagic);
  out.put<std::uint64_t>(item.meta.size());
  for (const RowMeta& meta : item.meta) {
    out.put(meta.id);
    out.put(meta.n);
  }
  out.put_vector(item.exact);
  out.put<std::uint64_t>(item.records.size());
  for (const SearchRecord& r : item.records) {
    for (std::uint32_t v : {r.scored, r.summaries, r.kept, r.positions})
      out.put(v);
    for (std::uint8_t v : {r.dense, r.certified, r.valid, r.output_valid})
      out.put(v);
    for (double v : {r.bound, r.true_tau, r.cost, r.exact_error, r.certificate, r.bytes_over_dense})
      out.put(v);
    out.put(r.ratios);
  }
  out.put_vector(item.search_seconds);
  out.put(item.dense_seconds);
  return out.take();
}

// The slot back; `rows` and the per-row sizes must be those of this config's item.
ItemResult deserialize_item(const std::string& bytes, std::size_t rows, std::size_t exact_per_row,
                            std::size_t records_per_row, std::size_t searches) {
  ByteReader in(bytes, "certified work item");
  if (in.get<std::uint64_t>() != kItemMagic) throw std::runtime_error("not a certified work item");
  ItemResult item;
  item.meta.resize(in.get<std::uint64_t>() == rows ? rows : 0);
  for (RowMeta& meta : item.meta) {
    meta.id = in.get<decltype(meta.id)>();
    meta.n = in.get<std::uint32_t>();
  }
  in.get_vector(item.exact);
  // The count is checked before it sizes anything: a damaged one must not allocate first.
  const auto records = in.get<std::uint64_t>();
  if (item.meta.size() != rows || item.exact.size() != rows * exact_per_row ||
      records != rows * records_per_row) {
    throw std::runtime_error("certified work item does not match the configuration");
  }
  item.records.resize(records);
  for (SearchRecord& r : item.records) {
    for (std::uint32_t* v : {&r.scored, &r.summaries, &r.kept, &r.positions})
      *v = in.get<std::uint32_t>();
    for (std::uint8_t* v : {&r.dense, &r.certified, &r.valid, &r.output_valid})
      *v = in.get<std::uint8_t>();
    for (double* v :
         {&r.bound, &r.true_tau, &r.cost, &r.exact_error, &r.certificate, &r.bytes_over_dense})
      *v = in.get<double>();
    r.ratios = in.get<decltype(r.ratios)>();
  }
  in.get_vector(item.search_seconds);
  item.dense_seconds = in.get<double>();
  if (item.search_seconds.size() != searches || !in.done()) {
    throw std::runtime_error("certified work item does not match the configuration");
  }
  return item;
}

}  // namespace tvk::certified
