#pragma once
//! \file The engine under every experiment kind. A kind cuts its work into units (a grid point of
//! a sweep, a (layer, head) or grid point of a certified run); each unit's work items are dealt
//! to shards and MPI ranks by index (item j to j mod N), and a unit's result is the fixed-order
//! merge of its shares, so one process, N ranks and N shards give the same bytes. Around that the
//! runner does, the same way for every kind: checkpoints per unit, `--resume`, progress, the MPI
//! gather on rank 0, and for `--shard i/N` the partial file that `tvk merge` combines.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/sweep_runner.h"
#include "experiments/partial_file.h"
#include "experiments/run_options.h"

namespace tvk {

//! Called with the number of rows just finished (from any thread).
using RowsDone = std::function<void(std::size_t)>;

//! A kind's work as units. Implementations are read-only while the runner works, and each
//! method may be called from the main thread only (they parallelise inside).
class UnitWork {
 public:
  virtual ~UnitWork() = default;
  virtual std::size_t unit_count() const = 0;
  //! Rows in unit u, for progress.
  virtual std::size_t unit_rows(std::size_t unit) const = 0;
  //! Computes the share of unit u that `shard` owns (its items j with j % count == index).
  virtual std::string compute_share(std::size_t unit, const ShardSpec& shard,
                                    const RowsDone& rows_done) const = 0;
  //! Unit u's result from the shares of shards 0..N−1, in that order (N = 1: the one share).
  //! Throws std::exception when a share does not fit the unit.
  virtual std::string merge_shares(std::size_t unit,
                                   const std::vector<std::string>& shares) const = 0;
  //! Throws std::exception when `result` cannot be unit u's (a checkpoint of another shape).
  virtual void check_result(std::size_t unit, const std::string& result) const = 0;
};

//! What identifies a run: its name and kind, and everything that changes its data.
struct RunSpec {
  std::string kind;
  std::string name;              //!< results name: `<out>/<name>.h5`, the checkpoint folder
  std::string fingerprint_text;  //!< resolved config, input stores' identity, codec versions
  std::string config_text;       //!< resolved config (partial files carry it to tvk merge)
  std::string config_file;
  std::uint64_t seed = 0;
  std::string unit_noun = "point";  //!< how progress and resume messages name a unit
};

//! An exclusive lock on a run's results (`<out>/<name>.lock`, flock): a second run into the same
//! output refuses instead of racing the first. Released (and the file removed) on destruction.
class RunLock {
 public:
  //! Takes the lock; InputError naming the results when another process holds it.
  RunLock(const std::filesystem::path& out_dir, const std::string& name);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

//! The outcome of run_units.
struct UnitRun {
  std::vector<std::string> results;    //!< every unit's result, on rank 0 of a whole run
  bool is_root = true;                 //!< false on MPI ranks other than 0 (they write nothing)
  std::filesystem::path partial_path;  //!< a --shard run: the partial file it wrote
  std::size_t resumed_units = 0;
  std::size_t threads = 0;
  double gather_seconds = 0.0;  //!< rank 0: decoding + merging other ranks' shares (not waiting)
  //! Rank 0 of a whole run: held until this UnitRun is gone, i.e. until the kind has written
  //! its results from it.
  std::shared_ptr<RunLock> lock;
  bool wrote_partial() const { return !partial_path.empty(); }
};

//! Runs every unit (see the file comment). A whole run takes the results' RunLock and checkpoints
//! each unit as it completes in `<out>/<name>.checkpoint/` (left in place: call
//! finish_checkpoint once the results are written); a --shard run writes
//! `<out>/<name>.shard-<i>-of-<N>.tvkpart` instead. When a unit fails on bad input (an
//! InputError, e.g. NaN in a store), a checkpoint folder this run started is removed: nothing is
//! left behind but what a --resume can use.
UnitRun run_units(const UnitWork& work, const RunSpec& spec, const RunOptions& options);

//! The fingerprint of a run's data: checkpoints and partial files carry it.
std::string run_fingerprint(const RunSpec& spec);

//! Every unit's result from a complete set of partials of one run (checked by check_partials),
//! merged as a single process would have.
std::vector<std::string> merge_partials(const UnitWork& work, const RunSpec& spec,
                                        const std::vector<Partial>& partials);

//! The checkpoint folder of run `name`: `<out>/<name>.checkpoint`.
std::filesystem::path checkpoint_dir(const std::string& name, const RunOptions& options);

//! Removes the checkpoint folder of run `name` after its results are complete.
void finish_checkpoint(const std::string& name, const RunOptions& options);

}  // namespace tvk
