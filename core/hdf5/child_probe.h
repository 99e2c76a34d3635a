#pragma once
//! \file Running a read that a library may crash on in a child process first: libhdf5 1.10
//! crashes, overflows or loops on some damaged files (tests/fuzz/known/logit_store/), and no
//! input may crash tvk. The child's crash becomes one InputError here.

#include <filesystem>
#include <functional>

namespace tvk {

//! Runs `read` in a forked child stopped after `seconds` (its own alarm and a kill by the parent);
//! returns when it finishes (whatever it threw), throws InputError "<path>: damaged HDF5 file: ..."
//! when the child died by a signal, ran out of time or exited non-zero (a sanitizer's report).
//! Skipped under MPI (OpenMPI dislikes fork) and where fork fails; the caller then reads in-process
//! as usual.
void probe_in_child(const std::filesystem::path& path, unsigned seconds,
                    const std::function<void()>& read);

//! The probe's time limit: TVK_HDF5_PROBE_SECONDS if set (a whole number from 1 to 3600, else
//! InputError naming the variable), 30 s otherwise (a store's structure is read in well under a
//! second; the fuzz target sets a limit below its own per-input timeout).
unsigned probe_seconds_from_environment();

}  // namespace tvk
