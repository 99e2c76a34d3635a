#include "experiments/certified/certified_work.h"

// Eigen before oneTBB: both bring in the intrinsic headers, and core/numerics/eigen.h must be
// first.
#include "core/numerics/eigen.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <stdexcept>

#include "core/engine/byte_codec.h"
#include "core/error.h"
#include "core/random/stream.h"
#include "experiments/certified/key_set_runner.h"
#include "experiments/provenance.h"
#include "experiments/store_selection.h"

namespace tvk::certified {

CertifiedWork::CertifiedWork(const CertifiedConfig& config, const RunContext& ctx,
                             std::size_t threads)
    : config_(config),
      ctx_(ctx),
      arena_(std::make_unique<tbb::task_arena>(static_cast<int>(threads))) {
  if (config.source_type == "logit_store") {
    store_.emplace(LogitStore::open(config.store.store));
    const LogitStoreInfo& info = store_->info();
    store_scale_ = info.scale;
    const StoreSelectionKeys keys = store_selection_keys(config.store);
    const KeyWhere where = prefix_where(config.source + ": source.");
    const StoreSelection selection = select_from_store(info, keys, where);
    // No query row at all is bad input (as kind logit_store), refused before anything runs.
    const std::vector<std::vector<std::size_t>> query_rows =
        selected_query_rows(info, selection, keys, where);
    for (std::size_t layer : selection.layers) {
      for (std::size_t head : selection.heads) {
        for (std::size_t i = 0; i < selection.sequences.size(); ++i) {
          const std::size_t s = selection.sequences[i];
          KeySetRef ref;
          ref.layer = static_cast<std::int64_t>(layer);
          ref.head_index = static_cast<std::int64_t>(head);
          ref.sequence = static_cast<std::int64_t>(s);
          ref.n = info.sequences[s].length;
          ref.rows = query_rows[i];
          ref.queries = ref.rows.size();
          if (ref.queries > 0) key_sets_.push_back(ref);
        }
      }
    }
  } else {
    points_ = certified_qkv_points(config);
    for (std::size_t p = 0; p < points_.size(); ++p) {
      const CertifiedQkvSource& source = config.qkv[points_[p].source];
      const auto rows = static_cast<std::size_t>(source.rows);
      const auto per_set = static_cast<std::size_t>(source.queries_per_key_set);
      for (std::size_t first = 0, k = 0; first < rows; first += per_set, ++k) {
        KeySetRef ref;
        ref.point = p;
        ref.key_set = k;
        ref.first_row = first;
        ref.queries = std::min(per_set, rows - first);
        ref.n = points_[p].parameters.n;
        key_sets_.push_back(ref);
      }
    }
  }
  const auto chunk = static_cast<std::size_t>(config.analysis.chunk_rows);
  for (std::size_t k = 0; k < key_sets_.size(); ++k) {
    // A unit per store (layer, head) or qkv point: its key sets are consecutive.
    const KeySetRef& ks = key_sets_[k];
    const bool new_unit = k == 0 || (store_ ? ks.layer != key_sets_[k - 1].layer ||
                                                  ks.head_index != key_sets_[k - 1].head_index
                                            : ks.point != key_sets_[k - 1].point);
    if (new_unit) units_.push_back({items_.size(), items_.size()});
    for (std::size_t first = 0; first < ks.queries; first += chunk)
      items_.push_back({k, first, std::min(chunk, ks.queries - first)});
    units_.back().end = items_.size();
  }
}

std::string CertifiedWork::fingerprint_text() const {
  std::string text =
      "certified work items 3\nchunk_rows " + std::to_string(config_.analysis.chunk_rows);
  if (store_) text += "\n" + store_identity_text(store_->info(), config_.store.store);
  return text;
}

std::size_t CertifiedWork::unit_rows(std::size_t unit) const {
  std::size_t rows = 0;
  for (std::size_t i = units_[unit].first; i < units_[unit].end; ++i)
    rows += items_[i].count;
  return rows;
}

std::string CertifiedWork::compute_share(std::size_t unit, const ShardSpec& shard,
                                         const RowsDone& rows_done) const {
  const Unit& u = units_[unit];
  // This shard's items: item i of the run when i % count == index. Counted over the whole run,
  // not within the unit: a unit of one item (a decoder store's head) would go to shard 0 always.
  std::vector<std::size_t> mine;
  for (std::size_t i = u.first; i < u.end; ++i) {
    if (i % shard.count == shard.index) mine.push_back(i);
  }
  // A store's heads of this unit, read here on the calling thread (serial HDF5), once per key
  // set that one of this shard's items needs.
  std::vector<HeadVectors> heads;
  std::vector<std::size_t> head_of(key_sets_.size(), static_cast<std::size_t>(-1));
  if (store_) {
    for (std::size_t i : mine) {
      const std::size_t k = items_[i].key_set;
      if (head_of[k] != static_cast<std::size_t>(-1)) continue;
      const KeySetRef& ks = key_sets_[k];
      head_of[k] = heads.size();
      heads.push_back(store_->read_head(static_cast<std::size_t>(ks.sequence),
                                        static_cast<std::size_t>(ks.layer),
                                        static_cast<std::size_t>(ks.head_index)));
    }
  }
  std::vector<ItemResult> slots(mine.size());
  auto run_item = [&](std::size_t m) {
    const WorkItem& item = items_[mine[m]];
    const KeySetRef& ks = key_sets_[item.key_set];
    ItemResult& out = slots[m];
    out.search_seconds.assign(ctx_.searches.size(), 0.0);
    std::vector<Eigen::VectorXd> queries;
    std::vector<RowMeta> meta;
    if (store_) {
      const HeadVectors& head = heads[head_of[item.key_set]];
      if (head.causal) {
        // A causal row sees its own prefix of keys: a key set of its own, as a decoder's cache
        // at that step (its summaries are the first key_count of the full set's).
        for (std::size_t i = item.first; i < item.first + item.count; ++i) {
          const std::size_t r = ks.rows[i];
          const auto m = static_cast<Eigen::Index>(head.key_count(r));
          const Eigen::MatrixXd keys = head.k.topRows(m), values = head.v.topRows(m);
          KeySetRunner runner(ctx_, keys, values, store_scale_, /*with_distances=*/false);
          const std::vector<Eigen::VectorXd> query = {
              head.q.row(static_cast<Eigen::Index>(r)).transpose()};
          const std::vector<RowMeta> row = {{{ks.layer, ks.head_index, ks.sequence,
                                              static_cast<std::int64_t>(head.query_positions[r])},
                                             static_cast<std::uint32_t>(m)}};
          runner.run(query, row, out);
        }
      } else {
        KeySetRunner runner(ctx_, head.k, head.v, store_scale_);
        for (std::size_t i = item.first; i < item.first + item.count; ++i) {
          const std::size_t r = ks.rows[i];
          queries.push_back(head.q.row(static_cast<Eigen::Index>(r)).transpose());
          meta.push_back({{ks.layer, ks.head_index, ks.sequence, static_cast<std::int64_t>(r)},
                          static_cast<std::uint32_t>(runner.n())});
        }
        runner.run(queries, meta, out);
      }
    } else {
      const CertifiedQkvPoint& point = points_[ks.point];
      const std::uint64_t seed = config_.qkv[point.source].seed;
      RandomStream key_rng = make_stream(seed, ks.point, ks.key_set, StreamPurpose::kKeys);
      const QkvKeySet set = sample_key_set(point.parameters, key_rng);
      KeySetRunner runner(ctx_, set.keys, set.values, qkv_scale(point.parameters));
      for (std::size_t r = item.first; r < item.first + item.count; ++r) {
        const std::size_t row = ks.first_row + r;
        RandomStream query_rng = make_stream(seed, ks.point, row, StreamPurpose::kQuery);
        std::size_t target = 0;
        queries.push_back(sample_query(point.parameters, set, query_rng, &target));
        meta.push_back({{static_cast<std::int64_t>(ks.point), static_cast<std::int64_t>(ks.key_set),
                         static_cast<std::int64_t>(row), static_cast<std::int64_t>(target)},
                        static_cast<std::uint32_t>(runner.n())});
      }
      runner.run(queries, meta, out);
    }
    if (rows_done) rows_done(item.count);
  };
  // Every item fills its own slot; nothing depends on which thread runs it.
  arena_->execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, mine.size(), 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                        for (std::size_t m = range.begin(); m != range.end(); ++m)
                          run_item(m);
                      });
  });
  ByteWriter share;
  share.put<std::uint64_t>(mine.size());
  for (std::size_t m = 0; m < mine.size(); ++m) {
    share.put<std::uint64_t>(mine[m] - u.first);
    share.put_record(serialize_item(slots[m]));
  }
  return share.take();
}

std::string CertifiedWork::merge_shares(std::size_t unit,
                                        const std::vector<std::string>& shares) const {
  const Unit& u = units_[unit];
  std::vector<std::string> items(u.end - u.first);
  std::vector<char> present(items.size(), 0);
  for (const std::string& share : shares) {
    ByteReader reader(share, "certified share");
    const auto count = reader.get<std::uint64_t>();
    for (std::uint64_t c = 0; c < count; ++c) {
      const auto local = reader.get<std::uint64_t>();
      if (local >= items.size() || present[local]) {
        throw std::runtime_error("a share holds work item " + std::to_string(local) +
                                 " twice or out of range");
      }
      items[local] = reader.get_record();
      (void)decode_item(u.first + local, items[local]);
      present[local] = 1;
    }
    if (!reader.done()) throw std::runtime_error("bytes after the last work item of a share");
  }
  ByteWriter result;
  for (std::size_t j = 0; j < items.size(); ++j) {
    if (!present[j]) throw std::runtime_error("work item " + std::to_string(j) + " is missing");
    result.put_record(items[j]);
  }
  return result.take();
}

ItemResult CertifiedWork::decode_item(std::size_t item, const std::string& bytes) const {
  const std::size_t exact_per_row =
      config_.analysis.eps.size() * (1 + config_.analysis.bounds.size());
  const std::size_t records_per_row = ctx_.searches.size() * config_.analysis.eps.size();
  return deserialize_item(bytes, items_[item].count, exact_per_row, records_per_row,
                          ctx_.searches.size());
}

std::vector<ItemResult> CertifiedWork::decode_result(std::size_t unit,
                                                     const std::string& result) const {
  const Unit& u = units_[unit];
  ByteReader reader(result, "certified unit");
  std::vector<ItemResult> slots;
  for (std::size_t i = u.first; i < u.end; ++i)
    slots.push_back(decode_item(i, reader.get_record()));
  if (!reader.done()) throw std::runtime_error("bytes after the last work item of a unit");
  return slots;
}

void CertifiedWork::check_result(std::size_t unit, const std::string& result) const {
  (void)decode_result(unit, result);
}

std::vector<ItemResult> CertifiedWork::slots(const std::vector<std::string>& results) const {
  std::vector<ItemResult> all;
  all.reserve(items_.size());
  for (std::size_t u = 0; u < units_.size(); ++u) {
    for (ItemResult& slot : decode_result(u, results[u]))
      all.push_back(std::move(slot));
  }
  return all;
}

}  // namespace tvk::certified
