#pragma once
//! \file `tvk run -m`: Hydra-style multirun. An override whose value holds commas outside
//! brackets, braces and quotes (`seed=1,2,3`, `model.sigma=[1,2],[3,4]`) is a sweep over those
//! values; the jobs are the Cartesian product of all such overrides (the first one slowest),
//! each run as its own results file named `<name>_<key>-<value>_...`.

#include <string>
#include <vector>

namespace tvk::cli {

//! One job of a multirun.
struct MultirunJob {
  std::vector<std::string> overrides;  //!< the shared overrides plus one value per swept key
  std::string label;                   //!< "seed=1 model.sigma=2": the swept values
  std::string name_suffix;             //!< "_seed-1_model.sigma-2", appended to the run's name
};

//! Splits an override's value at top-level commas ("[1,2],3" -> "[1,2]", "3").
std::vector<std::string> split_top_level_commas(const std::string& value);

//! The jobs of `overrides` (one job with every override and an empty suffix when none sweeps).
//! Throws InputError for an empty value in a sweep ("seed=1,,2") and for two jobs whose names
//! would be the same.
std::vector<MultirunJob> expand_multirun(const std::vector<std::string>& overrides);

}  // namespace tvk::cli
