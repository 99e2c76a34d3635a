#include "experiments/cli/cli.h"

#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "core/error.h"
#include "core/kernels/kernel_set.h"
#include "experiments/communicator.h"
#include "tvk/version.h"

namespace tvk::cli {

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> list = {
      {"run", "run a config-driven Monte Carlo sweep and write <out>/<name>.h5 and .csv",
       run_run_command},
      {"merge", "combine the partial files of tvk run --shard i/N into one results file",
       run_merge_command},
      {"validate", "check a config and its overrides; print the resolved config and grid size",
       run_validate_command},
      {"row", "analyse one row of logits: k_eps, tail mass, every bound, the identities",
       run_row_command},
      {"models", "list the score models, their parameters, defaults and ranges",
       run_models_command},
      {"bounds", "list the bound variants", run_bounds_command},
      {"searches", "list the certified search types, their keys and defaults",
       run_searches_command},
      {"rule", "asymptotic k_eps rule and finite-n prediction of E[k_eps]/n for a model",
       run_rule_command},
      {"store", "inspect a logit store (HDF5 q, k, v): tvk store info STORE", run_store_command},
  };
  return list;
}

namespace {

//! "PATH: cannot create directories: Not a directory" from libstdc++'s "filesystem error:
//! cannot create directories: Not a directory [PATH]".
std::string environment_message(const std::filesystem::filesystem_error& error) {
  std::string what = error.what();
  const std::string prefix = "filesystem error: ";
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (const auto bracket = what.find(" ["); bracket != std::string::npos) what.erase(bracket);
  const std::string path = error.path1().string();
  return (path.empty() ? std::string("an empty path") : path) + ": " + what;
}

void print_usage(std::ostream& out) {
  out << "tvk " << build::kVersion
      << ": a lab for certified Top-k attention\n\n"
         "usage: tvk VERB [options]   (tvk VERB --help for each verb)\n\nverbs:\n";
  for (const Verb& verb : verbs()) {
    out << "  " << verb.name << std::string(10 - std::string(verb.name).size(), ' ') << verb.summary
        << "\n";
  }
  out << "\ntvk --version prints the version and the kernel set in use (the best this CPU runs);\n"
         "TVK_KERNELS=generic|avx2|avx512 forces one. Every set gives the same results.\n";
}

}  // namespace

namespace {

int run_verb(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? kExitBadInput : 0;
  }
  // The kernel set is chosen once, before any work: a TVK_KERNELS this CPU cannot honour is a
  // clear error here rather than an exception in the middle of a run.
  const char* kernel_set = nullptr;
  try {
    kernel_set = kernels::kernel_set_name(kernels::kernel_set_from_environment());
    kernels::active_kernels();
  } catch (const std::invalid_argument& error) {
    // Every rank of an MPI job on one machine fails alike: rank 0 says it once.
    if (Communicator::world().is_root()) std::cerr << "tvk: error: " << error.what() << "\n";
    return kExitBadInput;
  }
  if (args[0] == "--version") {
    std::cout << "tvk " << build::kVersion << (built_with_mpi() ? " (with MPI)" : "") << "\n"
              << "kernels: " << kernel_set << "\n";
    return 0;
  }
  const Communicator& world = Communicator::world();
  for (const Verb& verb : verbs()) {
    if (args[0] != verb.name) continue;
    try {
      return verb.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const InputError& error) {
      // Every rank reads the same input and fails the same way: rank 0 says it once.
      if (world.is_root()) std::cerr << "tvk: error: " << error.what() << "\n";
      return kExitBadInput;
    } catch (const std::filesystem::filesystem_error& error) {
      // The environment (an --out that is a file, a folder that cannot be made, a full disk)
      // is not a bug: one line naming the path and the system's reason.
      if (world.is_root()) std::cerr << "tvk: error: " << environment_message(error) << "\n";
      return kExitBadInput;
    } catch (const std::exception& error) {
      if (world.size() > 1) {
        std::cerr << "tvk: rank " << world.rank() << " of " << world.size()
                  << ": internal error: " << error.what() << "\n"
                  << std::flush;
        world.abort(1);  // the other ranks may be waiting for this one
      }
      std::cerr << "tvk: internal error: " << error.what() << "\n";
      return 1;
    }
  }
  std::cerr << "tvk: error: unknown verb '" << args[0] << "' (tvk --help lists them)\n";
  return kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  initialize_communicator(&argc, &argv);
  const int code = run_verb(std::vector<std::string>(argv + 1, argv + argc));
  finalize_communicator();
  return code;
}

}  // namespace tvk::cli
