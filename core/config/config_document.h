#pragma once
//! \file A YAML config as a tree that remembers where every value came from (file and 1-based
//! line:column, or the command line), with Hydra-style overrides and deterministic re-emission.
//! yaml-cpp 0.7 is only the parser: it accepts duplicate keys silently, its marks are 0-based and
//! carry no file name, so the tree is our own and those gaps are closed while building it.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tvk {

//! The `file` of every value that came from a command-line override.
inline constexpr std::string_view kCommandLine = "<command line>";

//! Where a config value came from.
struct SourceLocation {
  std::string file;  //!< the file name as given, or kCommandLine
  int line = 0;      //!< 1-based; 0 when unknown
  int column = 0;    //!< 1-based; 0 when unknown

  //! "file:line:col", or just "file" when the line is unknown.
  std::string to_string() const;
};

//! Formats a config error the one way every config error reads:
//! "<file>:<line>:<col>: <key.path[index]>: <message>" (the path part is left out when empty).
std::string format_config_error(const SourceLocation& where, std::string_view path,
                                std::string_view message);

//! Throws InputError with format_config_error(where, path, message).
[[noreturn]] void throw_config_error(const SourceLocation& where, std::string_view path,
                                     std::string_view message);

struct ConfigEntry;

//! One node of a config: an empty value (YAML null), a scalar, a sequence or a map. Maps keep
//! their keys in file order and never hold the same key twice.
class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  //! A null node (`key:` with nothing after it, `~`, `null`).
  static ConfigNode null(SourceLocation location);
  //! A scalar; `quoted` when it was written in quotes (or tagged !!str), which makes it a string
  //! even when it reads like a number.
  static ConfigNode scalar(std::string text, bool quoted, SourceLocation location);
  //! An empty sequence.
  static ConfigNode sequence(SourceLocation location);
  //! An empty map.
  static ConfigNode map(SourceLocation location);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_map() const { return kind_ == Kind::kMap; }

  //! Where the value starts (for a null map value: where its key is).
  const SourceLocation& location() const { return location_; }
  //! The scalar's text exactly as written (without quotes); empty for other kinds.
  const std::string& text() const { return text_; }
  //! Whether the scalar was quoted (or tagged !!str).
  bool quoted() const { return quoted_; }

  //! The elements of a sequence (empty for other kinds).
  const std::vector<ConfigNode>& items() const { return items_; }
  std::vector<ConfigNode>& items() { return items_; }
  //! The entries of a map, in file order (empty for other kinds).
  const std::vector<ConfigEntry>& entries() const { return entries_; }
  std::vector<ConfigEntry>& entries() { return entries_; }

  //! The entry with this key, or nullptr (also for non-maps).
  const ConfigEntry* find(std::string_view key) const;
  ConfigEntry* find(std::string_view key);
  //! The keys of a map in file order.
  std::vector<std::string> keys() const;

  //! What the node is, for messages: "'abc'", "the string \"12\"", "a list", "a map",
  //! "an empty value".
  std::string describe() const;

 private:
  ConfigNode(Kind kind, SourceLocation location);

  Kind kind_;
  SourceLocation location_;
  std::string text_;
  bool quoted_ = false;
  std::vector<ConfigNode> items_;
  std::vector<ConfigEntry> entries_;
};

//! One `key: value` pair of a map.
struct ConfigEntry {
  std::string key;
  SourceLocation key_location;  //!< where the key is written
  ConfigNode value;
};

//! Emits `node` as YAML text: maps in block style with keys in stored order, sequences of
//! scalars in flow style (`[1, 2]`), scalars exactly as written (quoted ones re-quoted).
//! Deterministic, and parsing the text gives back the same tree (locations aside).
std::string to_yaml(const ConfigNode& node);

//! A parsed config file with the command-line overrides applied to it.
class ConfigDocument {
 public:
  //! Reads and parses `file`. Throws InputError ("<file>: cannot open config file",
  //! "<file>:<line>:<col>: YAML syntax error: ...", "...: model.sigma: duplicate key ...", or
  //! a top level that is not a map).
  static ConfigDocument load(const std::filesystem::path& file);

  //! Parses `text` as if it had been read from a file called `source_name`.
  static ConfigDocument parse(std::string_view text, std::string source_name);

  //! Applies one Hydra-style override, located at kCommandLine in errors:
  //!  - `key.path=value` changes an existing key (error with a did-you-mean when absent);
  //!  - `+key.path=value` adds a key that must not exist (missing parent maps are created);
  //!  - `++key.path=value` sets a key whether or not it exists;
  //!  - `~key.path` removes a key.
  //! Paths are dot-separated keys with optional list indices (`eps[1]`, `models[0].sigma`);
  //! `+list[size]=v` appends. Values are parsed as YAML (flow) text: `512`, `[1,2]`, `true`,
  //! `{type: gaussian}`; an empty value is null. Lists are replaced, never merged.
  void apply_override(std::string_view override_text);
  //! Applies the overrides in order.
  void apply_overrides(const std::vector<std::string>& overrides);

  //! The top-level map.
  const ConfigNode& root() const { return root_; }
  //! The file name as given (or the `source_name` of parse()).
  const std::string& source() const { return source_; }
  //! The overrides applied so far, as given.
  const std::vector<std::string>& overrides() const { return overrides_; }

  //! The resolved config (after overrides) as YAML text; see to_yaml().
  std::string to_yaml() const { return tvk::to_yaml(root_); }

 private:
  ConfigDocument(ConfigNode root, std::string source);

  ConfigNode root_;
  std::string source_;
  std::vector<std::string> overrides_;
};

}  // namespace tvk
