//! \file End-to-end tests of `tvk run` and `tvk validate` through the real binary: --help and the
//! listings, one-line config errors with exit code 2 and no results file, the CSV columns and
//! HDF5 provenance of a run (and pandas/h5py reading it, when installed), and the issue 4
//! promise "a killed run resumes to identical data" with SIGKILL and SIGINT.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/bounds/bound_registry.h"
#include "core/hdf5/results_reader.h"
#include "core/models/model_registry.h"
#include "core/results/results_table.h"

namespace tvk {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = TVK_SOURCE_DIR;
const fs::path kTvk = TVK_BINARY;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

//! A child process writing its stdout and stderr to files.
struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

Child spawn(const fs::path& program, const std::vector<std::string>& args, const fs::path& logs) {
  Child child;
  static int counter = 0;
  const std::string stem = "proc" + std::to_string(counter++);
  child.out = logs / (stem + ".out");
  child.err = logs / (stem + ".err");
  std::vector<std::string> argv_text = {program.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  child.pid = ::fork();
  if (child.pid == 0) {
    const int out = ::open(child.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(child.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || null < 0) ::_exit(126);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("CI");
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return child;
}

//! Waits for the child; the exit code, or -signal when a signal ended it.
int wait_for(const Child& child) {
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0) {
  }
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

struct Result {
  int code = -1;
  std::string out, err;
};

class RunCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("tvk_runcli_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "logs");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  Result tvk(const std::vector<std::string>& args) {
    const Child child = spawn(kTvk, args, root_ / "logs");
    Result result;
    result.code = wait_for(child);
    result.out = slurp(child.out);
    result.err = slurp(child.err);
    return result;
  }

  fs::path write_config(const std::string& name, const std::string& text) {
    const fs::path path = root_ / name;
    std::ofstream(path) << text;
    return path;
  }

  fs::path root_;
};

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// ---------------------------------------------------------------------------------------------

TEST_F(RunCliTest, HelpAndListingsExitZero) {
  const Result run_help = tvk({"run", "--help"});
  EXPECT_EQ(run_help.code, 0) << run_help.err;
  for (const char* word :
       {"tvk run CONFIG", "--out", "--threads", "--progress", "--resume", "--quiet", "key=value"}) {
    EXPECT_NE(run_help.out.find(word), std::string::npos) << word << " not in:\n" << run_help.out;
  }
  const Result validate_help = tvk({"validate", "--help"});
  EXPECT_EQ(validate_help.code, 0) << validate_help.err;
  EXPECT_NE(validate_help.out.find("tvk validate CONFIG"), std::string::npos);

  const Result models = tvk({"models"});
  EXPECT_EQ(models.code, 0) << models.err;
  for (const std::string& model : tvk::model_names())
    EXPECT_NE(("\n" + models.out).find("\n" + model + "\n"), std::string::npos) << model;
  for (const char* word : {"sigma", "default"})
    EXPECT_NE(models.out.find(word), std::string::npos) << word;
  const Result bounds = tvk({"bounds"});
  EXPECT_EQ(bounds.code, 0) << bounds.err;
  for (const std::string& bound : tvk::bound_names())
    EXPECT_NE(bounds.out.find(bound + " "), std::string::npos) << bound;
}

TEST_F(RunCliTest, ValidatePrintsTheResolvedConfigAndGridSize) {
  const std::string quickstart = (kSource / "configs/quickstart.yaml").string();
  const Result plain = tvk({"validate", quickstart});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(plain.out.find("name: quickstart"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("grid points: 6"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("400 per point, 2400 in all"), std::string::npos) << plain.out;

  const Result overridden = tvk({"validate", quickstart, "rows=10", "n=[128]"});
  ASSERT_EQ(overridden.code, 0) << overridden.err;
  EXPECT_NE(overridden.out.find("rows: 10"), std::string::npos) << overridden.out;
  EXPECT_NE(overridden.out.find("grid points: 3"), std::string::npos) << overridden.out;
  // validate writes nothing (it has no --out; the working folder is untouched).
  EXPECT_FALSE(fs::exists(root_ / "quickstart.h5"));
}

//! A bad-input case: the config text (empty: use `file` as is), extra arguments, and what the
//! one stderr line must say after "tvk: error: " (`exact`) or contain (`parts`).
struct BadCase {
  std::string label, config, exact;
  std::vector<std::string> extra = {}, parts = {};
};

constexpr const char* kGoodConfig =
    "name: bad\nseed: 1\nrows: 10\nn: 64\neps: 0.05\nmodel:\n  type: gaussian\n  sigma: [1, 2]\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_F(RunCliTest, BadInputIsOneLineExitTwoAndWritesNothing) {
  const std::string good = kGoodConfig;
  std::vector<BadCase> cases = {
      {"sigma", replace(good, "[1, 2]", "[1, -2]"), "F:8:14: model.sigma[1]: must be > 0, got -2"},
      {"unknown_key", replace(good, "  sigma: [1, 2]", "  sigmaa: [1, 2]"),
       "F:8:3: model.sigmaa: unknown key (did you mean model.sigma?)"},
      {"duplicate_key", replace(good, "eps: 0.05\n", "eps: 0.05\nrows: 20\n"),
       "F:6:1: rows: duplicate key (first at line 3)"},
      {"eps", replace(good, "eps: 0.05", "eps: [0.05, 1.5]"),
       "F:5:13: eps[1]: must be in (0, 1), got 1.5"},
      {"n_zero", replace(good, "n: 64", "n: 0"), "F:4:4: n: must be >= 1, got 0"},
      {"model_type", replace(good, "gaussian", "gausian"),
       "F:7:9: model.type: unknown model type 'gausian' (did you mean gaussian?)"},
      {"missing_file", "", "", {}, {"no_such_config.yaml", "cannot open"}},
      {"override_missing_key",
       good,
       "<command line>: override 'rowz=3': no key rowz (did you mean rows?)",
       {"rowz=3"}},
      {"threads_abc", good, "", {"--threads", "abc"}, {"--threads", "abc"}},
      // Absurd thread counts once crashed in oneTBB's teardown.
      {"threads_huge", good, "", {"--threads", "99999999999"}, {"--threads", "more than 4096"}},
      {"unknown_option", good, "", {"--bogus"}, {"--bogus"}},
      // An unknown short option was once taken for a positional argument.
      {"unknown_short_option", good, "", {"-x"}, {"unknown option -x"}},
      {"progress_mode", good, "", {"--progress", "fancy"}, {"--progress", "fancy"}},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.label);
    const fs::path file = c.config.empty() ? root_ / "no_such_config.yaml"
                                           : write_config(c.label + ".yaml", c.config);
    const fs::path out = root_ / ("out_" + c.label);
    for (const char* verb : {"run", "validate"}) {
      const bool run_only =
          c.label == "threads_abc" || c.label == "threads_huge" || c.label == "progress_mode";
      if (std::string(verb) == "validate" && run_only) continue;
      std::vector<std::string> args = {verb, file.string()};
      if (std::string(verb) == "run")
        args.insert(args.end(), {"--out", out.string(), "--progress", "none"});
      args.insert(args.end(), c.extra.begin(), c.extra.end());  // last: a repeated option wins
      const Result r = tvk(args);
      EXPECT_EQ(r.code, 2) << verb << ": " << r.err;
      ASSERT_EQ(count_lines(r.err), 1u) << verb << ": stderr is not one line:\n" << r.err;
      EXPECT_EQ(r.err.rfind("tvk: error: ", 0), 0u) << r.err;
      const std::string message = r.err.substr(std::string("tvk: error: ").size());
      if (!c.exact.empty()) {
        EXPECT_EQ(message, replace(c.exact, "F:", file.string() + ":") + "\n") << verb;
      }
      for (const auto& part : c.parts)
        EXPECT_NE(message.find(part), std::string::npos) << part << " not in " << message;
      if (!c.config.empty() && c.label != "threads_abc" && c.label != "threads_huge" &&
          c.label != "unknown_option" && c.label != "unknown_short_option" &&
          c.label != "progress_mode" && c.label != "override_missing_key") {
        // A config error is located: file:line:col: key.path: message.
        EXPECT_TRUE(std::regex_search(
            message, std::regex("^" + file.string() + R"(:\d+:\d+: [A-Za-z_.\[\]0-9]+: .+)")))
            << message;
      }
    }
    // No results file (nor a temporary one, nor a checkpoint) was created.
    if (fs::exists(out)) {
      for (const auto& entry : fs::recursive_directory_iterator(out))
        ADD_FAILURE() << "left behind: " << entry.path();
    }
  }
}

//! The records of a tvk CSV (one per line; tvk never writes a newline inside a field).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    rows.push_back(parse_csv_record(line));
  return rows;
}

TEST_F(RunCliTest, AnUnusableOutFolderIsOneLineNamingThePathExitTwo) {
  // These were "internal error", exit 1, in the words of std::filesystem.
  const fs::path config = write_config("env.yaml", kGoodConfig);
  const fs::path file = root_ / "a_file";
  std::ofstream(file) << "not a folder";
  for (const fs::path& out : {file, file / "sub"}) {
    const Result r = tvk({"run", config.string(), "--out", out.string(), "--progress", "none"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err,
              "tvk: error: " + out.string() + ": cannot create directories: Not a directory\n");
  }
  const Result empty = tvk({"run", config.string(), "--out", "", "--progress", "none"});
  EXPECT_EQ(empty.code, 2) << empty.err;
  EXPECT_EQ(count_lines(empty.err), 1u) << empty.err;
}

TEST_F(RunCliTest, AResultsFileThatCannotBeWrittenLeavesNoneOfTheSet) {
  // The CSV cannot be written (a folder holds its name): the .h5, written first, used to stay.
  const fs::path config = write_config("set.yaml", kGoodConfig);
  const fs::path out = root_ / "set_out";
  const std::string name = "bad";  // kGoodConfig's name
  fs::create_directories(out / (name + ".csv"));
  std::ofstream(out / (name + ".csv") / "occupant") << "x";
  const Result r = tvk({"run", config.string(), "--out", out.string(), "--progress", "none"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(name + ".csv"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / (name + ".h5")));
  EXPECT_FALSE(fs::exists(out / (name + ".h5.tmp")));
}

TEST_F(RunCliTest, CsvColumnsAndHdf5Provenance) {
  const fs::path out = root_ / "out";
  const std::string config = (kSource / "configs/tests/cli_small.yaml").string();
  const Result r = tvk(
      {"run", config, "--out", out.string(), "--threads", "2", "--progress", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --progress none: nothing on stderr
  EXPECT_NE(r.out.find("cli_small.h5"), std::string::npos) << r.out;

  const auto csv = parse_csv(slurp(out / "cli_small.csv"));
  ASSERT_EQ(csv.size(), 1u + 2u * 2u);  // header + 2 models × 1 n × 2 eps
  const auto& header = csv[0];
  auto column = [&](const std::string& name) -> std::size_t {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? header.size() : static_cast<std::size_t>(it - header.begin());
  };
  std::vector<std::string> required = {
      "model", "sigma", "n", "eps", "rows", "k_over_n_mean", "k_over_n_sem", "rule_k_over_n"};
  for (const char* b : {"b1", "b2", "b3", "b4"}) {
    required.push_back(std::string(b) + "_k_over_n_mean");
    required.push_back(std::string(b) + "_held");
  }
  for (const auto& name : required)
    EXPECT_LT(column(name), header.size()) << "missing CSV column " << name;
  for (std::size_t i = 1; i < csv.size(); ++i) {
    const auto& row = csv[i];
    ASSERT_EQ(row.size(), header.size()) << "CSV line " << i;
    const std::string& model = row[column("model")];
    EXPECT_EQ(row[column("n")], "128");
    EXPECT_EQ(row[column("rows")], "60");
    if (model == "gaussian") {
      EXPECT_EQ(row[column("sigma")], "2");
      EXPECT_FALSE(row[column("rule_k_over_n")].empty());
      EXPECT_GT(std::stod(row[column("rule_k_over_n")]), 0.0);
    } else {
      EXPECT_EQ(model, "student_t");
      EXPECT_EQ(row[column("rule_k_over_n")], "") << "a heavy-tailed model printed a rule";
      EXPECT_EQ(row[column("sigma")], "");  // not a parameter of student_t
    }
    const double mean = std::stod(row[column("k_over_n_mean")]);
    EXPECT_GT(mean, 0.0);
    EXPECT_LE(mean, 1.0);
    for (const char* b : {"b1", "b2", "b3", "b4"})
      EXPECT_EQ(row[column(std::string(b) + "_held")], "1") << b;
  }

  // Provenance: root attributes of the results file.
  const fs::path h5 = out / "cli_small.h5";
  const Provenance p = read_provenance(h5);
  auto text = [&](const std::string& name) -> std::string {
    const AttributeValue* v = p.find(name);
    if (v == nullptr || !std::holds_alternative<std::string>(*v)) return "<missing " + name + ">";
    return std::get<std::string>(*v);
  };
  auto integer = [&](const std::string& name) -> std::int64_t {
    const AttributeValue* v = p.find(name);
    if (v == nullptr || !std::holds_alternative<std::int64_t>(*v)) return -999;
    return std::get<std::int64_t>(*v);
  };
  EXPECT_EQ(text("filetype"), "tvk-results");
  ASSERT_NE(p.find("format_version"), nullptr);
  ASSERT_TRUE(std::holds_alternative<std::vector<std::int64_t>>(*p.find("format_version")));
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(*p.find("format_version")).size(), 2u);
  EXPECT_FALSE(text("tvk_version").empty());
  EXPECT_EQ(text("tvk_version").find("<missing"), std::string::npos);
  EXPECT_EQ(text("git_commit").find("<missing"), std::string::npos);
  EXPECT_FALSE(text("git_commit").empty());
  ASSERT_NE(p.find("git_dirty"), nullptr);
  EXPECT_TRUE(integer("git_dirty") == 0 || integer("git_dirty") == 1);
  EXPECT_NE(text("config").find("name: cli_small"), std::string::npos) << text("config");
  EXPECT_NE(text("command_line").find("tvk run"), std::string::npos) << text("command_line");
  EXPECT_NE(text("command_line").find("--threads 2"), std::string::npos) << text("command_line");
  EXPECT_EQ(integer("seed"), 42);
  EXPECT_EQ(integer("threads"), 2);
  EXPECT_TRUE(
      std::regex_match(text("created_utc"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << text("created_utc");
  std::size_t libraries = 0;
  for (const auto& [name, value] : p.attributes) {
    if (name.rfind("library_", 0) == 0) {
      ++libraries;
      ASSERT_TRUE(std::holds_alternative<std::string>(value)) << name;
      EXPECT_FALSE(std::get<std::string>(value).empty()) << name;
    }
  }
  EXPECT_GE(libraries, 3u);
  // The HDF5 points table is the CSV's table.
  EXPECT_EQ(read_table(h5, "points").rows(), 4u);
  // No checkpoint or temporary file is left.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(out))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cli_small.csv", "cli_small.h5"}));
}

TEST_F(RunCliTest, PandasAndH5pyOpenThePointsTable) {
  const fs::path python = "/usr/bin/python3";
  if (!fs::exists(python)) GTEST_SKIP() << "no /usr/bin/python3";
  const Result check = [&] {
    const Child child = spawn(python, {"-c", "import h5py, pandas"}, root_ / "logs");
    Result result;
    result.code = wait_for(child);
    return result;
  }();
  if (check.code != 0) GTEST_SKIP() << "/usr/bin/python3 lacks h5py or pandas";

  const fs::path out = root_ / "out";
  const Result r = tvk({"run", (kSource / "configs/tests/cli_small.yaml").string(), "--out",
                        out.string(), "--threads", "1", "--progress", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script =
      "import sys, h5py, pandas as pd\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "df = pd.DataFrame(f['points'][()])\n"
      "assert len(df) == 4, len(df)\n"
      "for c in ['model', 'sigma', 'n', 'eps', 'rows', 'k_over_n_mean', 'rule_k_over_n',\n"
      "          'b1_held', 'b4_k_over_n_mean']:\n"
      "    assert c in df.columns, c\n"
      "assert set(m.decode() for m in df['model']) == {'gaussian', 'student_t'}\n"
      "assert (df['b1_held'] == 1).all()\n"
      "assert list(f.attrs['format_version']) and f.attrs['filetype'] == 'tvk-results'\n"
      "df2 = pd.read_csv(sys.argv[2])\n"
      "assert list(df2.columns) == [c for c in df.columns], (list(df2.columns), list(df.columns))\n"
      "print('ok', len(df.columns))\n";
  const fs::path script_path = root_ / "check.py";
  std::ofstream(script_path) << script;
  const Child child = spawn(
      python,
      {script_path.string(), (out / "cli_small.h5").string(), (out / "cli_small.csv").string()},
      root_ / "logs");
  const int code = wait_for(child);
  EXPECT_EQ(code, 0) << slurp(child.err);
  EXPECT_EQ(slurp(child.out).rfind("ok ", 0), 0u) << slurp(child.out) << slurp(child.err);
}

// ---------------------------------------------------------------------------------------------
// Killed runs resume to identical data (issue 4).

class RunCliResumeTest : public RunCliTest {
 protected:
  static void SetUpTestSuite() {
    // One uninterrupted run (two threads) is the reference for every kill test.
    reference_dir_ = fs::temp_directory_path() / ("tvk_runcli_ref_" + std::to_string(::getpid()));
    fs::remove_all(reference_dir_);
    fs::create_directories(reference_dir_);
    const Child child = spawn(kTvk,
                              {"run", config().string(), "--out", reference_dir_.string(),
                               "--threads", "2", "--progress", "none", "--quiet"},
                              reference_dir_);
    reference_code_ = wait_for(child);
    reference_error_ = slurp(child.err);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(reference_dir_, ignored);
  }
  static fs::path config() { return kSource / "configs/tests/resume.yaml"; }

  void SetUp() override {
    RunCliTest::SetUp();
    ASSERT_EQ(reference_code_, 0) << reference_error_;
  }

  static std::size_t point_files(const fs::path& checkpoint) {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(checkpoint, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("point_", 0) == 0 && entry.path().extension() == ".bin") ++count;
    }
    return count;
  }

  //! Starts a one-thread run into `out` and sends `signal_number` once at least one point is
  //! checkpointed and before the results file exists. Returns the number of points saved.
  std::size_t interrupt_run(const fs::path& out, int signal_number) {
    const fs::path checkpoint = out / "resume.checkpoint";
    const Child child = spawn(kTvk,
                              {"run", config().string(), "--out", out.string(), "--threads", "1",
                               "--progress", "none", "--quiet"},
                              root_ / "logs");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool sent = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (point_files(checkpoint) >= 1 && !fs::exists(out / "resume.h5")) {
        ::kill(child.pid, signal_number);
        sent = true;
        break;
      }
      int status = 0;
      if (::waitpid(child.pid, &status, WNOHANG) == child.pid) {
        ADD_FAILURE() << "the run ended before it could be interrupted; raise rows in " << config()
                      << "\n"
                      << slurp(child.err);
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!sent) ::kill(child.pid, SIGKILL);
    EXPECT_TRUE(sent) << "no checkpoint appeared within 60 s";
    EXPECT_EQ(wait_for(child), -signal_number) << slurp(child.err);
    // Nothing half-written: no results file, no temporary results file.
    for (const char* name : {"resume.h5", "resume.csv", "resume.h5.tmp", "resume.csv.tmp"})
      EXPECT_FALSE(fs::exists(out / name)) << name << " exists after the kill";
    const std::size_t saved = point_files(checkpoint);
    EXPECT_GE(saved, 1u);
    EXPECT_LT(saved, 12u) << "all points done: the kill came too late to test resume";
    return saved;
  }

  //! The resumed run's data equal the uninterrupted run's.
  void expect_same_as_reference(const fs::path& out) {
    const Table resumed = read_table(out / "resume.h5", "points");
    const Table reference = read_table(reference_dir_ / "resume.h5", "points");
    EXPECT_EQ(resumed.rows(), 12u * 2u);
    EXPECT_EQ(to_canonical_text(resumed), to_canonical_text(reference));
    EXPECT_EQ(slurp(out / "resume.csv"), slurp(reference_dir_ / "resume.csv"));
    EXPECT_FALSE(fs::exists(out / "resume.checkpoint")) << "checkpoint left after completion";
  }

  static inline fs::path reference_dir_;
  static inline int reference_code_ = -1;
  static inline std::string reference_error_;
};

TEST_F(RunCliResumeTest, KilledRunResumesToIdenticalData) {
  const fs::path out = root_ / "out";
  const std::size_t saved = interrupt_run(out, SIGKILL);
  ASSERT_GE(saved, 1u);

  // Resuming with another config is refused, one line, exit 2, and the checkpoint survives.
  const Result other = tvk({"run", config().string(), "rows=5999", "--out", out.string(),
                            "--threads", "2", "--progress", "none", "--resume", "--quiet"});
  EXPECT_EQ(other.code, 2) << other.err;
  EXPECT_EQ(count_lines(other.err), 1u) << other.err;
  EXPECT_NE(other.err.find("checkpoint"), std::string::npos) << other.err;
  EXPECT_FALSE(fs::exists(out / "resume.h5"));
  EXPECT_EQ(point_files(out / "resume.checkpoint"), saved);

  // The real resume (another thread count, too) finishes with the uninterrupted run's data.
  const Result resumed = tvk({"run", config().string(), "--out", out.string(), "--threads", "2",
                              "--progress", "none", "--resume", "--quiet"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming: " + std::to_string(saved) + " of 12 points"),
            std::string::npos)
      << resumed.err;
  expect_same_as_reference(out);
}

TEST_F(RunCliResumeTest, CtrlCResumesToIdenticalDataEvenWithADamagedPointFile) {
  const fs::path out = root_ / "out";
  const std::size_t saved = interrupt_run(out, SIGINT);
  ASSERT_GE(saved, 1u);
  // A damaged point file is recomputed: one bit flipped inside a data word (same size, so only
  // the checksum can tell), and, where there are two, one truncated.
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(out / "resume.checkpoint")) {
    if (entry.path().extension() == ".bin") files.push_back(entry.path());
  }
  ASSERT_EQ(files.size(), saved);
  std::sort(files.begin(), files.end());
  {
    std::fstream flip(files[0], std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(fs::file_size(files[0]) / 2);
    flip.seekg(middle);
    char byte = 0;
    flip.get(byte);
    flip.seekp(middle);
    flip.put(static_cast<char>(byte ^ 0x04));
  }
  if (saved > 1) fs::resize_file(files[1], fs::file_size(files[1]) / 2);
  const std::size_t damaged = saved > 1 ? 2 : 1;

  const Result resumed = tvk({"run", config().string(), "--out", out.string(), "--threads", "1",
                              "--progress", "none", "--resume", "--quiet"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  if (saved > damaged) {
    EXPECT_NE(resumed.err.find("resuming: " + std::to_string(saved - damaged) + " of 12 points"),
              std::string::npos)
        << resumed.err;
  }
  EXPECT_NE(resumed.err.find(files[0].filename().string() +
                             ": damaged checkpoint, or one of another point or run (checksum "
                             "mismatch); recomputing point"),
            std::string::npos)
      << resumed.err;
  expect_same_as_reference(out);
}

TEST_F(RunCliResumeTest, RunWithoutResumeDiscardsAnOldCheckpoint) {
  const fs::path out = root_ / "out";
  ASSERT_GE(interrupt_run(out, SIGKILL), 1u);
  const Result fresh = tvk({"run", config().string(), "--out", out.string(), "--threads", "2",
                            "--progress", "none", "--quiet"});
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_EQ(fresh.err.find("resuming"), std::string::npos) << fresh.err;
  expect_same_as_reference(out);
}

// The certified kind checkpoints each work item: killed mid-run, --resume (at another thread
// count) finishes with every table but `speed` equal to an uninterrupted run's.
TEST_F(RunCliTest, CertifiedRunKilledMidwayResumesToIdenticalTables) {
  const std::vector<std::string> base = {"run",
                                         (kSource / "configs/certified_synthetic.yaml").string(),
                                         "source[0].rows=32",
                                         "source[1].rows=32",
                                         "source[2].rows=32",
                                         "--progress",
                                         "none",
                                         "--quiet"};
  auto with = [&base](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const fs::path reference = root_ / "reference";
  const Result whole = tvk(with({"--out", reference.string(), "--threads", "2"}));
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_FALSE(fs::exists(reference / "certified_synthetic.checkpoint"));

  const fs::path out = root_ / "out";
  const fs::path checkpoint = out / "certified_synthetic.checkpoint";
  auto items_saved = [&checkpoint] {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(checkpoint, error))
      count += entry.path().extension() == ".bin" ? 1 : 0;
    return count;
  };
  const Child child = spawn(kTvk, with({"--out", out.string(), "--threads", "1"}), root_ / "logs");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool killed = false;
  while (!killed && std::chrono::steady_clock::now() < deadline) {
    if (items_saved() >= 2) {
      ::kill(child.pid, SIGKILL);
      killed = true;
    }
    int status = 0;
    if (!killed && ::waitpid(child.pid, &status, WNOHANG) == child.pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(killed) << "the run ended or saved nothing before it could be killed\n"
                      << slurp(child.err);
  EXPECT_EQ(wait_for(child), -SIGKILL);
  EXPECT_FALSE(fs::exists(out / "certified_synthetic.h5"));
  const std::size_t saved = items_saved();

  const Result resumed = tvk(with({"--out", out.string(), "--threads", "2", "--resume"}));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming: " + std::to_string(saved) + " of "), std::string::npos)
      << resumed.err;
  EXPECT_EQ(to_canonical_text(read_table(out / "certified_synthetic.h5", "points")),
            to_canonical_text(read_table(reference / "certified_synthetic.h5", "points")));
  EXPECT_EQ(slurp(out / "certified_synthetic.csv"), slurp(reference / "certified_synthetic.csv"));
  EXPECT_FALSE(fs::exists(checkpoint)) << "checkpoint left after completion";
}

}  // namespace
}  // namespace tvk
