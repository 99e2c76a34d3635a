#include "core/hdf5/child_probe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "core/error.h"

namespace tvk {

void probe_in_child(const std::filesystem::path& path, unsigned seconds,
                    const std::function<void()>& read) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return;
  if (child == 0) {
    // The alarm must end the child even if the parent is gone; a handler inherited from the
    // parent (libFuzzer installs one for its timeouts) would let it run on.
    ::signal(SIGALRM, SIG_DFL);
    ::alarm(seconds);
    try {
      read();
    } catch (...) {
    }
    ::_exit(0);  // no atexit handlers: HDF5's own may trip on the damaged file again
  }
  // The parent keeps its own deadline as well and kills a child still running at it, whatever
  // the child does with its alarm. Polled with a growing pause: a sound store's structure is
  // read in milliseconds, and this waits at most 10 ms past the child's end.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) return;  // not our child any more: read in-process
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      throw InputError(path.string() + ": damaged HDF5 file: the HDF5 library did not finish " +
                       "reading its structure in " + std::to_string(seconds) + " s");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
  // The child exits 0 whatever it found (errors are reported by the real read); anything else
  // is the library failing: a signal, or a sanitizer's exit code in an ASan build.
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    throw InputError(path.string() + ": damaged HDF5 file: the HDF5 library failed reading its " +
                     "structure (exit " + std::to_string(WEXITSTATUS(status)) + ")");
  }
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    throw InputError(path.string() + ": damaged HDF5 file: " +
                     (signal == SIGALRM
                          ? "the HDF5 library did not finish reading its structure in " +
                                std::to_string(seconds) + " s"
                          : "the HDF5 library crashed reading its structure (" +
                                std::string(::strsignal(signal)) + ")"));
  }
}

unsigned probe_seconds_from_environment() {
  const char* text = std::getenv("TVK_HDF5_PROBE_SECONDS");
  if (text == nullptr) return 30;
  const std::string_view view(text);
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), seconds);
  if (error != std::errc() || end != view.data() + view.size() || seconds < 1 || seconds > 3600) {
    throw InputError("environment variable TVK_HDF5_PROBE_SECONDS: '" + std::string(view) +
                     "' is not a whole number of seconds from 1 to 3600");
  }
  return seconds;
}

}  // namespace tvk
