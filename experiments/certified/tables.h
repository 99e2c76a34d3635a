#pragma once
//! \file The certified kind's tables: a table built row by row and the summary columns of one
//! (search, eps) over a set of query rows, and the run's tables from its items' results
//! (internal to the certified kind).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config/certified_config.h"
#include "core/results/results_table.h"
#include "experiments/certified/certified_work.h"
#include "experiments/certified/item_result.h"
#include "experiments/certified/search_plan.h"

namespace tvk::certified {

//! Median of the non-NaN values (NaN when there is none).
double median(std::vector<double>& values);

//! Builds a table row by row: the first row fixes the columns and their order.
class TableBuilder {
 public:
  void put(const std::string& name, double value, const std::string& doc = "") {
    column(name, doc, std::vector<double>{}).push_back(value);
  }
  void put_int(const std::string& name, std::int64_t value, const std::string& doc = "") {
    column(name, doc, std::vector<std::int64_t>{}).push_back(value);
  }
  void put_bool(const std::string& name, bool value, const std::string& doc = "") {
    column(name, doc, std::vector<std::uint8_t>{}).push_back(value ? 1 : 0);
  }
  void put_string(const std::string& name, const std::string& value, const std::string& doc = "") {
    column(name, doc, std::vector<std::string>{}).push_back(value);
  }
  Table take() { return std::move(table_); }

 private:
  template <class V>
  V& column(const std::string& name, const std::string& doc, V empty) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      it = index_.emplace(name, table_.columns.size()).first;
      table_.columns.push_back({name, std::move(empty), doc});
    }
    return std::get<V>(table_.columns[it->second].values);
  }
  Table table_;
  std::map<std::string, std::size_t> index_;
};

//! A query row of the run: which item and which row within it.
struct RowRef {
  std::size_t item = 0, row = 0;
};

//! Summary columns of (search s, eps e) over `refs`.
void summarize(const RunContext& ctx, const std::vector<ItemResult>& items,
               const std::vector<RowRef>& refs, std::size_t s, std::size_t e, TableBuilder& out);

//! The tables of a certified run.
struct CertifiedTables {
  Table points;  //!< store: per (layer, n or n_bucket, search, eps); qkv: per (point, search, eps)
  Table pooled;  //!< store: per (n or n_bucket, search, eps), layers pooled; qkv: empty
  Table speed;   //!< wall-clock timings (not reproducible): store per (n, search), qkv per point
  Table rows;    //!< per (query row, search, eps) when the config's store_rows, else empty
};

//! The tables of a certified run from every item's slot (in item order), in named steps: the
//! rows grouped, the points (and pooled) tables, the speed table, the rows table.
CertifiedTables certified_tables(const CertifiedConfig& config, const RunContext& ctx,
                                 const CertifiedWork& work, const std::vector<ItemResult>& slots);

//! A parameter as the tables print it ("%g").
std::string format_param(double value);

}  // namespace tvk::certified
