#include "core/engine/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace tvk {

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "bar") return ProgressMode::kBar;
  if (text == "log") return ProgressMode::kLog;
  if (text == "none") return ProgressMode::kNone;
  throw InputError("--progress: '" + text + "' is not one of auto, bar, log, none");
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long long>(seconds + 0.5);
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                  total % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld", total / 60, total % 60);
  }
  return buffer;
}

ProgressReporter::ProgressReporter(std::string description, std::size_t total, ProgressMode mode,
                                   std::ostream& out)
    : description_(std::move(description)), total_(total), mode_(mode), out_(out) {
  if (mode_ == ProgressMode::kAuto) {
    const bool tty = isatty(STDERR_FILENO) == 1;
    const char* ci = std::getenv("CI");
    mode_ = tty && (ci == nullptr || *ci == '\0') ? ProgressMode::kBar : ProgressMode::kLog;
  }
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() {
  if (!finished_ && mode_ == ProgressMode::kBar && done_ > 0) out_ << "\n";
}

void ProgressReporter::advance(std::size_t units) {
  const std::size_t done = done_.fetch_add(units) + units;
  if (mode_ == ProgressMode::kNone) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval =
      mode_ == ProgressMode::kBar ? std::chrono::milliseconds(100) : std::chrono::seconds(5);
  std::unique_lock lock(mutex_, std::try_to_lock);  // never make a worker wait to draw
  if (!lock.owns_lock() || now - last_draw_ < interval) return;
  last_draw_ = now;
  draw(done, false);
}

void ProgressReporter::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::kNone) return;
  std::lock_guard lock(mutex_);
  draw(done_.load(), true);
}

void ProgressReporter::draw(std::size_t done, bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double fraction = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : NAN;
  char stats[160];
  std::snprintf(stats, sizeof stats, "%zu/%zu [%s<%s, %.4g rows/s]", done, total_,
                format_duration(elapsed).c_str(), format_duration(eta).c_str(), rate);
  if (mode_ == ProgressMode::kBar) {
    constexpr int kWidth = 25;
    const double filled = fraction * kWidth;
    std::string bar;
    for (int i = 0; i < kWidth; ++i) {
      if (i < static_cast<int>(filled)) {
        bar += "\u2588";
      } else if (i == static_cast<int>(filled) && filled - i >= 0.5) {
        bar += "\u258c";
      } else {
        bar += " ";
      }
    }
    char percent[16];
    std::snprintf(percent, sizeof percent, "%3.0f%%", 100.0 * fraction);
    out_ << "\r" << description_ << ": " << percent << "|" << bar << "| " << stats
         << (final ? "\n" : "") << std::flush;
  } else {
    char percent[16];
    std::snprintf(percent, sizeof percent, "%5.1f%%", 100.0 * fraction);
    out_ << description_ << ": " << percent << " " << stats << "\n" << std::flush;
  }
}

}  // namespace tvk
