#include "core/config/config_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "core/text/text.h"

namespace tvk {

// ---------------------------------------------------------------------------------------------
// Locations and messages

std::string SourceLocation::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string format_config_error(const SourceLocation& where, std::string_view path,
                                std::string_view message) {
  std::string text = where.to_string();
  text += ": ";
  if (!path.empty()) {
    text += path;
    text += ": ";
  }
  text += message;
  return text;
}

void throw_config_error(const SourceLocation& where, std::string_view path,
                        std::string_view message) {
  throw InputError(format_config_error(where, path, message));
}

// ---------------------------------------------------------------------------------------------
// ConfigNode

ConfigNode::ConfigNode(Kind kind, SourceLocation location)
    : kind_(kind), location_(std::move(location)) {}

ConfigNode ConfigNode::null(SourceLocation location) {
  return ConfigNode(Kind::kNull, std::move(location));
}

ConfigNode ConfigNode::scalar(std::string text, bool quoted, SourceLocation location) {
  ConfigNode node(Kind::kScalar, std::move(location));
  node.text_ = std::move(text);
  node.quoted_ = quoted;
  return node;
}

ConfigNode ConfigNode::sequence(SourceLocation location) {
  return ConfigNode(Kind::kSequence, std::move(location));
}

ConfigNode ConfigNode::map(SourceLocation location) {
  return ConfigNode(Kind::kMap, std::move(location));
}

const ConfigEntry* ConfigNode::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

ConfigEntry* ConfigNode::find(std::string_view key) {
  return const_cast<ConfigEntry*>(std::as_const(*this).find(key));
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto& entry : entries_)
    keys.push_back(entry.key);
  return keys;
}

std::string ConfigNode::describe() const {
  switch (kind_) {
    case Kind::kNull:
      return "an empty value";
    case Kind::kScalar:
      return quoted_ ? "the string \"" + text_ + "\"" : "'" + text_ + "'";
    case Kind::kSequence:
      return "a list";
    case Kind::kMap:
      return "a map";
  }
  return "a value";
}

// ---------------------------------------------------------------------------------------------
// yaml-cpp → ConfigNode

namespace {

std::string child_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path = parent;
  path += '.';
  path += key;
  return path;
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Builds our tree from yaml-cpp's. Values parsed from an override all sit at kCommandLine:
// their marks would only count columns inside the override text.
class TreeBuilder {
 public:
  TreeBuilder(std::string file, bool use_marks) : file_(std::move(file)), use_marks_(use_marks) {}

  ConfigNode build(const YAML::Node& node, const std::string& path,
                   const SourceLocation& fallback) const {
    const SourceLocation where = location_of(node, fallback);
    // Aliases make yaml-cpp's tree a graph: one that contains itself would recurse forever, and
    // nested aliases can expand exponentially ("billion laughs"). Both are refused, as is
    // nesting deeper than any config needs (it would overflow the stack).
    for (const YAML::Node& ancestor : ancestors_) {
      if (node.is(ancestor)) {
        throw_config_error(where, path, "an alias refers to a node that contains it (recursive)");
      }
    }
    if (ancestors_.size() >= kMaxDepth) {
      throw_config_error(where, path,
                         "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (++built_ > kMaxNodes) {
      throw_config_error(where, path,
                         "the config expands to more than " + std::to_string(kMaxNodes) +
                             " values (aliases repeating aliases?)");
    }
    ancestors_.push_back(node);
    struct Pop {
      std::vector<YAML::Node>& stack;
      ~Pop() { stack.pop_back(); }
    } pop{ancestors_};
    switch (node.Type()) {
      case YAML::NodeType::Scalar: {
        // yaml-cpp tags quoted scalars "!"; an explicit !!str means the same.
        const bool quoted = node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
        return ConfigNode::scalar(node.Scalar(), quoted, where);
      }
      case YAML::NodeType::Sequence: {
        ConfigNode sequence = ConfigNode::sequence(where);
        std::size_t index = 0;
        for (const auto& item : node) {
          sequence.items().push_back(build(item, index_path(path, index), where));
          ++index;
        }
        return sequence;
      }
      case YAML::NodeType::Map: {
        ConfigNode map = ConfigNode::map(where);
        for (const auto& pair : node) {
          const YAML::Node& key_node = pair.first;
          const SourceLocation key_where = location_of(key_node, where);
          if (!key_node.IsScalar() || key_node.Scalar().empty()) {
            throw_config_error(key_where, path, "keys must be plain names");
          }
          const std::string key = key_node.Scalar();
          const std::string key_path = child_path(path, key);
          // yaml-cpp 0.7 keeps both pairs of a repeated key without a word; we refuse.
          if (const ConfigEntry* first = map.find(key)) {
            std::string message = "duplicate key";
            if (first->key_location.line > 0) {
              message += " (first at line " + std::to_string(first->key_location.line) + ")";
            }
            throw_config_error(key_where, key_path, message);
          }
          // An empty value's mark points at the next token; the key is the better place.
          ConfigNode value = pair.second.IsNull() ? ConfigNode::null(key_where)
                                                  : build(pair.second, key_path, key_where);
          map.entries().push_back(ConfigEntry{key, key_where, std::move(value)});
        }
        return map;
      }
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        break;
    }
    return ConfigNode::null(where);
  }

 private:
  static constexpr std::size_t kMaxDepth = 64;
  static constexpr std::size_t kMaxNodes = 1000000;
  mutable std::vector<YAML::Node> ancestors_;  // the nodes from the root to the one being built
  mutable std::size_t built_ = 0;

  SourceLocation location_of(const YAML::Node& node, const SourceLocation& fallback) const {
    if (!use_marks_) return SourceLocation{file_, 0, 0};
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0) return fallback;
    return SourceLocation{file_, mark.line + 1, mark.column + 1};
  }

  std::string file_;
  bool use_marks_;
};

SourceLocation mark_location(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null() || mark.line < 0) return SourceLocation{file, 0, 0};
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

// ---------------------------------------------------------------------------------------------
// Overrides

enum class OverrideKind { kChange, kAdd, kSet, kRemove };

struct PathStep {
  bool is_index = false;
  std::string key;
  std::size_t index = 0;
};

struct ParsedOverride {
  OverrideKind kind = OverrideKind::kChange;
  std::vector<PathStep> steps;
  std::string value;
};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::string display_path(const std::vector<PathStep>& steps, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count && i < steps.size(); ++i) {
    path = steps[i].is_index ? index_path(path, steps[i].index) : child_path(path, steps[i].key);
  }
  return path;
}

// Applies one override to a tree; every error names the override as given.
class OverrideApplier {
 public:
  explicit OverrideApplier(std::string_view text) : text_(text) {}

  void apply(ConfigNode& root) {
    const ParsedOverride parsed = parse();
    steps_ = parsed.steps;
    const bool create = parsed.kind == OverrideKind::kAdd || parsed.kind == OverrideKind::kSet;
    ConfigNode* node = &root;
    for (std::size_t i = 0; i + 1 < steps_.size(); ++i)
      node = step_into(*node, i, create);

    const std::size_t last = steps_.size() - 1;
    const PathStep& step = steps_[last];
    const std::string path = display_path(steps_, steps_.size());
    if (parsed.kind == OverrideKind::kRemove) {
      remove(*node, last);
      return;
    }
    ConfigNode value = parse_value(parsed.value, path);
    if (step.is_index) {
      expect_sequence(*node, last);
      auto& items = node->items();
      const bool exists = step.index < items.size();
      if (parsed.kind == OverrideKind::kAdd && exists) {
        fail(path + " already exists (use " + path + "=... to change it)");
      }
      if (parsed.kind == OverrideKind::kChange && !exists) fail(out_of_range(*node, last));
      if (exists) {
        items[step.index] = std::move(value);
      } else if (step.index == items.size()) {
        items.push_back(std::move(value));
      } else {
        fail(out_of_range(*node, last));
      }
      return;
    }
    make_map_if_null(*node, create);
    expect_map(*node, last);
    ConfigEntry* entry = node->find(step.key);
    if (entry == nullptr) {
      if (parsed.kind == OverrideKind::kChange) fail(no_key(*node, last));
      node->entries().push_back(ConfigEntry{step.key, command_line(), std::move(value)});
      return;
    }
    if (parsed.kind == OverrideKind::kAdd) {
      fail("key " + path + " already exists (use " + path + "=... to change it)");
    }
    entry->value = std::move(value);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw_config_error(command_line(), "", "override '" + std::string(text_) + "': " + message);
  }

  static SourceLocation command_line() { return SourceLocation{std::string(kCommandLine), 0, 0}; }

  ParsedOverride parse() const {
    ParsedOverride parsed;
    std::string_view rest = trim(text_);
    if (rest.starts_with("~")) {
      parsed.kind = OverrideKind::kRemove;
      rest.remove_prefix(1);
    } else if (rest.starts_with("++")) {
      parsed.kind = OverrideKind::kSet;
      rest.remove_prefix(2);
    } else if (rest.starts_with("+")) {
      parsed.kind = OverrideKind::kAdd;
      rest.remove_prefix(1);
    }
    const auto equals = rest.find('=');
    std::string_view path_text = rest;
    if (parsed.kind == OverrideKind::kRemove) {
      if (equals != std::string_view::npos) fail("~key removes a key and takes no value");
    } else {
      if (equals == std::string_view::npos) {
        fail("expected key=value, +key=value, ++key=value or ~key");
      }
      path_text = rest.substr(0, equals);
      parsed.value = std::string(rest.substr(equals + 1));
    }
    parsed.steps = parse_path(trim(path_text));
    return parsed;
  }

  std::vector<PathStep> parse_path(std::string_view text) const {
    std::vector<PathStep> steps;
    std::size_t pos = 0;
    auto bad = [&](const std::string& why) {
      fail("bad key path '" + std::string(text) + "': " + why);
    };
    if (text.empty()) bad("empty");
    while (pos < text.size()) {
      const auto end = text.find_first_of(".[]", pos);
      const std::string_view key =
          text.substr(pos, end == std::string_view::npos ? end : end - pos);
      if (key.empty()) bad("empty key name");
      steps.push_back(PathStep{false, std::string(key), 0});
      pos = end == std::string_view::npos ? text.size() : end;
      while (pos < text.size() && text[pos] == '[') {
        const auto close = text.find(']', pos);
        if (close == std::string_view::npos) bad("missing ']'");
        const std::string_view digits = text.substr(pos + 1, close - pos - 1);
        std::size_t index = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
        if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
          bad("list index must be a non-negative integer");
        }
        steps.push_back(PathStep{true, "", index});
        pos = close + 1;
      }
      if (pos < text.size()) {
        if (text[pos] != '.') bad("unexpected '" + std::string(1, text[pos]) + "'");
        ++pos;
        if (pos == text.size()) bad("ends with '.'");
      }
    }
    return steps;
  }

  ConfigNode parse_value(const std::string& value_text, const std::string& path) const {
    YAML::Node node;
    try {
      node = YAML::Load(value_text);
    } catch (const YAML::Exception& error) {
      fail("YAML syntax error in the value: " + error.msg);
    }
    const TreeBuilder builder(std::string(kCommandLine), false);
    return builder.build(node, path, command_line());
  }

  static void make_map_if_null(ConfigNode& node, bool create) {
    // `model:` left empty in the file, then `+model.type=gaussian`: the empty value becomes a map.
    if (create && node.is_null()) node = ConfigNode::map(node.location());
  }

  void expect_map(const ConfigNode& node, std::size_t step) const {
    if (node.is_map()) return;
    const std::string parent = display_path(steps_, step);
    fail((parent.empty() ? std::string("the top level") : parent) + " is " + node.describe() +
         ", not a map");
  }

  void expect_sequence(const ConfigNode& node, std::size_t step) const {
    if (node.is_sequence()) return;
    const std::string parent = display_path(steps_, step);
    fail(parent + " is " + node.describe() + ", not a list");
  }

  std::string no_key(const ConfigNode& map, std::size_t step) const {
    const std::string parent = display_path(steps_, step);
    const std::string path = display_path(steps_, step + 1);
    std::string message = "no key " + path;
    const std::string guess = closest_name(steps_[step].key, map.keys());
    if (!guess.empty()) {
      message += " (did you mean " + child_path(parent, guess) + "?)";
    } else {
      message += " (use +" + path + "=... to add a key)";
    }
    return message;
  }

  std::string out_of_range(const ConfigNode& sequence, std::size_t step) const {
    const std::string parent = display_path(steps_, step);
    return parent + " has " + std::to_string(sequence.items().size()) + " elements, no index " +
           std::to_string(steps_[step].index);
  }

  ConfigNode* step_into(ConfigNode& node, std::size_t step, bool create) const {
    const PathStep& s = steps_[step];
    if (s.is_index) {
      expect_sequence(node, step);
      if (s.index >= node.items().size()) fail(out_of_range(node, step));
      return &node.items()[s.index];
    }
    make_map_if_null(node, create);
    expect_map(node, step);
    if (ConfigEntry* entry = node.find(s.key)) return &entry->value;
    if (!create) fail(no_key(node, step));
    node.entries().push_back(ConfigEntry{s.key, command_line(), ConfigNode::map(command_line())});
    return &node.entries().back().value;
  }

  void remove(ConfigNode& node, std::size_t step) const {
    const PathStep& s = steps_[step];
    if (s.is_index) {
      expect_sequence(node, step);
      auto& items = node.items();
      if (s.index >= items.size()) fail(out_of_range(node, step));
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(s.index));
      return;
    }
    expect_map(node, step);
    auto& entries = node.entries();
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const ConfigEntry& entry) { return entry.key == s.key; });
    if (it == entries.end()) fail(no_key(node, step));
    entries.erase(it);
  }

  std::string_view text_;
  std::vector<PathStep> steps_;
};

// ---------------------------------------------------------------------------------------------
// Emission

void emit(YAML::Emitter& out, const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      out << YAML::Null;
      return;
    case ConfigNode::Kind::kScalar:
      // Quoted scalars stay quoted so "123" does not come back as a number.
      if (node.quoted()) out << YAML::DoubleQuoted;
      out << node.text();
      return;
    case ConfigNode::Kind::kSequence: {
      const bool flat =
          std::all_of(node.items().begin(), node.items().end(),
                      [](const ConfigNode& item) { return item.is_scalar() || item.is_null(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node.items())
        emit(out, item);
      out << YAML::EndSeq;
      return;
    }
    case ConfigNode::Kind::kMap:
      if (node.entries().empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& entry : node.entries()) {
        out << YAML::Key << entry.key << YAML::Value;
        emit(out, entry.value);
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, node);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

// ---------------------------------------------------------------------------------------------
// ConfigDocument

ConfigDocument::ConfigDocument(ConfigNode root, std::string source)
    : root_(std::move(root)), source_(std::move(source)) {}

ConfigDocument ConfigDocument::load(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw_config_error(SourceLocation{name, 0, 0}, "", "is a directory, not a config file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_config_error(SourceLocation{name, 0, 0}, "", "cannot open config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw_config_error(SourceLocation{name, 0, 0}, "", "cannot read config file");
  return parse(text.str(), name);
}

namespace {

// Records where each document starts. yaml-cpp 0.7's LoadAll never returns on a ',' outside any
// collection (",", "[a]\n,"): its parser yields an empty document there without consuming the
// token, again and again; a document starting where the previous one did is that loop.
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

ConfigDocument ConfigDocument::parse(std::string_view text, std::string source_name) {
  std::vector<YAML::Node> documents;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (parser.HandleNextDocument(starts)) {
      const auto& m = starts.marks;
      if (m.size() >= 2 && m[m.size() - 1].pos == m[m.size() - 2].pos) {
        const auto at = static_cast<std::size_t>(m.back().pos);
        throw_config_error(mark_location(m.back(), source_name), "",
                           "YAML syntax error: unexpected '" + std::string(text.substr(at, 1)) +
                               "' outside a list or map");
      }
    }
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    throw_config_error(mark_location(error.mark, source_name), "",
                       "YAML syntax error: " + error.msg);
  }
  const SourceLocation start{source_name, 1, 1};
  if (documents.empty() || documents.front().IsNull()) {
    throw_config_error(SourceLocation{source_name, 0, 0}, "",
                       "config file is empty (expected a map of keys such as 'name: ...')");
  }
  if (documents.size() > 1) {
    throw_config_error(mark_location(documents[1].Mark(), source_name), "",
                       "more than one YAML document ('---') in a config file");
  }
  const TreeBuilder builder(source_name, true);
  ConfigNode root = builder.build(documents.front(), "", start);
  if (!root.is_map()) {
    throw_config_error(root.location(), "",
                       "expected a map of keys at the top level, got " + root.describe());
  }
  return ConfigDocument(std::move(root), std::move(source_name));
}

void ConfigDocument::apply_override(std::string_view override_text) {
  // Work on a copy so a failing override leaves the document as it was.
  ConfigNode root = root_;
  OverrideApplier(override_text).apply(root);
  root_ = std::move(root);
  overrides_.emplace_back(override_text);
}

void ConfigDocument::apply_overrides(const std::vector<std::string>& overrides) {
  for (const auto& text : overrides)
    apply_override(text);
}

}  // namespace tvk
