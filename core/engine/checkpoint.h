#pragma once
//! \file Checkpoints of a sweep: one file per completed grid point in `<out>/<name>.checkpoint/`,
//! each written atomically, plus a manifest holding the run's fingerprint (resolved config and
//! tvk version). A killed run loses at most the points in flight; `--resume` reloads the rest.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tvk {

//! The checkpoint folder of one run.
class CheckpointStore {
 public:
  //! Opens `dir` for a run with this fingerprint. With `resume`, an existing folder must hold
  //! the same fingerprint (else InputError); without it, any old checkpoint is discarded.
  CheckpointStore(std::filesystem::path dir, std::string fingerprint, bool resume);

  //! The saved bytes of point p, if it was completed. A point file whose header or checksum
  //! does not match (a truncated or altered file) throws InputError naming it.
  std::optional<std::string> load(std::size_t point) const;
  //! Saves point p atomically (temporary file + rename), with a checksum of the bytes.
  void save(std::size_t point, const std::string& bytes) const;
  //! Reloads the saved items among 0..count−1 through `restore(i, bytes)`, which throws if the
  //! bytes do not fit. A damaged or rejected file is reported on `log` ("tvk: <why>;
  //! recomputing <noun> i") and left to be recomputed; a resume that loaded anything says so
  //! ("resuming: R of count <noun>s loaded from <dir>"). Returns which items were restored.
  std::vector<char> restore_saved(
      std::size_t count, const std::function<void(std::size_t, const std::string&)>& restore,
      const std::string& noun, std::ostream& log) const;
  //! Number of points found when the store was opened.
  std::size_t resumed_points() const { return resumed_; }
  //! Removes the folder (after the results file is complete).
  void remove() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path point_path(std::size_t point) const;
  std::string point_checksum(std::size_t point, const std::string& bytes) const;
  std::filesystem::path dir_;
  std::string fingerprint_;
  std::size_t resumed_ = 0;
};

//! XXH3-64 of text, as 16 hex digits (fingerprints, not security).
std::string fingerprint_of(const std::string& text);

}  // namespace tvk
