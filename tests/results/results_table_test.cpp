#include "core/results/results_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace tvk {
namespace {

Table sample_table() {
  Table table;
  table.columns.push_back({"x", std::vector<double>{0.1, std::nan(""), -0.0}, "a double"});
  table.columns.push_back({"n", std::vector<std::int64_t>{1, -2, 3}, ""});
  table.columns.push_back({"ok", std::vector<std::uint8_t>{1, 0, 1}, "a flag"});
  table.columns.push_back({"s", std::vector<std::string>{"a", "", "b,\"c\""}, ""});
  return table;
}

TEST(ResultsTable, RowsFindAndKinds) {
  Table table = sample_table();
  EXPECT_EQ(table.rows(), 3u);
  EXPECT_EQ(Table{}.rows(), 0u);
  ASSERT_NE(table.find("ok"), nullptr);
  EXPECT_EQ(table.find("ok")->kind(), ColumnKind::kBool);
  EXPECT_EQ(table.find("x")->kind(), ColumnKind::kDouble);
  EXPECT_EQ(table.find("n")->kind(), ColumnKind::kInt64);
  EXPECT_EQ(table.find("s")->kind(), ColumnKind::kString);
  EXPECT_EQ(table.find("missing"), nullptr);
  table.find("n")->doc = "changed";
  EXPECT_EQ(table.columns[1].doc, "changed");
  EXPECT_NO_THROW(table.check_shape());
}

TEST(ResultsTable, CheckShapeNamesTheBadColumn) {
  Table ragged = sample_table();
  std::get<std::vector<std::int64_t>>(ragged.columns[1].values).push_back(4);
  try {
    ragged.check_shape();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("'n' has 4 rows"), std::string::npos);
  }
  Table duplicate = sample_table();
  duplicate.columns[2].name = "x";
  EXPECT_THROW(duplicate.check_shape(), std::invalid_argument);
  Table unnamed = sample_table();
  unnamed.columns[0].name.clear();
  EXPECT_THROW(unnamed.check_shape(), std::invalid_argument);
}

TEST(ResultsTable, AppendRowsCopiesSchemaAndChecksIt) {
  const Table source = sample_table();
  Table target;
  target.append_row_from(source, 2);
  target.append_row_from(source, 0);
  ASSERT_EQ(target.rows(), 2u);
  EXPECT_EQ(target.columns[0].doc, "a double");
  EXPECT_EQ(std::get<std::vector<std::string>>(target.columns[3].values)[0], "b,\"c\"");
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(target.columns[1].values)[1], 1);
  target.append_rows_from(source);
  EXPECT_EQ(target.rows(), 5u);
  EXPECT_THROW(target.append_row_from(source, 3), std::out_of_range);

  Table other = sample_table();
  other.columns[1].values = std::vector<double>{1, 2, 3};  // same name, different kind
  EXPECT_THROW(target.append_row_from(other, 0), std::invalid_argument);
  other = sample_table();
  other.columns.pop_back();
  EXPECT_THROW(target.append_rows_from(other), std::invalid_argument);
  EXPECT_EQ(target.rows(), 5u);
}

TEST(ResultsTable, EmptyLikeKeepsSchema) {
  const Table empty = empty_like(sample_table());
  ASSERT_EQ(empty.columns.size(), 4u);
  EXPECT_EQ(empty.rows(), 0u);
  EXPECT_EQ(empty.columns[2].kind(), ColumnKind::kBool);
  EXPECT_EQ(empty.columns[2].doc, "a flag");
}

TEST(ResultsTable, CsvFieldQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("with space"), "with space");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(ResultsTable, CanonicalTextIsExact) {
  EXPECT_EQ(to_canonical_text(sample_table()),
            "x:f64,n:i64,ok:bool,s:str\n"
            "0.1,1,1,a\n"
            "nan,-2,0,\n"
            "-0,3,1,\"b,\"\"c\"\"\"\n");
  EXPECT_EQ(to_canonical_text(empty_like(sample_table())), "x:f64,n:i64,ok:bool,s:str\n");
  EXPECT_EQ(to_canonical_text(Table{}), "\n");
  Table ragged = sample_table();
  std::get<std::vector<double>>(ragged.columns[0].values).pop_back();
  EXPECT_THROW((void)to_canonical_text(ragged), std::invalid_argument);
}

}  // namespace
}  // namespace tvk
