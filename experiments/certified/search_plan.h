#pragma once
//! \file A certified run's searches ready to run and what every work item shares (internal to
//! the certified kind: experiments/certified_sweep.cpp).

#include <array>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounds/bound.h"
#include "core/certified/cells.h"
#include "core/certified/certified_search.h"
#include "core/certified/quantized_keys.h"
#include "core/certified/search.h"
#include "core/config/certified_config.h"
#include "core/rows/row_analysis.h"

namespace tvk::certified {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

//! The output-level ratios reported per row, bound / exact.
constexpr std::size_t kRatioCount = 5;  // certificate, O2, O3, O4, O5
const std::array<const char*, kRatioCount> kRatioNames = {"certificate", "o2", "o3", "o4", "o5"};

//! A search ready to run.
struct SearchPlan {
  const CertifiedSearch* search = nullptr;  //!< the config's search (CertifiedSearchSpec::search)
  //! Index into RunContext::cell_options of the partition it runs on; nullopt when it uses none.
  std::optional<std::size_t> cells;
  //! Index into RunContext::quantizers of the key codes it reads; nullopt when it reads none.
  std::optional<std::size_t> quantizer;
};

//! What every work item shares (read-only).
struct RunContext {
  const CertifiedConfig* config = nullptr;
  std::vector<CellOptions> cell_options;     //!< distinct cell partitions the searches use
  std::vector<QuantizerOptions> quantizers;  //!< distinct key quantizations the searches read
  std::vector<SearchPlan> searches;
  std::shared_ptr<const RowAnalysisPlan> plan;  //!< exact k_eps and the full-row bounds
  BoundOptions bound_options;                   //!< for the searches' Top-k bounds
  CostModel cost;
};

//! The plans of a config's searches, with each distinct cell partition listed once.
RunContext make_context(const CertifiedConfig& config);

}  // namespace tvk::certified
