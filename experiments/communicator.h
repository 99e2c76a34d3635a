#pragma once
//! \file The processes of one run: a single process, or the ranks of an MPI job
//! (`mpirun -np N tvk run CONFIG`, when tvk is built with MPI). Work items are split across
//! ranks by index; rank 0 gathers in a fixed order and writes the one results file.

#include <string>

namespace tvk {

//! Point-to-point byte messages and broadcasts between the ranks of a run.
class Communicator {
 public:
  //! The world of this process: MPI_COMM_WORLD when MPI was initialised, else one rank.
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  //! Sends bytes to rank `to` (blocking).
  void send(int to, const std::string& bytes) const;
  //! Receives bytes from rank `from` (blocking).
  std::string receive(int from) const;
  //! Rank 0's `bytes` on every rank.
  void broadcast(std::string& bytes) const;
  //! Stops every rank of the job with `code` (after a rank's fatal error).
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  friend void initialize_communicator(int* argc, char*** argv);
  friend void finalize_communicator();
};

//! Initialises MPI when the process was started by an MPI launcher (and tvk has MPI).
void initialize_communicator(int* argc, char*** argv);
//! Finalises MPI if it was initialised.
void finalize_communicator();
//! Whether this tvk was built with MPI.
bool built_with_mpi();

}  // namespace tvk
