//! \file The committed test fixtures (tests/fixtures/, made as tests/fixtures/README.md says).
//! A missing one is a failure, never a skip: a checkout without them must not pass with the
//! tests that read them quietly left out. Only things outside the repository (the full LLM
//! store of make llm-store, Python modules, MPI) may skip. Header-only test support.

#pragma once

#include <filesystem>
#include <string>

namespace tvk::test {

//! The failure message for a committed fixture that is not there:
//!   ASSERT_TRUE(std::filesystem::exists(path)) << missing_fixture(path);
inline std::string missing_fixture(const std::filesystem::path& path) {
  return "the committed fixture " + path.string() +
         " is missing (tests/fixtures/README.md says how it is made)";
}

}  // namespace tvk::test
