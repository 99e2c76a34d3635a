#include "experiments/unit_runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <optional>
#include <system_error>

#include "core/engine/checkpoint.h"
#include "core/engine/progress.h"
#include "core/engine/thread_count.h"
#include "core/error.h"
#include "experiments/communicator.h"

namespace tvk {
namespace fs = std::filesystem;

namespace {

// Bumped when the engine's framing of units changes (old checkpoints are then refused).
constexpr char kEngineVersion[] = "tvk unit engine 1";

std::size_t total_rows(const UnitWork& work) {
  std::size_t rows = 0;
  for (std::size_t u = 0; u < work.unit_count(); ++u)
    rows += work.unit_rows(u);
  return rows;
}

//! --shard i/N: this shard's share of every unit, into a partial file (no checkpoints).
UnitRun run_shard(const UnitWork& work, const RunSpec& spec, const RunOptions& options,
                  UnitRun run) {
  const ShardSpec shard{options.shard_index, options.shard_count};
  ProgressReporter progress(
      spec.name + " shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count),
      total_rows(work) / shard.count, options.progress, std::cerr);
  std::vector<std::string> shares;
  for (std::size_t u = 0; u < work.unit_count(); ++u) {
    shares.push_back(
        work.compute_share(u, shard, [&progress](std::size_t r) { progress.advance(r); }));
  }
  progress.finish();
  fs::create_directories(options.out_dir);
  PartialHeader header;
  header.kind = spec.kind;
  header.config_text = spec.config_text;
  header.config_file = spec.config_file;
  header.seed = spec.seed;
  header.shard_index = shard.index;
  header.shard_count = shard.count;
  header.units = work.unit_count();
  header.fingerprint = run_fingerprint(spec);
  run.partial_path = partial_path(options.out_dir, spec.name, shard.index, shard.count);
  write_partial(run.partial_path, header, shares);
  return run;
}

}  // namespace

RunLock::RunLock(const fs::path& out_dir, const std::string& name)
    : path_(out_dir / (name + ".lock")) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw fs::filesystem_error("cannot create the run lock", path_,
                               std::error_code(errno, std::generic_category()));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw InputError((out_dir / name).string() +
                     ": another tvk run is writing these results (it holds " + path_.string() +
                     "); wait for it, or give this run another --out or name");
  }
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  std::error_code ignored;
  fs::remove(path_, ignored);
  ::close(fd_);
}

std::string run_fingerprint(const RunSpec& spec) {
  return fingerprint_of(spec.kind + "\n" + spec.fingerprint_text + "\n" + kEngineVersion);
}

fs::path checkpoint_dir(const std::string& name, const RunOptions& options) {
  return options.out_dir / (name + ".checkpoint");
}

void finish_checkpoint(const std::string& name, const RunOptions& options) {
  fs::remove_all(checkpoint_dir(name, options));
}

namespace {
void compute_units(const UnitWork& work, UnitRun& run, std::optional<CheckpointStore>& checkpoint,
                   const std::string& done_flags, const ShardSpec& mine, const RowsDone& rows_done);
}  // namespace

UnitRun run_units(const UnitWork& work, const RunSpec& spec, const RunOptions& options) {
  const Communicator& world = Communicator::world();
  UnitRun run;
  run.threads = resolve_thread_count(options.threads);
  run.is_root = world.is_root();
  if (options.shard_count > 1) {
    if (world.size() > 1) throw InputError("--shard and mpirun do not combine: use one of them");
    return run_shard(work, spec, options, std::move(run));
  }
  const std::size_t units = work.unit_count();

  // Rank 0 owns the checkpoint and decides which units are done; every rank learns it.
  std::optional<CheckpointStore> checkpoint;
  run.results.resize(run.is_root ? units : 0);
  std::string done_flags(units, '0');
  std::size_t remaining_rows = 0;
  if (run.is_root) {
    fs::create_directories(options.out_dir);
    run.lock = std::make_shared<RunLock>(options.out_dir, spec.name);
    checkpoint.emplace(checkpoint_dir(spec.name, options), run_fingerprint(spec), options.resume);
    const std::vector<char> restored = checkpoint->restore_saved(
        units,
        [&](std::size_t u, const std::string& bytes) {
          work.check_result(u, bytes);
          run.results[u] = bytes;
        },
        spec.unit_noun, std::cerr);
    for (std::size_t u = 0; u < units; ++u) {
      if (restored[u]) {
        done_flags[u] = '1';
        ++run.resumed_units;
      } else {
        remaining_rows += work.unit_rows(u);
      }
    }
  }
  world.broadcast(done_flags);

  ProgressReporter progress(spec.name, remaining_rows,
                            run.is_root ? options.progress : ProgressMode::kNone, std::cerr);
  // Rank 0 sees only its own rows; scaling by the rank count keeps its bar honest.
  const std::size_t ranks = static_cast<std::size_t>(world.size());
  const RowsDone rows_done = [&progress, ranks](std::size_t r) { progress.advance(r * ranks); };
  const ShardSpec mine{static_cast<std::size_t>(world.rank()), ranks};
  try {
    compute_units(work, run, checkpoint, done_flags, mine, rows_done);
  } catch (const InputError&) {
    // Bad input found mid-run (NaN in a store, a corrupt chunk): rerunning cannot help, so a
    // checkpoint folder this run started goes; one with resumed units stays for --resume.
    if (checkpoint && run.resumed_units == 0) fs::remove_all(checkpoint->dir());
    throw;
  }
  progress.finish();
  return run;
}

namespace {

// The units not restored from a checkpoint: this rank's share of each, gathered and merged on
// rank 0 in rank order, then checkpointed.
void compute_units(const UnitWork& work, UnitRun& run, std::optional<CheckpointStore>& checkpoint,
                   const std::string& done_flags, const ShardSpec& mine,
                   const RowsDone& rows_done) {
  const Communicator& world = Communicator::world();
  const std::size_t units = work.unit_count();
  for (std::size_t u = 0; u < units; ++u) {
    if (done_flags[u] == '1') continue;
    std::string share = work.compute_share(u, mine, rows_done);
    if (!run.is_root) {
      world.send(0, share);
      continue;
    }
    std::vector<std::string> shares;
    shares.push_back(std::move(share));
    for (int r = 1; r < world.size(); ++r)
      shares.push_back(world.receive(r));
    // Overhead = decoding and merging the shares; waiting for a slower rank is not counted.
    const auto gather_start = std::chrono::steady_clock::now();
    run.results[u] = work.merge_shares(u, shares);
    if (world.size() > 1) {
      run.gather_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - gather_start).count();
    }
    checkpoint->save(u, run.results[u]);
  }
}

}  // namespace

std::vector<std::string> merge_partials(const UnitWork& work, const RunSpec& spec,
                                        const std::vector<Partial>& partials) {
  const std::vector<const Partial*> ordered = order_partials(partials);
  const Partial& first = *ordered.front();
  if (first.header.kind != spec.kind || first.header.fingerprint != run_fingerprint(spec)) {
    throw InputError(first.path.string() +
                     ": its run fingerprint does not match its config and inputs as they are "
                     "now (a store or the config changed since the shards ran); rerun them");
  }
  if (first.header.units != work.unit_count()) {
    throw InputError(first.path.string() + ": holds " + std::to_string(first.header.units) + " " +
                     spec.unit_noun + "s, its config makes " + std::to_string(work.unit_count()));
  }
  std::vector<std::string> results;
  for (std::size_t u = 0; u < work.unit_count(); ++u) {
    std::vector<std::string> shares;
    for (const Partial* partial : ordered)
      shares.push_back(partial->shares[u]);
    try {
      results.push_back(work.merge_shares(u, shares));
    } catch (const std::exception& error) {
      throw InputError(first.path.string() + ": " + spec.unit_noun + " " + std::to_string(u) +
                       ": " + error.what());
    }
  }
  return results;
}

}  // namespace tvk
