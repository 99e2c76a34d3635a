#pragma once
//! \file Progress of long runs on stderr, tqdm style: a bar redrawn at most 10 times a second
//! on a terminal, a plain heartbeat line every few seconds otherwise (or when CI is set).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace tvk {

//! How progress is shown.
enum class ProgressMode { kAuto, kBar, kLog, kNone };

//! Parses "auto" | "bar" | "log" | "none"; throws InputError otherwise.
ProgressMode parse_progress_mode(const std::string& text);

//! A thread-safe progress reporter over a known total of units (rows).
class ProgressReporter {
 public:
  //! kAuto picks a bar on a terminal without CI set, heartbeat lines otherwise.
  ProgressReporter(std::string description, std::size_t total, ProgressMode mode,
                   std::ostream& out);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  //! Adds `units` done; redraws when due. Callable from any thread.
  void advance(std::size_t units);
  //! Final line (100%, total time).
  void finish();

 private:
  void draw(std::size_t done, bool final);

  std::string description_;
  std::size_t total_;
  ProgressMode mode_;
  std::ostream& out_;
  std::atomic<std::size_t> done_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

//! "1:02:03" or "02:03".
std::string format_duration(double seconds);

}  // namespace tvk
