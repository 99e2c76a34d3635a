#pragma once
//! \file Experiment kind "certified" (THEORY §2 B5, §6): certified searches that score only some
//! keys of an attention row — MC-Search over clusters or blocks, B5, Δk-Search — run on query
//! rows of a logit store (real attention) or of the synthetic q/K/V families, and measured
//! against the exact k_eps of the full row and the full-row bounds B1–B4: scored, summaries
//! read and kept keys per n, whether each certificate holds (true τ <= bound <= ε), the output
//! error with its certificate and O2–O5, and the speed of each search against scoring every key.
//!
//! Work items are (key set, chunk of its query rows); a key set is one (layer, head, sequence)
//! of a store or one sampled key set of a qkv grid point, whose cells are built once per item
//! and reused by all of its queries. Items run in parallel (oneTBB) into their own slots and are
//! merged in item order, so every table except `speed` is bit-identical at any thread count,
//! shard count (`--shard`, `tvk merge`) or MPI rank count (experiments/certified/certified_work.h).

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/config/certified_config.h"
#include "core/results/results_table.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

namespace tvk {

//! What a finished certified run wrote.
struct CertifiedOutcome {
  std::filesystem::path h5_path;   //!< <out>/<name>.h5: points, [pooled,] speed, [rows]
  std::filesystem::path csv_path;  //!< <out>/<name>.csv: pooled (store) or points (qkv)
  //! non-causal store: <out>/<name>_points.csv; causal store: <out>/<name>_pooled.csv (its main
  //! CSV is then per layer); qkv: empty
  std::filesystem::path points_csv_path;
  std::filesystem::path speed_csv_path;  //!< <out>/<name>_speed.csv
  //! Store: one row per (layer, n, search, eps); qkv: one row per (point, search, eps).
  Table points;
  Table pooled;  //!< store: one row per (n, search, eps), layers and heads pooled; qkv: empty
  Table speed;   //!< timings (not reproducible): store per (n, search), qkv per (point, search)
  Table rows;    //!< one row per (query row, search, eps) when store_rows, else empty
  std::size_t rows_total = 0;      //!< query rows
  std::size_t searches_total = 0;  //!< searches run (query rows × searches × eps)
  std::size_t threads = 0;
  double seconds = 0.0;
  bool wrote_results = true;           //!< false on MPI ranks other than 0 and for shards
  std::filesystem::path partial_path;  //!< the partial file of a --shard run
};

//! Runs the searches with checkpoints (per unit: a store's (layer, head) or a qkv grid point)
//! and writes the results files atomically; with options.shard_count > 1, this shard's partial
//! file for `tvk merge` instead. Throws InputError for a store selection out of range.
CertifiedOutcome run_certified_sweep(const CertifiedConfig& config, const RunOptions& options);

//! `tvk merge`: the results files of the run whose shards wrote `partials`, at `stem`.
CertifiedOutcome merge_certified_partials(const CertifiedConfig& config,
                                          const std::vector<Partial>& partials,
                                          const std::filesystem::path& stem,
                                          const std::string& command_line);

//! The table `tvk run` prints: the pooled table (store) or the points (qkv), one line per
//! (group, search, eps) with scored/n, kept/n, exact k/n, certified and valid fractions; at
//! most `max_lines` lines.
std::string certified_summary(const CertifiedConfig& config, const CertifiedOutcome& outcome,
                              std::size_t max_lines);

}  // namespace tvk
