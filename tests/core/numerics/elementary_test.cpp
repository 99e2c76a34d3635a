//! \file tvk's own exp, log, log1p and expm1 (core/numerics/elementary.h): within 1 ulp of
//! glibc's long double functions over millions of inputs across their ranges (subnormal results
//! counted on the subnormal grid), every special case, exp_lanes equal to exp bit for bit for 2,
//! 4 and 8 lanes, exp monotonic, and pinned bits (single values and checksums over a million
//! results) so that a change of the algorithm, or a target that computes differently, is noticed.

#include "core/numerics/elementary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/random/stream.h"

// Vectors of 4 and 8 doubles on targets without AVX / AVX-512: GCC and Clang warn that such
// arguments change the ABI; exp_lanes is always inlined, so no vector crosses a real call.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tvk {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kMinNormal = std::numeric_limits<double>::min();
constexpr double kMinSubnormal = std::numeric_limits<double>::denorm_min();
constexpr double kOverflow = 0x1.62e42fefa39efp+9;    // 709.78…: largest x with finite exp
constexpr double kUnderflow = -0x1.74910d52d3051p+9;  // -745.13…: below it exp is 0

std::uint64_t bits(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

std::string hex(double x) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(bits(x)));
  return text;
}

//! Position of x on the line of doubles: neighbours differ by 1, +0 and -0 are both 0, and the
//! subnormals are steps of 2^-1074.
std::int64_t ordinal(double x) {
  const std::int64_t b = std::bit_cast<std::int64_t>(x);
  return b < 0 ? std::numeric_limits<std::int64_t>::min() - b : b;
}

//! Errors of one function over a set of inputs: `steps` is the distance in doubles between
//! the result and the reference rounded to double (must be <= 1); `ulps` is |result − exact|
//! in units of the spacing of the doubles around the exact value (2^-1074 for subnormals).
struct Errors {
  explicit Errors(const char* function) : name(function) {}

  const char* name;
  std::size_t count = 0, inexact = 0, failures = 0;
  double max_ulps = 0.0, worst_x = 0.0;
  std::vector<std::string> first_failures;

  void add(double x, double got, long double exact) {
    ++count;
    const double rounded = static_cast<double>(exact);
    const std::int64_t d = ordinal(got) - ordinal(rounded);
    const std::uint64_t steps = d < 0 ? -static_cast<std::uint64_t>(d) : d;
    inexact += steps != 0;
    if (steps > 1 || std::isnan(got) != std::isnan(rounded)) {
      if (++failures <= 5) {
        char text[160];
        std::snprintf(text, sizeof text, "%s(%a) = %a, reference %a (%llu steps)", name, x, got,
                      rounded, static_cast<unsigned long long>(steps));
        first_failures.push_back(text);
      }
    }
    if (std::isinf(rounded) || std::isnan(rounded)) return;
    // The doubles a <= |exact| < a + ulp.
    const long double magnitude = std::fabs(exact);
    double a = std::fabs(rounded);
    if (static_cast<long double>(a) > magnitude) a = std::nextafter(a, 0.0);
    const long double ulp = static_cast<long double>(std::nextafter(a, kInf)) - a;
    const double ulps = static_cast<double>(std::fabs(got - exact) / ulp);
    if (ulps > max_ulps) {
      max_ulps = ulps;
      worst_x = x;
    }
  }

  //! Checks the bounds and prints the measured errors.
  void check() const {
    std::printf("  %-6s %9zu inputs: max %.3f ulp at %a, %.4f%% not correctly rounded\n", name,
                count, max_ulps, worst_x, 100.0 * static_cast<double>(inexact) / count);
    EXPECT_EQ(failures, 0u) << name << ": " << failures << " results off by more than one ulp";
    for (const std::string& f : first_failures)
      ADD_FAILURE() << f;
    EXPECT_LT(max_ulps, 1.0) << name << " at " << std::hexfloat << worst_x;
  }
};

double uniform(RandomStream& rng, double lo, double hi) {
  return lo + (hi - lo) * rng.uniform01();
}

//! ±2^e with e uniform in [lo, hi): magnitudes spread evenly over the binades.
double log_uniform(RandomStream& rng, double lo, double hi, bool both_signs = true) {
  const double e = uniform(rng, lo, hi);
  const double m = std::ldexp(1.0 + rng.uniform01(), static_cast<int>(std::floor(e)));
  return both_signs && (rng() & 1) != 0 ? -m : m;
}

//! A random double with the given bit pattern range [lo, hi].
double random_bits(RandomStream& rng, std::uint64_t lo, std::uint64_t hi) {
  return std::bit_cast<double>(lo + rng() % (hi - lo + 1));
}

// --- exp -----------------------------------------------------------------------------------

TEST(ElementaryExp, WithinOneUlp) {
  RandomStream rng(1);
  Errors e{"exp"};
  auto add = [&e](double x) {
    e.add(x, elementary::exp(x), std::exp(static_cast<long double>(x)));
  };
  for (int i = 0; i < 3000000; ++i)  // the whole finite range
    add(uniform(rng, kUnderflow, kOverflow));
  for (int i = 0; i < 1500000; ++i)  // near 0, |x| down to 2^-60
    add(log_uniform(rng, -60.0, 0.0));
  for (int i = 0; i < 100000; ++i)  // |x| below 2^-63, subnormals included: exp(x) = 1
    add(random_bits(rng, 1, 0x3c00000000000000ULL) * ((rng() & 1) != 0 ? -1.0 : 1.0));
  for (int i = 0; i < 1000000; ++i)  // subnormal results: x < log(2^-1022) = -708.396…
    add(uniform(rng, kUnderflow, -708.3964185322641));
  for (int i = 0; i < 500000; ++i)  // near overflow
    add(uniform(rng, 705.0, kOverflow));
  for (int i = 0; i < 500000; ++i)  // |x| in [1, 64], where k is small
    add(log_uniform(rng, 0.0, 6.0));
  // Consecutive doubles at the thresholds and where the reduction's k changes.
  for (double x0 : {kOverflow, kUnderflow, -708.3964185322641, -0x1.74385446d71c3p+9, 0.0}) {
    double x = x0;
    for (int i = 0; i < 2000; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 4000; ++i, x = std::nextafter(x, kInf))
      if (x >= kUnderflow && x <= kOverflow) add(x);
  }
  for (int k = -1075; k <= 1024; ++k) {
    double x = (k + 0.5) * 0.693147180559945309417;
    for (int i = 0; i < 50; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 100; ++i, x = std::nextafter(x, kInf))
      if (x >= kUnderflow && x <= kOverflow) add(x);
  }
  // Where the table index j = k mod 256 changes, (k + 1/2) ln2/256, over [-12, 12].
  for (int k = -4500; k <= 4500; ++k) {
    double x = (k + 0.5) * 0.693147180559945309417 / 256;
    for (int i = 0; i < 10; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 20; ++i, x = std::nextafter(x, kInf))
      add(x);
  }
  for (int i = -745; i <= 709; ++i)  // integers
    add(i);
  e.check();
}

TEST(ElementaryExp, TableAndConstants) {
  // 2^(j/256) = H_j (1 + tail_j): H_j is 2^(j/256) rounded to double, and H_j (1 + tail_j) is
  // within 2^-62 of exp2l (long double, 64-bit significand, itself within about 2^-64).
  namespace d = elementary::detail;
  for (int j = 0; j < 256; ++j) {
    const d::ExpTableEntry& entry = d::kExpTable[j];
    const double h = std::bit_cast<double>(entry.bits + (static_cast<std::uint64_t>(j) << 44));
    const long double exact = std::exp2(static_cast<long double>(j) / 256);
    EXPECT_GE(h, 1.0) << j;
    EXPECT_LT(h, 2.0) << j;
    EXPECT_EQ(h, static_cast<double>(exact)) << j;  // no exact value lies near a midpoint
    EXPECT_LE(std::fabs(entry.tail), 0x1p-53) << j;
    const long double value = static_cast<long double>(h) * (1.0L + entry.tail);
    EXPECT_LE(std::fabs(value - exact) / exact, 0x1p-62L) << j;
  }
  EXPECT_EQ(d::kExpTable[0].bits, 0x3ff0000000000000ULL);  // H_0 = 1
  EXPECT_EQ(d::kExpTable[0].tail, 0.0);
  // k·step_hi is exact for |k| < 2^19: step_hi has at most 34 significant bits.
  namespace c = d::exp_constants;
  EXPECT_EQ(std::bit_cast<std::uint64_t>(c::step_hi) & ((1ULL << 19) - 1), 0u);
  const long double ln2 = 0.693147180559945309417232121458176568L;
  EXPECT_LE(std::fabs((static_cast<long double>(c::step_hi) + c::step_lo) - ln2 / 256),
            0x1p-63L * (ln2 / 256));
  EXPECT_EQ(c::inv_step, static_cast<double>(256 / ln2));
  // The polynomial: e^r − 1 − r − r²(C2 + C3 r + C4 r²) is below 2^-56 on |r| <= ln2/512
  // (a little more than ln2/512 where x·256/ln2 rounds), as long double arithmetic sees it.
  double worst = 0.0;
  for (int i = -2000; i <= 2000; ++i) {
    const long double r = ln2 / 512 * 1.0001L * i / 2000;
    const long double p = r * r * (c::C2 + r * (c::C3 + r * static_cast<long double>(c::C4)));
    worst = std::max(worst, static_cast<double>(std::fabs(std::expm1(r) - r - p)));
  }
  std::printf("  polynomial error %a\n", worst);
  EXPECT_LT(worst, 0x1p-56);
}

TEST(ElementaryExp, SpecialCases) {
  using elementary::exp;
  EXPECT_EQ(bits(exp(0.0)), bits(1.0));
  EXPECT_EQ(bits(exp(-0.0)), bits(1.0));
  EXPECT_EQ(exp(kMinSubnormal), 1.0);
  EXPECT_EQ(exp(-kMinSubnormal), 1.0);
  EXPECT_EQ(exp(kInf), kInf);
  EXPECT_EQ(bits(exp(-kInf)), bits(0.0));  // +0
  EXPECT_TRUE(std::isnan(exp(kNaN)));
  EXPECT_TRUE(std::isnan(exp(-kNaN)));
  EXPECT_TRUE(std::isnan(exp(std::numeric_limits<double>::signaling_NaN())));
  // A NaN keeps its payload, quietened.
  const double payload = std::bit_cast<double>(0x7ff0000000012345ULL);  // signaling
  EXPECT_EQ(hex(exp(payload)), "0x7ff8000000012345");
  // Overflow: finite up to 709.78…, +inf above.
  EXPECT_EQ(exp(kOverflow), static_cast<double>(std::exp(static_cast<long double>(kOverflow))));
  EXPECT_LT(exp(kOverflow), kMax);
  EXPECT_EQ(exp(std::nextafter(kOverflow, kInf)), kInf);
  EXPECT_EQ(exp(710.0), kInf);
  EXPECT_EQ(exp(1e300), kInf);
  EXPECT_EQ(exp(kMax), kInf);
  // Gradual underflow: results on the subnormal grid within one step, then 0.
  EXPECT_NEAR(exp(-740.0), 4.2e-322, kMinSubnormal);  // 85 · 2^-1074
  EXPECT_EQ(exp(-740.0), static_cast<double>(std::exp(-740.0L)));
  const double x = -708.3964185322641;  // exp(x) = 2^-1022 (1 + 124 · 2^-52)
  EXPECT_EQ(exp(x), static_cast<double>(std::exp(static_cast<long double>(x))));
  EXPECT_EQ(exp(kUnderflow), kMinSubnormal);
  EXPECT_EQ(bits(exp(std::nextafter(kUnderflow, -kInf))), bits(0.0));
  EXPECT_EQ(bits(exp(-746.0)), bits(0.0));
  EXPECT_EQ(bits(exp(-1e300)), bits(0.0));
  EXPECT_EQ(bits(exp(-kMax)), bits(0.0));
}

TEST(ElementaryExp, Monotonic) {
  RandomStream rng(2);
  std::size_t violations = 0;
  auto check_from = [&violations](double x, int steps) {
    double y = elementary::exp(x);
    for (int i = 0; i < steps; ++i) {
      const double next = std::nextafter(x, kInf);
      const double y_next = elementary::exp(next);
      if (!(y <= y_next) && ++violations <= 5)
        ADD_FAILURE() << std::hexfloat << "exp(" << x << ") = " << y << " > exp(" << next
                      << ") = " << y_next;
      x = next;
      y = y_next;
    }
  };
  for (int i = 0; i < 200000; ++i)
    check_from(uniform(rng, -750.0, 712.0), 4);
  for (int i = 0; i < 100000; ++i)
    check_from(log_uniform(rng, -60.0, 0.0), 4);
  // Where the reduction's k changes, (k + 1/2) ln2: 200 consecutive doubles around each.
  for (int k = -1080; k <= 1025; ++k) {
    double x = (k + 0.5) * 0.693147180559945309417;
    for (int i = 0; i < 100; ++i)
      x = std::nextafter(x, -kInf);
    check_from(x, 200);
  }
  // Where the table index changes, (k + 1/2) ln2/256, over [-3, 3]: 40 doubles around each.
  for (int k = -1100; k <= 1100; ++k) {
    double x = (k + 0.5) * 0.693147180559945309417 / 256;
    for (int i = 0; i < 20; ++i)
      x = std::nextafter(x, -kInf);
    check_from(x, 40);
  }
  for (double x : {kOverflow, kUnderflow, -708.3964185322641, 0.0, -0.0}) {
    double start = x;
    for (int i = 0; i < 1000; ++i)
      start = std::nextafter(start, -kInf);
    check_from(start, 2000);
  }
  check_from(-kInf, 1);
  check_from(std::nextafter(kMax, 0.0), 2);  // up to +inf
  EXPECT_EQ(violations, 0u);
}

// --- exp_lanes -----------------------------------------------------------------------------

typedef double Lanes2 __attribute__((vector_size(16)));
typedef double Lanes4 __attribute__((vector_size(32)));
typedef double Lanes8 __attribute__((vector_size(64)));

//! Inputs for the lane tests: ordinary values, every special value and the boundaries of the
//! ranges, shuffled so that lanes mix special and ordinary values.
std::vector<double> lane_inputs() {
  RandomStream rng(3);
  std::vector<double> in = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            kInf,
                            -kInf,
                            kNaN,
                            -kNaN,
                            std::numeric_limits<double>::signaling_NaN(),
                            std::bit_cast<double>(0x7ff0000000012345ULL),
                            std::bit_cast<double>(0xfff8000000abcdefULL),
                            kMax,
                            -kMax,
                            kMinNormal,
                            -kMinNormal,
                            kMinSubnormal,
                            -kMinSubnormal,
                            710.0,
                            -746.0,
                            -708.3964185322641,
                            -740.0,
                            1e300,
                            -1e300};
  for (double b : {kOverflow, kUnderflow, 709.0, -745.0, -708.3964185322641}) {
    double x = b;
    for (int i = 0; i < 64; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 128; ++i, x = std::nextafter(x, kInf))
      in.push_back(x);
  }
  for (int k = -1080; k <= 1030; ++k) {
    const double x = (k + 0.5) * 0.693147180559945309417;
    in.push_back(std::nextafter(x, -kInf));
    in.push_back(x);
    in.push_back(std::nextafter(x, kInf));
  }
  while (in.size() < 1200000) {
    switch (rng() % 4) {
      case 0:
        in.push_back(uniform(rng, -760.0, 720.0));
        break;
      case 1:
        in.push_back(log_uniform(rng, -80.0, 10.0));
        break;
      case 2:
        in.push_back(std::bit_cast<double>(rng()));  // any double, NaNs and infinities too
        break;
      default:
        in.push_back(uniform(rng, -750.0, -700.0));  // subnormal and tiny normal results
    }
  }
  // A fixed shuffle (Fisher–Yates on the stream), the same for every width.
  for (std::size_t i = in.size() - 1; i > 0; --i)
    std::swap(in[i], in[rng() % (i + 1)]);
  return in;
}

template <class V>
void expect_lanes_equal_scalar(const std::vector<double>& in) {
  constexpr std::size_t kWidth = sizeof(V) / sizeof(double);
  std::vector<double> lanes(in.size());
  for (std::size_t i = 0; i + kWidth <= in.size(); i += kWidth) {
    V v;
    std::memcpy(&v, in.data() + i, sizeof v);
    const V y = elementary::exp_lanes(v);
    std::memcpy(lanes.data() + i, &y, sizeof y);
  }
  const std::size_t full = in.size() / kWidth * kWidth;  // the inputs of whole vectors
  std::size_t compared = 0, mismatches = 0;
  for (std::size_t i = 0; i < full; ++i, ++compared) {
    const double scalar = elementary::exp(in[i]);
    if (bits(lanes[i]) != bits(scalar) && ++mismatches <= 5)
      ADD_FAILURE() << kWidth << " lanes: exp_lanes(" << std::hexfloat << in[i]
                    << ") = " << lanes[i] << " (" << hex(lanes[i]) << "), exp = " << scalar << " ("
                    << hex(scalar) << ")";
  }
  EXPECT_GE(compared, 1000000u);
  EXPECT_EQ(mismatches, 0u) << kWidth << " lanes";
}

TEST(ElementaryExpLanes, EqualsScalarBitForBit) {
  const std::vector<double> in = lane_inputs();
  expect_lanes_equal_scalar<Lanes2>(in);
  expect_lanes_equal_scalar<Lanes4>(in);
  expect_lanes_equal_scalar<Lanes8>(in);
}

//! Each special value in each lane, the other lanes ordinary, and the reverse.
template <class V>
void expect_special_values_in_every_lane() {
  constexpr int kWidth = sizeof(V) / sizeof(double);
  const double special[] = {kInf, -kInf, kNaN, 710.0, -746.0, kOverflow, kUnderflow, -0.0};
  for (double s : special) {
    for (int lane = 0; lane < kWidth; ++lane) {
      V v;
      for (int j = 0; j < kWidth; ++j)
        v[j] = j == lane ? s : 0.25 * j - 1.0;
      const V y = elementary::exp_lanes(v);
      for (int j = 0; j < kWidth; ++j)
        ASSERT_EQ(hex(y[j]), hex(elementary::exp(v[j])))
            << kWidth << " lanes, " << s << " in lane " << lane;
      for (int j = 0; j < kWidth; ++j)
        v[j] = j == lane ? 0.5 : s;
      const V z = elementary::exp_lanes(v);
      for (int j = 0; j < kWidth; ++j)
        ASSERT_EQ(hex(z[j]), hex(elementary::exp(v[j])))
            << kWidth << " lanes, " << s << " but lane " << lane;
    }
  }
}

TEST(ElementaryExpLanes, SpecialValuesInEveryLane) {
  expect_special_values_in_every_lane<Lanes2>();
  expect_special_values_in_every_lane<Lanes4>();
  expect_special_values_in_every_lane<Lanes8>();
}

// --- log -----------------------------------------------------------------------------------

TEST(ElementaryLog, WithinOneUlp) {
  RandomStream rng(4);
  Errors e{"log"};
  auto add = [&e](double x) {
    e.add(x, elementary::log(x), std::log(static_cast<long double>(x)));
  };
  for (int i = 0; i < 1500000; ++i)  // any positive finite double, subnormals included
    add(random_bits(rng, 1, 0x7fefffffffffffffULL));
  for (int i = 0; i < 300000; ++i)  // subnormals
    add(random_bits(rng, 1, 0x000fffffffffffffULL));
  for (int i = 0; i < 700000; ++i)  // near 1, where log is small
    add(1.0 + log_uniform(rng, -53.0, -1.0));
  for (int i = 0; i < 300000; ++i)  // [0.5, 2]
    add(uniform(rng, 0.5, 2.0));
  for (double x0 : {1.0, 0.70710678118654752, 1.4142135623730951, kMinNormal}) {
    double x = x0;
    for (int i = 0; i < 1000; ++i)
      x = std::nextafter(x, 0.0);
    for (int i = 0; i < 2000; ++i, x = std::nextafter(x, kInf))
      add(x);
  }
  for (int i = 1; i < 100; ++i) {
    add(kMinSubnormal * i);
    add(kMax / i);
  }
  e.check();
}

TEST(ElementaryLog, SpecialCases) {
  using elementary::log;
  EXPECT_EQ(bits(log(1.0)), bits(0.0));  // +0
  EXPECT_EQ(log(0.0), -kInf);
  EXPECT_EQ(log(-0.0), -kInf);
  EXPECT_EQ(log(kInf), kInf);
  EXPECT_TRUE(std::isnan(log(-1.0)));
  EXPECT_TRUE(std::isnan(log(-kMinSubnormal)));
  EXPECT_TRUE(std::isnan(log(-kInf)));
  EXPECT_TRUE(std::isnan(log(kNaN)));
  EXPECT_TRUE(std::isnan(log(-kNaN)));
  EXPECT_EQ(hex(log(-1.0)), "0x7ff8000000000000");  // one NaN on every platform
  EXPECT_EQ(hex(log(std::bit_cast<double>(0x7ff0000000012345ULL))), "0x7ff8000000012345");
  EXPECT_EQ(log(kMinSubnormal),
            static_cast<double>(std::log(static_cast<long double>(kMinSubnormal))));
  EXPECT_EQ(log(kMax), static_cast<double>(std::log(static_cast<long double>(kMax))));
  EXPECT_EQ(log(2.0), 0x1.62e42fefa39efp-1);  // ln 2 correctly rounded
  for (int k = -1074; k <= 1023; ++k)         // log(2^k) within one step of k·ln2
    EXPECT_LE(std::abs(ordinal(log(std::ldexp(1.0, k))) -
                       ordinal(static_cast<double>(k * 0.693147180559945309417232121458L))),
              1)
        << k;
}

// --- log1p ---------------------------------------------------------------------------------

TEST(ElementaryLog1p, WithinOneUlp) {
  RandomStream rng(5);
  Errors e{"log1p"};
  auto add = [&e](double x) {
    e.add(x, elementary::log1p(x), std::log1p(static_cast<long double>(x)));
  };
  for (int i = 0; i < 1000000; ++i)  // near 0
    add(log_uniform(rng, -60.0, -1.0));
  for (int i = 0; i < 50000; ++i)  // tiny and subnormal
    add(random_bits(rng, 1, 0x3c90000000000000ULL) * ((rng() & 1) != 0 ? -1.0 : 1.0));
  for (int i = 0; i < 500000; ++i)  // near -1
    add(-1.0 + log_uniform(rng, -60.0, -1.0, false));
  for (int i = 0; i < 500000; ++i)  // [-0.5, 4]
    add(uniform(rng, -0.5, 4.0));
  for (int i = 0; i < 500000; ++i)  // large, up to the largest double
    add(log_uniform(rng, 0.0, 1024.0, false));
  for (double x0 : {0.0, -0.29289321881345248, 0.41421356237309503, -1.0 + 0x1p-53, 0x1p53}) {
    double x = x0;
    for (int i = 0; i < 1000; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 2000; ++i, x = std::nextafter(x, kInf))
      if (x > -1.0) add(x);
  }
  e.check();
}

TEST(ElementaryLog1p, SpecialCases) {
  using elementary::log1p;
  EXPECT_EQ(bits(log1p(0.0)), bits(0.0));
  EXPECT_EQ(bits(log1p(-0.0)), bits(-0.0));
  EXPECT_EQ(log1p(-1.0), -kInf);
  EXPECT_TRUE(std::isnan(log1p(-1.5)));
  EXPECT_TRUE(std::isnan(log1p(std::nextafter(-1.0, -kInf))));
  EXPECT_TRUE(std::isnan(log1p(-kInf)));
  EXPECT_TRUE(std::isnan(log1p(kNaN)));
  EXPECT_TRUE(std::isnan(log1p(-kNaN)));
  EXPECT_EQ(hex(log1p(-2.0)), "0x7ff8000000000000");
  EXPECT_EQ(hex(log1p(std::bit_cast<double>(0xfff0000000054321ULL))), "0xfff8000000054321");
  EXPECT_EQ(log1p(kInf), kInf);
  for (double tiny :
       {1e-300, -1e-300, 0x1p-55, -0x1p-55, kMinSubnormal, -kMinSubnormal, kMinNormal})
    EXPECT_EQ(bits(log1p(tiny)), bits(tiny)) << tiny;  // tiny x returns x
  EXPECT_EQ(log1p(kMax), static_cast<double>(std::log(static_cast<long double>(kMax))));
  EXPECT_EQ(log1p(1.0), 0x1.62e42fefa39efp-1);
}

// --- expm1 ---------------------------------------------------------------------------------

TEST(ElementaryExpm1, WithinOneUlp) {
  RandomStream rng(6);
  Errors e{"expm1"};
  auto add = [&e](double x) {
    e.add(x, elementary::expm1(x), std::expm1(static_cast<long double>(x)));
  };
  for (int i = 0; i < 1000000; ++i)  // near 0
    add(log_uniform(rng, -60.0, 0.0));
  for (int i = 0; i < 50000; ++i)  // tiny and subnormal
    add(random_bits(rng, 1, 0x3c90000000000000ULL) * ((rng() & 1) != 0 ? -1.0 : 1.0));
  for (int i = 0; i < 1000000; ++i)  // where every branch of the reconstruction is taken
    add(uniform(rng, -45.0, 45.0));
  for (int i = 0; i < 300000; ++i)  // large, up to overflow
    add(uniform(rng, 45.0, kOverflow));
  for (int i = 0; i < 100000; ++i)  // very negative: -1
    add(uniform(rng, -745.0, -45.0));
  for (double x0 :
       {0.0, 0.34657359027997264, -0.34657359027997264, 1.0397207708399179, -1.0397207708399179,
        -0.25, 38.816242111356935, -38.816242111356935, kOverflow}) {
    double x = x0;
    for (int i = 0; i < 1000; ++i)
      x = std::nextafter(x, -kInf);
    for (int i = 0; i < 2000; ++i, x = std::nextafter(x, kInf))
      if (x <= kOverflow) add(x);
  }
  for (int k = -60; k <= 1024; ++k) {  // where k changes
    const double x = (k + 0.5) * 0.693147180559945309417;
    for (double y : {std::nextafter(x, -kInf), x, std::nextafter(x, kInf)})
      if (y <= kOverflow) add(y);
  }
  e.check();
}

TEST(ElementaryExpm1, SpecialCases) {
  using elementary::expm1;
  EXPECT_EQ(bits(expm1(0.0)), bits(0.0));
  EXPECT_EQ(bits(expm1(-0.0)), bits(-0.0));
  for (double tiny : {1e-300, -1e-300, 0x1p-55, -0x1p-55, kMinSubnormal, -kMinSubnormal})
    EXPECT_EQ(bits(expm1(tiny)), bits(tiny)) << tiny;  // tiny x returns x
  EXPECT_EQ(expm1(kInf), kInf);
  EXPECT_EQ(expm1(-kInf), -1.0);
  EXPECT_TRUE(std::isnan(expm1(kNaN)));
  EXPECT_TRUE(std::isnan(expm1(-kNaN)));
  EXPECT_EQ(hex(expm1(std::bit_cast<double>(0x7ff0000000012345ULL))), "0x7ff8000000012345");
  EXPECT_TRUE(std::isfinite(expm1(kOverflow)));
  EXPECT_EQ(expm1(kOverflow), static_cast<double>(std::expm1(static_cast<long double>(kOverflow))));
  EXPECT_EQ(expm1(std::nextafter(kOverflow, kInf)), kInf);
  EXPECT_EQ(expm1(710.0), kInf);
  EXPECT_EQ(expm1(kMax), kInf);
  EXPECT_EQ(expm1(-40.0), -1.0);
  EXPECT_EQ(expm1(-1000.0), -1.0);
  EXPECT_EQ(expm1(-kMax), -1.0);
}

// --- pinned bits ---------------------------------------------------------------------------

TEST(Elementary, PinnedValues) {
  // Any change of these bits changes tvk's results: update only on purpose.
  using namespace elementary;
  EXPECT_EQ(hex(exp(1.0)), "0x4005bf0a8b145769");  // e, correctly rounded
  EXPECT_EQ(hex(exp(-1.0)), "0x3fd78b56362cef38");
  EXPECT_EQ(hex(exp(0.5)), "0x3ffa61298e1e069c");
  EXPECT_EQ(hex(exp(-0.5)), "0x3fe368b2fc6f960a");
  EXPECT_EQ(hex(exp(10.0)), "0x40d5829dcf950560");
  EXPECT_EQ(hex(exp(-100.0)), "0x36ea8c1f14e2af5d");
  EXPECT_EQ(hex(exp(700.0)), "0x7f0d945df4f8ec8e");
  EXPECT_EQ(hex(exp(kOverflow)), "0x7fefffffffffff2a");
  EXPECT_EQ(hex(exp(-740.0)), "0x0000000000000055");  // subnormal: 85 · 2^-1074
  EXPECT_EQ(hex(exp(-720.5)), "0x00000005cf08fff0");
  EXPECT_EQ(hex(log(2.0)), "0x3fe62e42fefa39ef");
  EXPECT_EQ(hex(log(10.0)), "0x40026bb1bbb55516");
  EXPECT_EQ(hex(log(0.1)), "0xc0026bb1bbb55515");
  EXPECT_EQ(hex(log(0.75)), "0xbfd269621134db92");
  EXPECT_EQ(hex(log(kMinSubnormal)), "0xc0874385446d71c3");
  EXPECT_EQ(hex(log(kMax)), "0x40862e42fefa39ef");
  EXPECT_EQ(hex(log1p(1e-10)), "0x3ddb7cdfd9d1d693");
  EXPECT_EQ(hex(log1p(-0.5)), "0xbfe62e42fefa39ef");
  EXPECT_EQ(hex(log1p(0.3)), "0x3fd0ca937be1b9dc");
  EXPECT_EQ(hex(log1p(3.0)), "0x3ff62e42fefa39ef");
  EXPECT_EQ(hex(expm1(1e-10)), "0x3ddb7cdfd9dda4e3");
  EXPECT_EQ(hex(expm1(0.3)), "0x3fd6641632306a56");
  EXPECT_EQ(hex(expm1(1.0)), "0x3ffb7e151628aed2");  // e − 1 rounds to …ed3: 0.5+ ulp off
  EXPECT_EQ(hex(expm1(-1.0)), "0xbfe43a54e4e98864");
  EXPECT_EQ(hex(expm1(-5.0)), "0xbfefc8cd803fe559");
  EXPECT_EQ(hex(expm1(30.0)), "0x42a370470aec26ed");
}

//! FNV-1a over the bits of f at n inputs spread over [lo, hi].
template <class F>
std::string checksum(F f, double lo, double hi, int n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  RandomStream rng(7);
  for (int i = 0; i < n; ++i) {
    h ^= bits(f(uniform(rng, lo, hi)));
    h *= 0x100000001b3ULL;
  }
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(h));
  return text;
}

TEST(Elementary, PinnedChecksums) {
  // Catches a one-bit change of any of a million results, whatever the compiler's target: the
  // same numbers must come out of -march=x86-64, x86-64-v3 and x86-64-v4 builds.
  auto exp = [](double x) { return elementary::exp(x); };
  auto log = [](double x) { return elementary::log(x); };
  auto log1p = [](double x) { return elementary::log1p(x); };
  auto expm1 = [](double x) { return elementary::expm1(x); };
  EXPECT_EQ(checksum(exp, -745.2, 709.8, 1000000), "0x03ed5e239a63f0af");
  EXPECT_EQ(checksum(exp, -1.0, 1.0, 1000000), "0x3edab2193fe932fb");
  EXPECT_EQ(checksum(log, 0.0, 1e6, 1000000), "0x98a121d2a04272a2");
  EXPECT_EQ(checksum(log, 0.5, 2.0, 1000000), "0xd8a2a98c30a945e9");
  EXPECT_EQ(checksum(log1p, -1.0, 2.0, 1000000), "0xe35d9e42cfafcf27");
  EXPECT_EQ(checksum(expm1, -2.0, 50.0, 1000000), "0xeddef987c73434d7");
}

}  // namespace
}  // namespace tvk
