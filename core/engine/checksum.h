#pragma once
//! \file Checksums of checkpoints, partial files and run fingerprints: XXH3-64 (Debian's
//! libxxhash-dev, linked) over one or more byte strings, as 16 hex digits. Integrity
//! against damage and mix-ups, not security.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace tvk {

//! XXH3-64 of the concatenation of `parts`, each preceded by its length (so ("ab","c") and
//! ("a","bc") differ).
std::uint64_t checksum64(std::initializer_list<std::string_view> parts);

//! checksum64 as 16 lower-case hex digits.
std::string checksum_hex(std::initializer_list<std::string_view> parts);

//! XXH3-64 of a whole file's bytes as 16 hex digits (read in 1 MiB blocks); throws
//! std::filesystem::filesystem_error when it cannot be read.
std::string file_checksum_hex(const std::string& path);

}  // namespace tvk
