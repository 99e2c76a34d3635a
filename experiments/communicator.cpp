#include "experiments/communicator.h"

#include <cstdlib>
#include <stdexcept>

#ifdef TVK_HAVE_MPI
#include <mpi.h>
#endif

namespace tvk {
namespace {

bool g_mpi_initialized = false;

#ifdef TVK_HAVE_MPI
bool launched_by_mpi() {
  // Only a process started by a launcher joins a job: a plain `tvk run` never starts MPI.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}
#endif

}  // namespace

Communicator& Communicator::world() {
  static Communicator communicator;
  return communicator;
}

bool built_with_mpi() {
#ifdef TVK_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void initialize_communicator([[maybe_unused]] int* argc, [[maybe_unused]] char*** argv) {
#ifdef TVK_HAVE_MPI
  if (!launched_by_mpi()) return;
  MPI_Init(argc, argv);
  g_mpi_initialized = true;
  Communicator& world = Communicator::world();
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size_);
#endif
}

void finalize_communicator() {
#ifdef TVK_HAVE_MPI
  if (g_mpi_initialized) MPI_Finalize();
  g_mpi_initialized = false;
#endif
}

void Communicator::send([[maybe_unused]] int to, [[maybe_unused]] const std::string& bytes) const {
#ifdef TVK_HAVE_MPI
  if (g_mpi_initialized) {
    // Size first, then the bytes in pieces below INT_MAX.
    unsigned long long size = bytes.size();
    MPI_Send(&size, 1, MPI_UNSIGNED_LONG_LONG, to, 0, MPI_COMM_WORLD);
    for (unsigned long long offset = 0; offset < size; offset += 1u << 30) {
      const int piece = static_cast<int>(std::min<unsigned long long>(1u << 30, size - offset));
      MPI_Send(bytes.data() + offset, piece, MPI_BYTE, to, 1, MPI_COMM_WORLD);
    }
    return;
  }
#endif
  throw std::logic_error("Communicator::send without MPI");
}

std::string Communicator::receive([[maybe_unused]] int from) const {
#ifdef TVK_HAVE_MPI
  if (g_mpi_initialized) {
    unsigned long long size = 0;
    MPI_Recv(&size, 1, MPI_UNSIGNED_LONG_LONG, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::string bytes(size, '\0');
    for (unsigned long long offset = 0; offset < size; offset += 1u << 30) {
      const int piece = static_cast<int>(std::min<unsigned long long>(1u << 30, size - offset));
      MPI_Recv(bytes.data() + offset, piece, MPI_BYTE, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return bytes;
  }
#endif
  throw std::logic_error("Communicator::receive without MPI");
}

void Communicator::broadcast([[maybe_unused]] std::string& bytes) const {
#ifdef TVK_HAVE_MPI
  if (g_mpi_initialized && size_ > 1) {
    unsigned long long size = bytes.size();
    MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    bytes.resize(size);
    for (unsigned long long offset = 0; offset < size; offset += 1u << 30) {
      const int piece = static_cast<int>(std::min<unsigned long long>(1u << 30, size - offset));
      MPI_Bcast(bytes.data() + offset, piece, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
  }
#endif
}

void Communicator::abort(int code) const {
#ifdef TVK_HAVE_MPI
  if (g_mpi_initialized) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace tvk
