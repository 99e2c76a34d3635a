#pragma once
//! \file Shared row generators for the core and CLI tests: random rows from several laws and
//! adversarial rows (ties, tiny tails, huge ranges, masked keys, n = 1 and 2). Random rows
//! draw from tvk::RandomStream (xoshiro256++) through Boost.Random distributions, never std::
//! ones, so every test sees the same rows on every platform.

#include <algorithm>
#include <boost/random/extreme_value_distribution.hpp>
#include <boost/random/laplace_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/student_t_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/random/stream.h"

namespace tvk::test {

inline constexpr double kMask = -std::numeric_limits<double>::infinity();

//! A row of logits with a name for failure messages.
struct NamedRow {
  std::string name;
  std::vector<double> logits;
};

//! The laws random rows are drawn from.
enum class RowLaw { kGaussian, kStudentT, kLaplace, kGumbel, kUniform };

inline const char* law_name(RowLaw law) {
  switch (law) {
    case RowLaw::kGaussian:
      return "gaussian";
    case RowLaw::kStudentT:
      return "student_t";
    case RowLaw::kLaplace:
      return "laplace";
    case RowLaw::kGumbel:
      return "gumbel";
    case RowLaw::kUniform:
      return "uniform";
  }
  return "?";
}

//! n i.i.d. logits of `law` with scale `scale` (sigma for the Gaussian, half-width for the
//! uniform, the scale parameter otherwise; Student-t has 3 degrees of freedom times scale).
inline std::vector<double> random_logits(RowLaw law, double scale, std::size_t n,
                                         RandomStream& rng) {
  std::vector<double> row(n);
  switch (law) {
    case RowLaw::kGaussian: {
      boost::random::normal_distribution<double> dist(0.0, scale);
      for (auto& s : row)
        s = dist(rng);
      break;
    }
    case RowLaw::kStudentT: {
      boost::random::student_t_distribution<double> dist(3.0);
      for (auto& s : row)
        s = scale * dist(rng);
      break;
    }
    case RowLaw::kLaplace: {
      boost::random::laplace_distribution<double> dist(0.0, scale);
      for (auto& s : row)
        s = dist(rng);
      break;
    }
    case RowLaw::kGumbel: {
      boost::random::extreme_value_distribution<double> dist(0.0, scale);
      for (auto& s : row)
        s = dist(rng);
      break;
    }
    case RowLaw::kUniform: {
      boost::random::uniform_real_distribution<double> dist(-scale, scale);
      for (auto& s : row)
        s = dist(rng);
      break;
    }
  }
  return row;
}

//! One random row: a random law and scale (a few huge-range rows among them), a random length
//! in [1, max_n] (short rows are common), and sometimes rounded logits (many exact ties),
//! masked keys at random places, a constant offset, or sorted input.
inline NamedRow random_row(RandomStream& rng, std::size_t max_n, std::size_t index) {
  boost::random::uniform_int_distribution<int> pick(0, 99);
  boost::random::uniform_real_distribution<double> unit(0.0, 1.0);

  std::size_t n;
  const int size_class = pick(rng);
  if (size_class < 15) {
    n = boost::random::uniform_int_distribution<std::size_t>(1, 4)(rng);
  } else if (size_class < 60) {
    n = boost::random::uniform_int_distribution<std::size_t>(1,
                                                             std::min<std::size_t>(40, max_n))(rng);
  } else {
    n = boost::random::uniform_int_distribution<std::size_t>(1, max_n)(rng);
  }

  static constexpr RowLaw kLaws[] = {RowLaw::kGaussian, RowLaw::kStudentT, RowLaw::kLaplace,
                                     RowLaw::kGumbel, RowLaw::kUniform};
  const RowLaw law = kLaws[boost::random::uniform_int_distribution<int>(0, 4)(rng)];
  static constexpr double kScales[] = {0.1, 0.5, 1.0, 2.0, 4.0, 8.0};
  double scale = kScales[boost::random::uniform_int_distribution<int>(0, 5)(rng)];
  const bool huge = pick(rng) < 4;
  if (huge) scale = law == RowLaw::kUniform ? 5000.0 : 300.0;  // logit ranges of 1e3..1e4

  std::vector<double> row = random_logits(law, scale, n, rng);
  std::string name = std::string(law_name(law)) + "(" + std::to_string(scale) +
                     ") n=" + std::to_string(n) + " #" + std::to_string(index);

  if (pick(rng) < 20) {  // quantise: many exact ties, often straddling the k/k+1 boundary
    const double step = scale * (pick(rng) < 50 ? 0.5 : 1.0);
    for (auto& s : row)
      s = std::round(s / step) * step;
    name += " rounded";
  }
  if (pick(rng) < 10) {  // a constant offset: the analysis must be shift-invariant
    const double offset = unit(rng) < 0.5 ? -1000.0 : 700.0;
    for (auto& s : row)
      s += offset;
    name += " offset";
  }
  const int order = pick(rng);
  if (order < 5) {
    std::sort(row.begin(), row.end());
    name += " ascending";
  } else if (order < 10) {
    std::sort(row.begin(), row.end(), [](double a, double b) { return a > b; });
    name += " descending";
  }
  if (pick(rng) < 15) {  // masked keys at random places (the row keeps at least one key)
    const std::size_t masks = boost::random::uniform_int_distribution<std::size_t>(1, 5)(rng);
    for (std::size_t m = 0; m < masks; ++m) {
      const std::size_t at =
          boost::random::uniform_int_distribution<std::size_t>(0, row.size())(rng);
      row.insert(row.begin() + static_cast<std::ptrdiff_t>(at), kMask);
    }
    name += " masked";
  }
  return NamedRow{name, row};
}

//! `count` random rows of at most `max_n` keys, a pure function of `seed`.
inline std::vector<NamedRow> random_rows(std::size_t count, std::uint64_t seed,
                                         std::size_t max_n = 300) {
  RandomStream rng(seed);
  std::vector<NamedRow> rows;
  rows.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    rows.push_back(random_row(rng, max_n, i));
  return rows;
}

//! `count` logits evenly spaced from `first` to `last`.
inline std::vector<double> linspace(double first, double last, std::size_t count) {
  std::vector<double> row(count);
  for (std::size_t i = 0; i < count; ++i) {
    row[i] = count == 1
                 ? first
                 : first + (last - first) * static_cast<double>(i) / static_cast<double>(count - 1);
  }
  return row;
}

//! Rows that break naive implementations: all logits equal, ties at the k/k+1 boundary,
//! n = 1 and n = 2, logit ranges of 1e4, tail masses near 1e-300 and below the smallest
//! double, masked keys in various places, many duplicates, sorted input either way.
inline std::vector<NamedRow> adversarial_rows() {
  std::vector<NamedRow> rows;
  auto add = [&rows](std::string name, std::vector<double> logits) {
    rows.push_back(NamedRow{std::move(name), std::move(logits)});
  };
  // n = 1 and n = 2.
  add("n1 zero", {0.0});
  add("n1 negative", {-7.25});
  add("n1 large", {1.0e6});
  add("n2 equal", {1.5, 1.5});
  add("n2 descending", {0.0, -1.0});
  add("n2 ascending", {-1.0, 0.0});
  add("n2 far", {0.0, -800.0});
  // All logits equal.
  for (std::size_t n : {3u, 7u, 20u, 64u, 100u, 257u})
    add("equal n" + std::to_string(n), std::vector<double>(n, 0.0));
  add("equal 3.7 n50", std::vector<double>(50, 3.7));
  add("equal -1000 n33", std::vector<double>(33, -1000.0));
  // Ties exactly at the boundary k/k+1 (and across it).
  add("tie boundary 3|4", {2.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0});
  add("tie straddle", {5.0, 3.0, 3.0, 3.0, 3.0, 3.0, 1.0, -2.0, -2.0});
  add("tie two levels", {1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0});
  add("tie two levels unsorted", {-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0});
  {
    std::vector<double> row(40, -3.0);
    for (std::size_t i = 0; i < 40; i += 4)
      row[i] = 0.0;  // 10 head keys at 0, 30 tail keys at -3
    add("tie head/tail interleaved", row);
  }
  // Logit ranges of 1e4.
  add("range 1e4 descending", linspace(5000.0, -5000.0, 101));
  add("range 1e4 ascending", linspace(-5000.0, 5000.0, 101));
  add("range 1e4 two keys", {5000.0, -5000.0});
  add("range 1e4 with bulk", {1.0e4, 0.0, 0.1, 0.2, 0.3, 0.0, -0.1});
  // Tail masses near 1e-300 and below the smallest double.
  add("tiny tail 690 n3", {0.0, -690.0, -690.0});
  add("tiny tail 690 n101", [] {
    std::vector<double> row(101, -690.0);
    row[0] = 0.0;
    return row;
  }());
  add("tiny tail graded", {0.0, -600.0, -650.0, -690.0, -700.0, -740.0});
  add("tiny tail subnormal", {0.0, -700.0, -730.0, -744.0});
  add("tail underflows", {0.0, 0.0, -800.0, -900.0});
  add("tiny tail two heads", {3.0, 3.0, -687.0, -687.0, -687.0});
  // Masked keys (-inf) in various places.
  add("mask first", {kMask, 1.0, 0.5, 0.0, -0.5});
  add("mask last", {1.0, 0.5, 0.0, -0.5, kMask});
  add("mask middle", {1.0, 0.5, kMask, kMask, 0.0, -0.5});
  add("mask all but one", {kMask, kMask, 2.0, kMask});
  add("mask interleaved", {0.3, kMask, 0.2, kMask, 0.1, kMask, 0.0, kMask, 0.3, kMask});
  add("mask with ties", {kMask, 0.0, 0.0, kMask, 0.0, -1.0, kMask, -1.0});
  // Many duplicates.
  {
    std::vector<double> row;
    for (int rep = 0; rep < 50; ++rep) {
      for (double v : {0.0, -1.0, -2.0, 0.5})
        row.push_back(v);
    }
    add("duplicates 4 values x50", row);
  }
  {
    std::vector<double> row(120);
    for (std::size_t i = 0; i < row.size(); ++i)
      row[i] = static_cast<double>((i * 7) % 5);  // 0..4, 24 copies each
    add("duplicates 5 levels x24", row);
  }
  // Sorted input, ascending and descending.
  add("sorted descending", linspace(3.0, -3.0, 60));
  add("sorted ascending", linspace(-3.0, 3.0, 60));
  add("sorted ascending steep", linspace(-40.0, 40.0, 81));
  // A gap: the head is clearly separated (B1 and friends should certify small k).
  add("clear gap", {10.0, 9.5, 9.0, 0.0, -0.2, -0.4, -0.6, -0.8, -1.0, -1.2});
  add("sink key", {12.0, 0.1, -0.3, 0.7, 0.0, -1.1, 0.4, 0.2, -0.5, 0.9, 0.3, -0.2});
  return rows;
}

//! Random and adversarial rows together.
inline std::vector<NamedRow> all_rows(std::size_t random_count, std::uint64_t seed,
                                      std::size_t max_n = 300) {
  std::vector<NamedRow> rows = adversarial_rows();
  for (auto& row : random_rows(random_count, seed, max_n))
    rows.push_back(std::move(row));
  return rows;
}

//! The logits of a row with its masked keys removed (the row the theory talks about).
inline std::vector<double> unmasked(const std::vector<double>& row) {
  std::vector<double> out;
  for (double s : row) {
    if (s != kMask) out.push_back(s);
  }
  return out;
}

}  // namespace tvk::test
