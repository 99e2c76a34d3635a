//! \file Tests of probe_in_child (core/hdf5/child_probe.h): a read that finishes is silent, one
//! that crashes or runs past its time is one InputError naming the file, and a child that runs
//! on is stopped even where the process ignores SIGALRM (a handler the child inherits, such as
//! libFuzzer's, once let a looping child outlive its parent).

#include "core/hdf5/child_probe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/error.h"

namespace tvk {
namespace {

std::string probe_error(unsigned seconds, const std::function<void()>& read) {
  try {
    probe_in_child("some/store.h5", seconds, read);
  } catch (const InputError& error) {
    return error.what();
  }
  return {};
}

TEST(ChildProbe, AReadThatFinishesIsSilent) {
  EXPECT_EQ(probe_error(5, [] {}), "");
  EXPECT_EQ(probe_error(5, [] { throw std::runtime_error("reported by the real read"); }), "");
}

TEST(ChildProbe, ACrashIsOneInputErrorNamingTheFile) {
  const std::string message = probe_error(5, [] { std::abort(); });
  EXPECT_NE(message.find("some/store.h5: damaged HDF5 file"), std::string::npos) << message;
  EXPECT_NE(message.find("crashed"), std::string::npos) << message;
}

TEST(ChildProbe, AReadThatRunsOnIsStoppedEvenWhenSigalrmIsIgnored) {
  struct IgnoreAlarm {
    void (*old)(int) = std::signal(SIGALRM, SIG_IGN);
    ~IgnoreAlarm() { std::signal(SIGALRM, old); }
  } ignore;
  const auto start = std::chrono::steady_clock::now();
  const std::string message = probe_error(1, [] {
    for (;;)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(message.find("some/store.h5: damaged HDF5 file: the HDF5 library did not finish "
                         "reading its structure in 1 s"),
            std::string::npos)
      << message;
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 20.0);  // stopped, not left to run (a generous limit on a shared machine)
}

}  // namespace
}  // namespace tvk
