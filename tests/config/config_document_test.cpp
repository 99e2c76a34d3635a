// ConfigDocument: locations, duplicate keys, syntax errors, emission and Hydra-style overrides.
#include "core/config/config_document.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"

namespace tvk {
namespace config_test {

// The message of the InputError `action` throws, or a marker when it throws none. Shared with
// config_reader_test.cpp, which declares it.
std::string input_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "<no InputError>";
}

}  // namespace config_test

namespace {

using config_test::input_error_of;

const char* const kBase =
    "name: demo\n"         // 1
    "seed: 7\n"            // 2
    "eps: [0.01, 0.05]\n"  // 3
    "model:\n"             // 4
    "  type: gaussian\n"   // 5
    "  sigma: [1, 2]\n"    // 6
    "label: \"123\"\n";    // 7

ConfigDocument base() {
  return ConfigDocument::parse(kBase, "base.yaml");
}

TEST(ConfigDocument, KeepsOneBasedLocationsAndFileOrder) {
  const ConfigDocument document = base();
  const ConfigNode& root = document.root();
  ASSERT_TRUE(root.is_map());
  EXPECT_EQ(root.keys(), (std::vector<std::string>{"name", "seed", "eps", "model", "label"}));
  const ConfigEntry* seed = root.find("seed");
  ASSERT_NE(seed, nullptr);
  EXPECT_EQ(seed->key_location.to_string(), "base.yaml:2:1");
  EXPECT_EQ(seed->value.location().to_string(), "base.yaml:2:7");
  const ConfigNode& sigma = root.find("model")->value.find("sigma")->value;
  ASSERT_TRUE(sigma.is_sequence());
  EXPECT_EQ(sigma.items()[1].location().to_string(), "base.yaml:6:14");
  EXPECT_EQ(sigma.items()[1].text(), "2");
  EXPECT_TRUE(root.find("label")->value.quoted());
  EXPECT_FALSE(seed->value.quoted());
}

TEST(ConfigDocument, EmptyValueSitsAtItsKey) {
  const ConfigDocument document = ConfigDocument::parse("a: 1\nmodel:\nb: 2\n", "x.yaml");
  const ConfigEntry* model = document.root().find("model");
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->value.is_null());
  EXPECT_EQ(model->value.location().to_string(), "x.yaml:2:1");
}

TEST(ConfigDocument, DuplicateKeysAreErrors) {
  EXPECT_EQ(input_error_of([] { ConfigDocument::parse("rows: 1\nseed: 2\nrows: 3\n", "d.yaml"); }),
            "d.yaml:3:1: rows: duplicate key (first at line 1)");
  EXPECT_EQ(input_error_of([] {
              ConfigDocument::parse("model:\n  sigma: 1\n  type: gaussian\n  sigma: 2\n", "d.yaml");
            }),
            "d.yaml:4:3: model.sigma: duplicate key (first at line 2)");
  EXPECT_EQ(
      input_error_of([] { ConfigDocument::parse("model: {sigma: 1, sigma: 2}\n", "f.yaml"); }),
      "f.yaml:1:19: model.sigma: duplicate key (first at line 1)");
}

TEST(ConfigDocument, SyntaxErrorsCarryFileLineColumn) {
  const std::string message =
      input_error_of([] { ConfigDocument::parse("name: x\neps: [0.1, 0.2\nrows: 3\n", "s.yaml"); });
  EXPECT_EQ(message.rfind("s.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find(": YAML syntax error: "), std::string::npos) << message;
}

TEST(ConfigDocument, TopLevelMustBeANonEmptyMap) {
  EXPECT_EQ(input_error_of([] { ConfigDocument::parse("", "e.yaml"); }),
            "e.yaml: config file is empty (expected a map of keys such as 'name: ...')");
  EXPECT_EQ(input_error_of([] { ConfigDocument::parse("- 1\n- 2\n", "l.yaml"); }),
            "l.yaml:1:1: expected a map of keys at the top level, got a list");
  EXPECT_EQ(input_error_of([] { ConfigDocument::parse("a: 1\n---\nb: 2\n", "m.yaml"); }),
            "m.yaml:3:1: more than one YAML document ('---') in a config file");
}

TEST(ConfigDocument, MissingFile) {
  EXPECT_EQ(input_error_of([] { ConfigDocument::load("configs/nope_does_not_exist.yaml"); }),
            "configs/nope_does_not_exist.yaml: cannot open config file");
}

TEST(ConfigDocument, EmitsDeterministicBlockYamlThatReparses) {
  const ConfigDocument document = base();
  const std::string text = document.to_yaml();
  EXPECT_EQ(text,
            "name: demo\n"
            "seed: 7\n"
            "eps: [0.01, 0.05]\n"
            "model:\n"
            "  type: gaussian\n"
            "  sigma: [1, 2]\n"
            "label: \"123\"\n");
  const ConfigDocument again = ConfigDocument::parse(text, "again.yaml");
  EXPECT_EQ(again.to_yaml(), text);
  EXPECT_TRUE(again.root().find("label")->value.quoted());
}

TEST(ConfigDocument, EmitsListsOfMapsInBlockStyle) {
  const ConfigDocument document = ConfigDocument::parse(
      "models:\n  - {type: gaussian, sigma: [1, 2]}\n  - type: laplace\n    empty:\n", "m.yaml");
  EXPECT_EQ(document.to_yaml(),
            "models:\n"
            "  - type: gaussian\n"
            "    sigma: [1, 2]\n"
            "  - type: laplace\n"
            "    empty: ~\n");
}

TEST(ConfigOverride, ChangesAnExistingKey) {
  ConfigDocument document = base();
  document.apply_overrides({"seed=9", "model.sigma=[3,4,5]", "eps=0.2", "model.type=laplace"});
  const ConfigNode& root = document.root();
  EXPECT_EQ(root.find("seed")->value.text(), "9");
  EXPECT_EQ(root.find("seed")->value.location().to_string(), "<command line>");
  const ConfigNode& sigma = root.find("model")->value.find("sigma")->value;
  ASSERT_EQ(sigma.items().size(), 3u);  // lists are replaced, not merged
  EXPECT_EQ(sigma.items()[2].text(), "5");
  EXPECT_TRUE(root.find("eps")->value.is_scalar());
  EXPECT_EQ(document.overrides().size(), 4u);
  // Order of keys is kept: the override changes values in place.
  EXPECT_EQ(root.keys(), (std::vector<std::string>{"name", "seed", "eps", "model", "label"}));
}

TEST(ConfigOverride, AddressesListElements) {
  ConfigDocument document = base();
  document.apply_override("eps[1]=0.2");
  document.apply_override("+eps[2]=0.3");
  document.apply_override("model.sigma[0]=7");
  EXPECT_EQ(document.to_yaml(),
            "name: demo\nseed: 7\neps: [0.01, 0.2, 0.3]\nmodel:\n  type: gaussian\n"
            "  sigma: [7, 2]\nlabel: \"123\"\n");
  document.apply_override("~eps[0]");
  EXPECT_EQ(document.root().find("eps")->value.items().size(), 2u);
}

TEST(ConfigOverride, AddsSetsAndRemovesKeys) {
  ConfigDocument document = base();
  document.apply_override("+store_rows=true");
  document.apply_override("+model.mu=[0, 1]");
  document.apply_override("+extra.deep.key=x");  // missing parents become maps
  document.apply_override("++seed=11");          // ++ sets an existing key
  document.apply_override("++block=4");          // ... or adds a new one
  document.apply_override("~label");
  EXPECT_EQ(document.to_yaml(),
            "name: demo\n"
            "seed: 11\n"
            "eps: [0.01, 0.05]\n"
            "model:\n"
            "  type: gaussian\n"
            "  sigma: [1, 2]\n"
            "  mu: [0, 1]\n"
            "store_rows: true\n"
            "extra:\n"
            "  deep:\n"
            "    key: x\n"
            "block: 4\n");
}

TEST(ConfigOverride, ValuesAreYaml) {
  ConfigDocument document = base();
  document.apply_override("model={type: student_t, nu: [2, 3]}");
  document.apply_override("name='quoted name'");
  document.apply_override("seed=");
  const ConfigNode& model = document.root().find("model")->value;
  ASSERT_TRUE(model.is_map());
  EXPECT_EQ(model.keys(), (std::vector<std::string>{"type", "nu"}));
  EXPECT_TRUE(document.root().find("name")->value.quoted());
  EXPECT_EQ(document.root().find("name")->value.text(), "quoted name");
  EXPECT_TRUE(document.root().find("seed")->value.is_null());
}

TEST(ConfigOverride, ChangingAMissingKeyFailsWithDidYouMean) {
  ConfigDocument document = base();
  EXPECT_EQ(
      input_error_of([&] { document.apply_override("model.sigm=2"); }),
      "<command line>: override 'model.sigm=2': no key model.sigm (did you mean model.sigma?)");
  EXPECT_EQ(input_error_of([&] { document.apply_override("rows=5"); }),
            "<command line>: override 'rows=5': no key rows (use +rows=... to add a key)");
  EXPECT_EQ(input_error_of([&] { document.apply_override("modl.sigma=2"); }),
            "<command line>: override 'modl.sigma=2': no key modl (did you mean model?)");
}

TEST(ConfigOverride, AddingAnExistingKeyFails) {
  ConfigDocument document = base();
  EXPECT_EQ(input_error_of([&] { document.apply_override("+seed=3"); }),
            "<command line>: override '+seed=3': key seed already exists (use seed=... to change "
            "it)");
  EXPECT_EQ(input_error_of([&] { document.apply_override("+model.sigma=3"); }),
            "<command line>: override '+model.sigma=3': key model.sigma already exists (use "
            "model.sigma=... to change it)");
}

TEST(ConfigOverride, MalformedOverridesFail) {
  ConfigDocument document = base();
  EXPECT_EQ(input_error_of([&] { document.apply_override("rows"); }),
            "<command line>: override 'rows': expected key=value, +key=value, ++key=value or ~key");
  EXPECT_EQ(input_error_of([&] { document.apply_override("eps[5]=0.1"); }),
            "<command line>: override 'eps[5]=0.1': eps has 2 elements, no index 5");
  EXPECT_EQ(input_error_of([&] { document.apply_override("seed.x=1"); }),
            "<command line>: override 'seed.x=1': seed is '7', not a map");
  EXPECT_EQ(input_error_of([&] { document.apply_override("model..type=1"); }),
            "<command line>: override 'model..type=1': bad key path 'model..type': empty key name");
  const std::string syntax = input_error_of([&] { document.apply_override("eps=[0.1,"); });
  EXPECT_EQ(
      syntax.rfind("<command line>: override 'eps=[0.1,': YAML syntax error in the value: ", 0), 0u)
      << syntax;
  // A failed override changes nothing.
  EXPECT_EQ(document.to_yaml(), base().to_yaml());
  EXPECT_TRUE(document.overrides().empty());
}

// Hostile YAML: these once crashed (stack overflow) or ran out of memory.
TEST(ConfigDocumentTest, RecursiveAliasesAreRefusedNotFollowed) {
  EXPECT_EQ(input_error_of(
                [] { ConfigDocument::parse("model: &m {type: gaussian, self: *m}\n", "r.yaml"); }),
            "r.yaml:1:8: model.self: an alias refers to a node that contains it (recursive)");
  EXPECT_NE(input_error_of([] {
              ConfigDocument::parse("a: &l [1, *l]\n", "r.yaml");
            }).find("a[1]: an alias refers to a node that contains it"),
            std::string::npos);
}

TEST(ConfigDocumentTest, AliasBombsAndDeepNestingAreRefusedInBoundedTime) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 8; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j)
      bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  EXPECT_NE(input_error_of([&] {
              ConfigDocument::parse(bomb, "b.yaml");
            }).find("the config expands to more than 1000000 values"),
            std::string::npos);
  const std::string deep = "a: " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_NE(input_error_of([&] {
              ConfigDocument::parse(deep, "d.yaml");
            }).find("nested deeper than 64 levels"),
            std::string::npos);
  // Aliases that repeat a value a few times are still fine.
  const ConfigDocument ok = ConfigDocument::parse("x: &x [1, 2]\ny: *x\nz: [*x, *x]\n", "ok.yaml");
  EXPECT_NE(ok.root().find("z"), nullptr);
}

}  // namespace
}  // namespace tvk
