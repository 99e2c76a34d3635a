// ConfigReader: typed values, defaults, list-or-scalar, checks, unknown and missing keys.
#include "core/config/config_reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

namespace tvk {
namespace config_test {
// Defined in config_document_test.cpp: the InputError message of `action`, or a marker.
std::string input_error_of(const std::function<void()>& action);
}  // namespace config_test

namespace {

const auto error_message = config_test::input_error_of;

ConfigDocument parse(const std::string& text) {
  return ConfigDocument::parse(text, "r.yaml");
}

TEST(ConfigReader, ReadsEachType) {
  const ConfigDocument document = parse(
      "count: 42\nbig: 1e6\nplus: +3\nseed: 18446744073709551615\nx: 0.25\nflag: yes\n"
      "off: False\nword: hello\nnumber_as_text: 12\n");
  ConfigReader reader(document);
  EXPECT_EQ(reader.get<std::int64_t>("count"), 42);
  EXPECT_EQ(reader.get<std::int64_t>("big"), 1000000);
  EXPECT_EQ(reader.get<std::int64_t>("plus"), 3);
  EXPECT_EQ(reader.get<std::uint64_t>("seed"), UINT64_MAX);
  EXPECT_DOUBLE_EQ(reader.get<double>("x"), 0.25);
  EXPECT_TRUE(reader.get<bool>("flag"));
  EXPECT_FALSE(reader.get<bool>("off"));
  EXPECT_EQ(reader.get<std::string>("word"), "hello");
  EXPECT_EQ(reader.get<std::string>("number_as_text"), "12");
  EXPECT_NO_THROW(reader.finish());
}

TEST(ConfigReader, WrongTypesNameKeyAndValueLocation) {
  const ConfigDocument document = parse(
      "name: x\n"          // 1
      "seed: 1\n"          // 2
      "rows: abc\n"        // 3
      "half: 2.5\n"        // 4
      "quoted: \"100\"\n"  // 5
      "neg: -1\n"          // 6
      "nan: .nan\n"        // 7
      "flag: maybe\n"      // 8
      "list: [1, 2]\n"     // 9
      "sub: {a: 1}\n"      // 10
      "empty:\n");         // 11
  ConfigReader reader(document);
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("rows"); }),
            "r.yaml:3:7: rows: expected an integer, got 'abc'");
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("half"); }),
            "r.yaml:4:7: half: expected an integer, got '2.5'");
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("quoted"); }),
            "r.yaml:5:9: quoted: expected an integer, got the string \"100\"");
  EXPECT_EQ(error_message([&] { reader.get<std::uint64_t>("neg"); }),
            "r.yaml:6:6: neg: expected a non-negative integer, got '-1'");
  EXPECT_EQ(error_message([&] { reader.get<double>("nan"); }),
            "r.yaml:7:6: nan: expected a finite number, got '.nan'");
  EXPECT_EQ(error_message([&] { reader.get<bool>("flag"); }),
            "r.yaml:8:7: flag: expected true or false, got 'maybe'");
  EXPECT_EQ(error_message([&] { reader.get<double>("list"); }),
            "r.yaml:9:7: list: expected a number, got a list");
  EXPECT_EQ(error_message([&] { reader.get<std::string>("sub"); }),
            "r.yaml:10:6: sub: expected a string, got a map");
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("empty"); }),
            "r.yaml:11:1: empty: expected an integer, got an empty value");
}

TEST(ConfigReader, DefaultsApplyOnlyWhenAbsent) {
  const ConfigDocument document = parse("block: 4\n");
  ConfigReader reader(document);
  EXPECT_EQ(reader.get_or<std::int64_t>("block", 16), 4);
  EXPECT_EQ(reader.get_or<std::int64_t>("chunk_rows", 64), 64);
  EXPECT_EQ(reader.get_or<std::string>("mode", "geometric"), "geometric");
  EXPECT_EQ(reader.get_list_or<double>("k_grid", {0.1, 0.2}), (std::vector<double>{0.1, 0.2}));
  EXPECT_NO_THROW(reader.finish());
}

TEST(ConfigReader, ScalarIsAOneElementList) {
  const ConfigDocument document = parse("n: 512\neps: [0.01, 0.05]\nbounds: b1\n");
  ConfigReader reader(document);
  EXPECT_EQ(reader.get_list<std::int64_t>("n"), (std::vector<std::int64_t>{512}));
  EXPECT_EQ(reader.get_list<double>("eps"), (std::vector<double>{0.01, 0.05}));
  EXPECT_EQ(reader.get_list<std::string>("bounds"), (std::vector<std::string>{"b1"}));
}

TEST(ConfigReader, ChecksReportAtTheElement) {
  const ConfigDocument document = parse("n: [128, 0, 4]\nrows: 0\nm: -1\nlist: [1, x]\n");
  ConfigReader reader(document);
  const ValueCheck<std::int64_t> positive = [](const std::int64_t& v) {
    return v >= 1 ? std::string() : "must be >= 1, got " + std::to_string(v);
  };
  EXPECT_EQ(error_message([&] { reader.get_list<std::int64_t>("n", positive); }),
            "r.yaml:1:10: n[1]: must be >= 1, got 0");
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("rows", positive); }),
            "r.yaml:2:7: rows: must be >= 1, got 0");
  // A scalar where a list is allowed is reported without an index.
  EXPECT_EQ(error_message([&] { reader.get_list<std::int64_t>("m", positive); }),
            "r.yaml:3:4: m: must be >= 1, got -1");
  EXPECT_EQ(error_message([&] { reader.get_list<double>("list"); }),
            "r.yaml:4:11: list[1]: expected a number, got 'x'");
  EXPECT_EQ(error_message([&] { reader.fail_element("n", 2, "too small"); }),
            "r.yaml:1:13: n[2]: too small");
  EXPECT_EQ(error_message([&] { reader.fail("rows", "bad"); }), "r.yaml:2:7: rows: bad");
}

TEST(ConfigReader, FinishRejectsUnknownKeysWithDidYouMean) {
  const ConfigDocument document = parse(
      "rows: 3\n"
      "model:\n"
      "  type: gaussian\n"
      "  sigmaa: 2\n"
      "store_row: true\n");
  ConfigReader reader(document);
  reader.get<std::int64_t>("rows");
  reader.get_or<bool>("store_rows", false);
  ConfigReader model = reader.child("model");
  model.get<std::string>("type");
  model.get_list_or<double>("sigma", {1.0});
  model.get_list_or<double>("mu", {0.0});
  EXPECT_EQ(error_message([&] { model.finish(); }),
            "r.yaml:4:3: model.sigmaa: unknown key (did you mean model.sigma?)");
  EXPECT_EQ(error_message([&] { reader.finish(); }),
            "r.yaml:5:1: store_row: unknown key (did you mean store_rows?)");
}

TEST(ConfigReader, UnknownKeyWithoutAHintListsTheValidKeys) {
  const ConfigDocument document = parse("rows: 3\nzzz: 1\n");
  ConfigReader reader(document);
  reader.get<std::int64_t>("rows");
  reader.get_or<std::int64_t>("block", 16);
  EXPECT_EQ(error_message([&] { reader.finish(); }),
            "r.yaml:2:1: zzz: unknown key (valid here: rows, block)");
}

TEST(ConfigReader, MissingRequiredKeyPointsAtTheParent) {
  const ConfigDocument document = parse(
      "name: x\n"
      "model:\n"
      "  sigma: 2\n");
  ConfigReader reader(document);
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("rows"); }),
            "r.yaml:1:1: rows: missing required key");
  ConfigReader model = reader.child("model");
  EXPECT_EQ(error_message([&] { model.get<std::string>("type"); }),
            "r.yaml:2:1: model.type: missing required key");
  EXPECT_EQ(error_message([&] { reader.child("models"); }),
            "r.yaml:1:1: models: missing required key");
}

TEST(ConfigReader, MisspeltRequiredKeyIsReportedWhereItIs) {
  const ConfigDocument document = parse("name: x\nrowz: 3\n");
  ConfigReader reader(document);
  reader.get<std::string>("name");
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("rows"); }),
            "r.yaml:2:1: rowz: unknown key (did you mean rows?)");
}

TEST(ConfigReader, NestedMapsAndListsOfMaps) {
  const ConfigDocument document = parse(
      "model: 3\n"
      "models:\n"
      "  - type: a\n"
      "  - 5\n");
  ConfigReader reader(document);
  EXPECT_EQ(error_message([&] { reader.child("model"); }),
            "r.yaml:1:8: model: expected a map of keys, got '3'");
  EXPECT_EQ(error_message([&] { reader.children("models"); }),
            "r.yaml:4:5: models[1]: expected a map of keys, got '5'");
}

TEST(ConfigReader, OverriddenValuesAreLocatedOnTheCommandLine) {
  ConfigDocument document = parse("rows: 3\n");
  document.apply_override("rows=abc");
  ConfigReader reader(document);
  EXPECT_EQ(error_message([&] { reader.get<std::int64_t>("rows"); }),
            "<command line>: rows: expected an integer, got 'abc'");
  document.apply_override("+rowz=1");
  ConfigReader again(document);
  again.get<std::string>("rows");
  EXPECT_EQ(error_message([&] { again.finish(); }),
            "<command line>: rowz: unknown key (did you mean rows?)");
}

TEST(ConfigReader, ExperimentKind) {
  EXPECT_EQ(experiment_kind(parse("name: x\n")), "synthetic");
  EXPECT_EQ(experiment_kind(parse("kind: logit_store\n")), "logit_store");
  EXPECT_EQ(error_message([] { experiment_kind(parse("kind: [a]\n")); }),
            "r.yaml:1:7: kind: expected a string, got a list");
}

}  // namespace
}  // namespace tvk
