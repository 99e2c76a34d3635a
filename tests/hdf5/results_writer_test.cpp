#include "core/hdf5/results_writer.h"
#include "core/results/csv_writer.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hdf5/hdf5_handle.h"
#include "core/hdf5/results_reader.h"
#include "tests/support/temp_dir.h"

namespace tvk {
namespace {

class ResultsWriterTest : public ::testing::Test {
 protected:
  test::TempDir temp_ = test::TempDir::for_current_test("tvk_io_");
  const std::filesystem::path dir_ = temp_.path();
};

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A table with every column kind and the awkward values: NaN, infinities, -0, denormals,
// integer extremes, empty, long, quoted and non-ASCII strings.
Table every_kind_table() {
  Table table;
  table.columns.push_back(
      {"sigma", std::vector<double>{0.1, kNan, -0.0, 1e-300, kInf, -kInf, 5e-324}, "scale"});
  table.columns.push_back(
      {"n",
       std::vector<std::int64_t>{0, -1, std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max(), 7, 8, 9},
       "keys per row"});
  table.columns.push_back({"certified", std::vector<std::uint8_t>{1, 0, 1, 1, 0, 0, 1}, ""});
  table.columns.push_back(
      {"model",
       std::vector<std::string>{"gaussian", "", "a,b \"quoted\"", std::string(300, 'z'),
                                "sigma=\xcf\x83", "x", "trailing  "},
       "score model"});
  return table;
}

void expect_same_table(const Table& actual, const Table& expected) {
  // Canonical text is exact (shortest round-trip doubles, -0 kept), so equal text means
  // equal values; the docs are compared on the side.
  EXPECT_EQ(to_canonical_text(actual), to_canonical_text(expected));
  ASSERT_EQ(actual.columns.size(), expected.columns.size());
  for (std::size_t i = 0; i < actual.columns.size(); ++i) {
    EXPECT_EQ(actual.columns[i].doc, expected.columns[i].doc) << actual.columns[i].name;
  }
}

Provenance sample_provenance() {
  Provenance provenance;
  provenance.set("filetype", std::string("tvk-results"));
  provenance.set("format_version", std::vector<std::int64_t>{1, 0});
  provenance.set("seed", std::int64_t{42});
  provenance.set("eps", 0.01);
  provenance.set("empty", std::string());
  provenance.set("config", std::string(100000, 'c') + "\nlast line: \xcf\x83");
  provenance.set("no_dims", std::vector<std::int64_t>{});
  return provenance;
}

TEST_F(ResultsWriterTest, TableRoundTripsEveryKind) {
  const std::filesystem::path path = dir_ / "every.h5";
  const Table table = every_kind_table();
  write_results_h5(path, {}, {{"points", table, "one row per grid point"}});
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
  expect_same_table(read_table(path, "points"), table);
}

TEST_F(ResultsWriterTest, ZeroRowsRoundTrip) {
  const std::filesystem::path path = dir_ / "empty.h5";
  const Table table = empty_like(every_kind_table());
  NamedArray empty_axis{"tau/profile", {}, {0, 3}, "no rows yet"};
  write_results_h5(path, {}, {{"points", table, ""}}, {empty_axis});
  const Table back = read_table(path, "points");
  EXPECT_EQ(back.rows(), 0u);
  expect_same_table(back, table);
  const NamedArray array = read_array(path, "tau/profile");
  EXPECT_EQ(array.shape, (std::vector<hsize_t>{0, 3}));
  EXPECT_TRUE(array.data.empty());
  EXPECT_EQ(array.doc, "no rows yet");
}

// Reads the chunk shape and filters of a dataset straight from the file.
struct Layout {
  std::vector<hsize_t> chunk;
  std::vector<H5Z_filter_t> filters;
  std::size_t element_size = 0;
};

Layout read_layout(const std::filesystem::path& path, const std::string& name) {
  Hdf5Handle file = open_hdf5_file_read_only(path);
  Hdf5Handle dataset = open_hdf5_dataset(file, path, name);
  Hdf5Handle dcpl(H5Dget_create_plist(dataset.get()), Hdf5Kind::kPropertyList);
  Hdf5Handle type(H5Dget_type(dataset.get()), Hdf5Kind::kDatatype);
  Layout layout;
  layout.element_size = H5Tget_size(type.get());
  EXPECT_EQ(H5Pget_layout(dcpl.get()), H5D_CHUNKED);
  layout.chunk.resize(32);
  const int rank = H5Pget_chunk(dcpl.get(), 32, layout.chunk.data());
  layout.chunk.resize(rank > 0 ? static_cast<std::size_t>(rank) : 0);
  const int filters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    std::size_t count = 0;
    unsigned config = 0;
    layout.filters.push_back(H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &count,
                                            nullptr, 0, nullptr, &config));
  }
  return layout;
}

TEST_F(ResultsWriterTest, LargeTableIsChunkedAndCompressed) {
  const std::size_t rows = 100000;
  Table table;
  std::vector<double> x(rows);
  std::vector<std::int64_t> k(rows);
  std::vector<std::uint8_t> flag(rows);
  std::vector<std::string> label(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    x[i] = i % 97 == 0 ? kNan : std::sqrt(static_cast<double>(i)) / 3.0;
    k[i] = static_cast<std::int64_t>(i * i) - 12345;
    flag[i] = static_cast<std::uint8_t>(i % 3 == 0);
    label[i] = "row" + std::to_string(i % 1000);
  }
  table.columns = {{"x", x, ""}, {"k", k, ""}, {"flag", flag, ""}, {"label", label, ""}};
  NamedArray profile{"tau", std::vector<double>(rows * 3, 0.5), {rows, 3}, ""};
  const std::filesystem::path path = dir_ / "large.h5";
  write_results_h5(path, {}, {{"points", table, ""}}, {profile});
  expect_same_table(read_table(path, "points"), table);

  for (const std::string name : {"points", "tau"}) {
    const Layout layout = read_layout(path, name);
    std::size_t chunk_bytes = layout.element_size;
    for (hsize_t extent : layout.chunk) {
      EXPECT_GE(extent, 1u);
      chunk_bytes *= extent;
    }
    EXPECT_LE(chunk_bytes, std::size_t{1} << 20) << name;
    EXPECT_GT(chunk_bytes, std::size_t{1} << 19) << name;  // not needlessly small
    EXPECT_EQ(layout.filters, (std::vector<H5Z_filter_t>{H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE}))
        << name;
  }
  const NamedArray back = read_array(path, "tau");
  EXPECT_EQ(back.shape, (std::vector<hsize_t>{rows, 3}));
  EXPECT_EQ(back.data, profile.data);
  // Compression works: the file is far smaller than the raw 100000 * (8+8+1+6) + 2.4 MB.
  EXPECT_LT(std::filesystem::file_size(path), std::size_t{2} << 20);
}

TEST_F(ResultsWriterTest, AttributesRoundTripInOrder) {
  const std::filesystem::path path = dir_ / "attributes.h5";
  const Provenance provenance = sample_provenance();
  write_results_h5(path, provenance, {});
  const Provenance back = read_provenance(path);
  ASSERT_EQ(back.attributes.size(), provenance.attributes.size());
  for (std::size_t i = 0; i < back.attributes.size(); ++i) {
    EXPECT_EQ(back.attributes[i].first, provenance.attributes[i].first);
    EXPECT_EQ(back.attributes[i].second, provenance.attributes[i].second)
        << back.attributes[i].first;
  }
  ASSERT_NE(back.find("format_version"), nullptr);
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(*back.find("format_version")),
            (std::vector<std::int64_t>{1, 0}));
}

TEST_F(ResultsWriterTest, NoHdf5ObjectStaysOpen) {
  const std::filesystem::path path = dir_ / "leak.h5";
  write_results_h5(path, sample_provenance(), {{"points", every_kind_table(), ""}},
                   {{"coords/sigma", {1.0}, {1}, "doc"}});
  EXPECT_THROW(write_results_h5(dir_ / "clash.h5", sample_provenance(),
                                {{"points", every_kind_table(), ""}, {"points", Table{}, ""}}),
               std::invalid_argument);
  EXPECT_THROW(write_results_h5(dir_ / "clash.h5", {}, {{"points", every_kind_table(), ""}},
                                {{"points", {1.0}, {1}, ""}}),
               Hdf5Error);
  {
    ResultsReader reader(path);
    (void)reader.provenance();
    (void)reader.table("points");
    (void)reader.array("coords/sigma");
    (void)reader.dataset_names();
    EXPECT_FALSE(reader.has_dataset("missing"));
    EXPECT_THROW((void)reader.table("coords/sigma"), InputError);
  }
  // Every file, group, dataset, named type and attribute opened above has been closed.
  EXPECT_EQ(H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_ALL), 0);
}

TEST_F(ResultsWriterTest, ProvenanceSetReplaces) {
  Provenance provenance;
  provenance.set("seed", std::int64_t{1});
  provenance.set("threads", std::int64_t{4});
  provenance.set("seed", std::int64_t{2});
  ASSERT_EQ(provenance.attributes.size(), 2u);
  EXPECT_EQ(provenance.attributes[0].first, "seed");
  EXPECT_EQ(std::get<std::int64_t>(*provenance.find("seed")), 2);
  EXPECT_EQ(provenance.find("missing"), nullptr);
}

TEST_F(ResultsWriterTest, ArraysGoIntoGroups) {
  const std::filesystem::path path = dir_ / "arrays.h5";
  const NamedArray sigma{"coords/sigma", {0.5, 1.0, 2.0}, {3}, "score scale"};
  const NamedArray eps{"coords/eps", {0.1, 0.01}, {}, ""};  // empty shape: 1-D
  const NamedArray grid{"tau_profile", {1, 2, 3, 4, 5, 6}, {3, 2}, ""};
  write_results_h5(path, {}, {{"points", every_kind_table(), ""}}, {sigma, eps, grid});
  ResultsReader reader(path);
  EXPECT_EQ(reader.dataset_names(),
            (std::vector<std::string>{"coords/eps", "coords/sigma", "points", "tau_profile"}));
  const NamedArray back = reader.array("coords/sigma");
  EXPECT_EQ(back.data, sigma.data);
  EXPECT_EQ(back.shape, sigma.shape);
  EXPECT_EQ(back.doc, "score scale");
  EXPECT_EQ(reader.array("coords/eps").shape, (std::vector<hsize_t>{2}));
  EXPECT_EQ(reader.array("tau_profile").shape, (std::vector<hsize_t>{3, 2}));
  EXPECT_EQ(reader.array("tau_profile").data, grid.data);
}

TEST_F(ResultsWriterTest, OverwritesAnExistingFileAndStaleTmp) {
  const std::filesystem::path path = dir_ / "again.h5";
  std::ofstream(temporary_path(path)) << "left over from a crash";
  write_results_h5(path, sample_provenance(), {{"points", every_kind_table(), ""}});
  Table second;
  second.columns.push_back({"only", std::vector<double>{3.0}, ""});
  write_results_h5(path, {}, {{"points", second, ""}});
  expect_same_table(read_table(path, "points"), second);
  EXPECT_TRUE(read_provenance(path).attributes.empty());
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
}

TEST_F(ResultsWriterTest, BadArgumentsLeaveNoFile) {
  const std::filesystem::path path = dir_ / "bad.h5";
  Table ragged = every_kind_table();
  std::get<std::vector<double>>(ragged.columns[0].values).pop_back();
  try {
    write_results_h5(path, sample_provenance(), {{"points", ragged, ""}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("table 'points'"), std::string::npos) << error.what();
  }
  Table nul = every_kind_table();
  std::get<std::vector<std::string>>(nul.columns[3].values)[1] = std::string("a\0b", 3);
  EXPECT_THROW(write_results_h5(path, {}, {{"points", nul, ""}}), std::invalid_argument);
  EXPECT_THROW(write_results_h5(path, {}, {{"points", Table{}, ""}}), std::invalid_argument);
  EXPECT_THROW(write_results_h5(path, {}, {}, {{"a", {1, 2, 3}, {2, 2}, ""}}),
               std::invalid_argument);
  Provenance twice;
  twice.attributes.emplace_back("seed", std::int64_t{1});
  twice.attributes.emplace_back("seed", std::int64_t{2});
  EXPECT_THROW(write_results_h5(path, twice, {}), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
}

TEST_F(ResultsWriterTest, FailureMidWriteRemovesTmpAndKeepsOldFile) {
  const std::filesystem::path path = dir_ / "mid.h5";
  // Two datasets with one name: the second create fails inside HDF5, after the .tmp exists.
  const std::vector<NamedTable> clash = {{"points", every_kind_table(), ""},
                                         {"points", every_kind_table(), ""}};
  try {
    write_results_h5(path, sample_provenance(), clash);
    FAIL() << "expected Hdf5Error";
  } catch (const Hdf5Error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": dataset 'points': cannot", 0), 0u)
        << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));

  // A good file already there survives a failed rewrite untouched.
  Table good;
  good.columns.push_back({"v", std::vector<double>{1.5, 2.5}, ""});
  write_results_h5(path, {}, {{"points", good, ""}});
  EXPECT_THROW(write_results_h5(path, {}, clash), Hdf5Error);
  expect_same_table(read_table(path, "points"), good);
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
}

TEST_F(ResultsWriterTest, UnwritableDirectoryNamesTheFile) {
  const std::filesystem::path path = dir_ / "no_such_dir" / "out.h5";
  try {
    write_results_h5(path, {}, {{"points", every_kind_table(), ""}});
    FAIL() << "expected filesystem_error";
  } catch (const std::filesystem::filesystem_error& error) {
    // The file is built in memory and written by tvk: the error is the system's, on the path.
    EXPECT_EQ(error.path1(), path);
    EXPECT_EQ(error.code(), std::errc::no_such_file_or_directory) << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(ResultsWriterTest, CsvTextIsExact) {
  Table table;
  table.columns.push_back(
      {"x", std::vector<double>{0.1, kNan, 1e-300, -0.0, 0.30000000000000004, kInf}, ""});
  table.columns.push_back({"n", std::vector<std::int64_t>{1, -2, 3, 4, 5, 6}, ""});
  table.columns.push_back({"ok", std::vector<std::uint8_t>{1, 0, 1, 0, 0, 1}, ""});
  table.columns.push_back(
      {"label, quoted",
       std::vector<std::string>{"plain", "", "a,b", "say \"hi\"", "two\nlines", "sp ace"}, ""});
  EXPECT_EQ(to_csv_text(table),
            "x,n,ok,\"label, quoted\"\n"
            "0.1,1,1,plain\n"
            ",-2,0,\n"
            "1e-300,3,1,\"a,b\"\n"
            "-0,4,0,\"say \"\"hi\"\"\"\n"
            "0.30000000000000004,5,0,\"two\nlines\"\n"
            "inf,6,1,sp ace\n");
  const std::filesystem::path path = dir_ / "points.csv";
  write_csv(path, table);
  EXPECT_EQ(read_file(path), to_csv_text(table));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));
}

TEST_F(ResultsWriterTest, CsvFailuresLeaveNoFile) {
  Table ragged = every_kind_table();
  std::get<std::vector<std::uint8_t>>(ragged.columns[2].values).push_back(1);
  const std::filesystem::path path = dir_ / "ragged.csv";
  EXPECT_THROW(write_csv(path, ragged), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(path)));

  const std::filesystem::path nowhere = dir_ / "missing_dir" / "x.csv";
  try {
    write_csv(nowhere, every_kind_table());
    FAIL() << "expected filesystem_error";
  } catch (const std::filesystem::filesystem_error& error) {
    EXPECT_EQ(error.path1(), nowhere);
    EXPECT_NE(std::string(error.what()).find("cannot write CSV"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(temporary_path(nowhere)));
}

struct CommandResult {
  int status = -1;  //!< as returned by pclose; 0 on success
  std::string output;
};

// Runs a shell command and returns its exit status and stdout.
CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.output.append(buffer, read);
  }
  result.status = ::pclose(pipe);
  return result;
}

constexpr const char* kPython = "/usr/bin/python3";

bool python_has_h5py_and_pandas() {
  if (!std::filesystem::exists(kPython)) return false;
  return run_command(std::string(kPython) + " -c 'import h5py, pandas' 2>/dev/null").status == 0;
}

TEST_F(ResultsWriterTest, PandasReadsThePointsTable) {
  if (!python_has_h5py_and_pandas()) GTEST_SKIP() << kPython << " lacks h5py or pandas";
  const std::filesystem::path path = dir_ / "pandas.h5";
  write_results_h5(path, sample_provenance(), {{"points", every_kind_table(), ""}},
                   {{"coords/sigma", {0.5, 1.0}, {2}, "scale"}});

  // The one-liner a user would type (README.md, "A sweep").
  const std::string one_liner =
      std::string(kPython) + " -c \"import h5py, pandas as pd; f=h5py.File('" + path.string() +
      "'); df=pd.DataFrame(f['points'][()]); print(len(df), list(df.columns))\" 2>&1";
  const CommandResult listed = run_command(one_liner);
  ASSERT_EQ(listed.status, 0) << one_liner << "\n" << listed.output;
  EXPECT_EQ(listed.output, "7 ['sigma', 'n', 'certified', 'model']\n");

  // Types as h5py sees them: attributes as str / int / float / int array, fields as
  // float64 / int64 / uint8 / fixed bytes, compression on.
  const std::string script = R"PY(
import sys, h5py, numpy as np, pandas as pd
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert isinstance(a["filetype"], str), type(a["filetype"])
assert a["filetype"] == "tvk-results"
assert isinstance(a["config"], str) and a["config"].endswith("\u03c3")
assert a["empty"] == ""
assert list(a["format_version"]) == [1, 0] and a["format_version"].dtype == np.int64
assert int(a["seed"]) == 42 and float(a["eps"]) == 0.01
p = f["points"]
assert p.compression == "gzip" and p.compression_opts == 4 and p.shuffle, p.compression
d = p.dtype
assert d["sigma"] == np.float64 and d["n"] == np.int64 and d["certified"] == np.uint8, d
assert d["model"].kind == "S" and d["model"].itemsize == 300, d["model"]
df = pd.DataFrame(p[()])
assert np.isnan(df["sigma"][1]) and df["sigma"][0] == 0.1
assert df["model"][0] == b"gaussian" and df["model"][1] == b""
assert df["model"][4].decode("utf-8") == "sigma=\u03c3"
assert df["model"][6] == b"trailing  "
assert p.attrs["doc:sigma"] == "scale"
assert list(f["coords/sigma"][()]) == [0.5, 1.0]
try:
    import tables  # pd.read_hdf needs PyTables; check it only where installed
except ImportError:
    tables = None
if tables is not None:
    via_pandas = pd.read_hdf(sys.argv[1], "points")
    assert len(via_pandas) == 7 and list(via_pandas.columns) == list(df.columns), via_pandas
print("ok")
)PY";
  const std::filesystem::path script_path = dir_ / "check.py";
  std::ofstream(script_path) << script;
  const CommandResult checked = run_command(std::string(kPython) + " " + script_path.string() +
                                            " " + path.string() + " 2>&1");
  ASSERT_EQ(checked.status, 0) << checked.output;
  EXPECT_EQ(checked.output, "ok\n");
}

}  // namespace
}  // namespace tvk
