#include "core/text/text.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace tvk {
namespace {

double parse(const std::string& text) {
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  EXPECT_EQ(result.ec, std::errc());
  EXPECT_EQ(result.ptr, text.data() + text.size());
  return value;
}

TEST(FormatShortest, IsShortestAndExact) {
  EXPECT_EQ(format_shortest(0.1), "0.1");
  EXPECT_EQ(format_shortest(1.0), "1");
  EXPECT_EQ(format_shortest(-2.0), "-2");
  EXPECT_EQ(format_shortest(-0.0), "-0");
  EXPECT_EQ(format_shortest(1e-300), "1e-300");
  EXPECT_EQ(format_shortest(1e300), "1e+300");
  for (double value : {0.1 + 0.2, 1.0 / 3.0, 1e-300, 5e-324, 1.7976931348623157e308, -2.5e-7,
                       123456789012345680.0}) {
    const double back = parse(format_shortest(value));
    EXPECT_EQ(std::memcmp(&back, &value, sizeof value), 0) << format_shortest(value);
  }
}

TEST(FormatShortest, SpellsNonFiniteValuesOneWay) {
  EXPECT_EQ(format_shortest(std::nan("")), "nan");
  EXPECT_EQ(format_shortest(-std::nan("")), "nan");  // to_chars alone would print "-nan"
  EXPECT_EQ(format_shortest(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_shortest(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(EditDistance, CountsSwapsOnce) {
  EXPECT_EQ(edit_distance("sigma", "sigma"), 0u);
  EXPECT_EQ(edit_distance("sigam", "sigma"), 1u);
  EXPECT_EQ(edit_distance("sigmaa", "sigma"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
}

TEST(ClosestName, PicksTheNearestOrAPrefix) {
  const std::vector<std::string> keys = {"n", "rows", "store_rows", "seed", "sigma"};
  EXPECT_EQ(closest_name("rowz", keys), "rows");
  EXPECT_EQ(closest_name("sigm", keys), "sigma");
  EXPECT_EQ(closest_name("store", keys), "store_rows");  // prefix
  EXPECT_EQ(closest_name("x", keys), "");                // one letter off "n" is no hint
  EXPECT_EQ(closest_name("completely_different", keys), "");
  EXPECT_EQ(closest_name("rows", keys), "");  // a known name needs no hint
}

TEST(ClosestName, TheFirstOfEquallyNearCandidatesWins) {
  EXPECT_EQ(closest_name("b5", {"b1", "b2", "b4"}), "b1");
  EXPECT_EQ(closest_name("b2x", {"b1", "b2", "b4"}), "b2");  // one typo beats two
}

}  // namespace
}  // namespace tvk
