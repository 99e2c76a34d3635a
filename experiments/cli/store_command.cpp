// `tvk store`: inspecting logit stores (HDF5 files of per-head q, k, v vectors).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/hdf5/logit_store.h"
#include "core/text/text.h"
#include "experiments/cli/arg_parser.h"
#include "experiments/cli/cli.h"

namespace tvk::cli {
namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

int run_info(const std::vector<std::string>& args);

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> list = {
      {"info", "print a store's attributes, dimensions, sequence lengths and size", run_info},
  };
  return list;
}

std::string store_help() {
  std::string text =
      "usage: tvk store SUBCOMMAND [options]   (tvk store SUBCOMMAND --help for each)\n\n"
      "Inspects logit stores: HDF5 files of the per-head query, key and value vectors of a\n"
      "transformer's attention (format v1, written by experiments/bert/ or synthetically), from\n"
      "which every attention row's logits scale * q.k are recomputed.\n\nsubcommands:\n";
  for (const Subcommand& subcommand : subcommands()) {
    text += "  " + std::string(subcommand.name) +
            std::string(10 - std::string(subcommand.name).size(), ' ') + subcommand.summary + "\n";
  }
  text += "\nexample:\n  tvk store info tests/fixtures/minilm_store.h5\n";
  return text;
}

// One line per attribute: control characters are escaped so a multi-line value cannot break
// the layout.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(c));
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

std::string value_text(const AttributeValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return printable(*text);
  if (const auto* number = std::get_if<double>(&value)) return format_shortest(*number);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  std::string text = "[";
  const auto& values = std::get<std::vector<std::int64_t>>(value);
  for (std::size_t i = 0; i < values.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(values[i]);
  }
  return text + "]";
}

// Lengths in index order with runs of equal lengths folded ("128 x3, 256"); long lists keep
// their first and last runs.
std::string compact_lengths(const std::vector<StoreSequence>& sequences) {
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // (length, repeat)
  for (const StoreSequence& sequence : sequences) {
    if (!runs.empty() && runs.back().first == sequence.length) {
      ++runs.back().second;
    } else {
      runs.emplace_back(sequence.length, 1);
    }
  }
  auto run_text = [](const std::pair<std::size_t, std::size_t>& run) {
    return std::to_string(run.first) + (run.second > 1 ? " x" + std::to_string(run.second) : "");
  };
  constexpr std::size_t kHead = 16, kTail = 4;
  std::string text;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs.size() > kHead + kTail && i == kHead) {
      text += ", ... (" + std::to_string(runs.size() - kHead - kTail) + " more runs)";
      i = runs.size() - kTail - 1;
      continue;
    }
    text += (i > 0 ? ", " : "") + run_text(runs[i]);
  }
  return text;
}

std::string byte_size_text(std::uintmax_t bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  std::string text = std::to_string(bytes) + " bytes";
  double value = static_cast<double>(bytes);
  if (value < 1024.0) return text;
  std::size_t unit = 0;
  value /= 1024.0;
  while (value >= 1024.0 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, " (%.1f %s)", value, units[unit]);
  return text + buffer;
}

int run_info(const std::vector<std::string>& args) {
  ArgParser parser(
      "store info", "tvk store info STORE",
      "Opens a logit store, checks its structure (file type, format version, required\n"
      "attributes, every sequence's datasets and shapes) and prints every root attribute, the\n"
      "dimensions, the sequence lengths, the total number of tokens and of attention rows\n"
      "(sum of T x layers x heads) and the file size. A store that fails the check is reported\n"
      "on one line with exit code 2. The values are not read: NaN or inf in q, k or v is only\n"
      "found when a head is read.");
  parser.set_positionals("STORE", "a logit store (HDF5, format v1)", 1, 1);
  if (!parser.parse(args)) return 0;
  const std::filesystem::path path = parser.positionals().front();
  const LogitStore store = LogitStore::open(path);
  const LogitStoreInfo& info = store.info();

  std::size_t tokens = 0, logits = 0, longest = 0, shortest = SIZE_MAX;
  for (const StoreSequence& sequence : info.sequences) {
    tokens += sequence.length;
    logits += sequence.length * sequence.length;
    longest = std::max(longest, sequence.length);
    shortest = std::min(shortest, sequence.length);
  }
  const std::size_t heads_total = info.layers * info.heads;

  std::cout << path.string() << ": tvk logit store, format " << info.format_major << "."
            << info.format_minor << "\n\nattributes:\n";
  std::size_t width = 0;
  for (const auto& [name, value] : info.attributes.attributes)
    width = std::max(width, name.size());
  for (const auto& [name, value] : info.attributes.attributes) {
    std::cout << "  " << name << std::string(width + 2 - name.size(), ' ') << value_text(value)
              << "\n";
  }
  std::cout << "\ndimensions:     " << info.layers << " layers x " << info.heads
            << " heads, head_dim " << info.head_dim << ", scale " << format_shortest(info.scale)
            << "\n";
  std::cout << "sequences:      " << info.sequences.size() << " (length " << shortest << " to "
            << longest << ")\n";
  std::cout << "lengths:        " << compact_lengths(info.sequences) << "\n";
  std::cout << "tokens:         " << tokens << "\n";
  std::cout << "attention rows: " << tokens * heads_total << " (tokens x layers x heads)\n";
  std::cout << "logits:         " << logits * heads_total << " (sum of T^2 x layers x heads)\n";
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  std::cout << "file size:      " << (error ? std::string("unknown") : byte_size_text(size))
            << "\n";
  return 0;
}

}  // namespace

int run_store_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::cout << store_help();
    return 0;
  }
  if (args.empty()) {
    throw InputError("tvk store: expected a subcommand (info); tvk store --help lists them");
  }
  for (const Subcommand& subcommand : subcommands()) {
    if (args[0] == subcommand.name) {
      return subcommand.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  throw InputError("tvk store: unknown subcommand '" + args[0] + "' (tvk store --help lists them)");
}

}  // namespace tvk::cli
