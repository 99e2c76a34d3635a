#pragma once
//! \file The units of a certified run for the engine (experiments/unit_runner.h), internal to the
//! certified kind. Key sets are one (layer, head, sequence) of a store or one sampled key set of
//! a qkv grid point; work items are (key set, chunk of its query rows), in the order layer →
//! head → sequence → chunk (store) or point → key set → chunk (qkv). A unit is a store's
//! (layer, head), whose heads it reads when it starts (HDF5 is serial), or a qkv grid point; its
//! result is its items' slots in item order, so shards and ranks change nothing.

#include <tbb/task_arena.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/certified/qkv_models.h"
#include "core/config/certified_config.h"
#include "core/hdf5/logit_store.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/search_plan.h"
#include "experiments/unit_runner.h"

namespace tvk::certified {

//! One key set: a (layer, head, sequence) of a store or a sampled key set of a qkv point.
struct KeySetRef {
  std::int64_t layer = 0, head_index = 0, sequence = 0;  //!< store
  std::size_t point = 0;                                 //!< qkv grid point (store: 0)
  std::size_t key_set = 0;                               //!< qkv: key set index within its point
  std::size_t first_row = 0;  //!< qkv: the point's row index of the first query
  std::size_t queries = 0;    //!< query rows of this key set
  //! store: the stored query rows it runs (query_stride, min_n), `queries` of them
  std::vector<std::size_t> rows;
  std::size_t n = 0;
};

//! A work item: rows [first, first + count) of one key set.
struct WorkItem {
  std::size_t key_set = 0, first = 0, count = 0;
};

class CertifiedWork final : public UnitWork {
 public:
  //! Plans the key sets, items and units of `config` (opening its store, if any). `ctx` must
  //! outlive this.
  CertifiedWork(const CertifiedConfig& config, const RunContext& ctx, std::size_t threads);

  std::size_t unit_count() const override { return units_.size(); }
  std::size_t unit_rows(std::size_t unit) const override;
  std::string compute_share(std::size_t unit, const ShardSpec& shard,
                            const RowsDone& rows_done) const override;
  std::string merge_shares(std::size_t unit, const std::vector<std::string>& shares) const override;
  void check_result(std::size_t unit, const std::string& result) const override;

  //! Every item's slot, in item order, from every unit's result.
  std::vector<ItemResult> slots(const std::vector<std::string>& results) const;

  bool store_source() const { return store_.has_value(); }
  const LogitStore& store() const { return *store_; }
  const std::vector<KeySetRef>& key_sets() const { return key_sets_; }
  const std::vector<WorkItem>& items() const { return items_; }
  const std::vector<CertifiedQkvPoint>& points() const { return points_; }
  //! What changes the data beyond the resolved config: the store's identity, the item layout.
  std::string fingerprint_text() const;

 private:
  //! Items [first, end) of one unit.
  struct Unit {
    std::size_t first = 0, end = 0;
  };
  std::vector<ItemResult> decode_result(std::size_t unit, const std::string& result) const;
  ItemResult decode_item(std::size_t item, const std::string& bytes) const;

  const CertifiedConfig& config_;
  const RunContext& ctx_;
  std::optional<LogitStore> store_;
  double store_scale_ = 1.0;
  std::vector<CertifiedQkvPoint> points_;
  std::vector<KeySetRef> key_sets_;
  std::vector<WorkItem> items_;
  std::vector<Unit> units_;
  std::unique_ptr<tbb::task_arena> arena_;
};

}  // namespace tvk::certified
