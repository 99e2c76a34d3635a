#include "core/hdf5/child_probe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace tvk {

void probe_in_child(const std::filesystem::path& path, unsigned seconds,
                    const std::function<void()>& read) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return;
  if (child == 0) {
    ::alarm(seconds);
    try {
      read();
    } catch (...) {
    }
    ::_exit(0);  // no atexit handlers: HDF5's own may trip on the damaged file again
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
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

}  // namespace tvk
