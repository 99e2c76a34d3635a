#pragma once
//! \file The schema of experiment kind "certified" (THEORY §2 B5, §6): certified searches
//! (MC-Search, B5, Δk-Search) that score only some keys of a row, run on query/key/value rows
//! from a logit store (real attention) or from the synthetic q/K/V families of
//! core/certified/qkv_models.h, against the exact k_eps and the full-row bounds B1–B4. Every key is
//! documented in configs/README.md ("Keys of a certified-search run").

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/certified/certified_search.h"
#include "core/certified/qkv_models.h"
#include "core/config/analysis_settings.h"
#include "core/config/config_document.h"

namespace tvk {

//! One search of a certified run (`searches:` element).
struct CertifiedSearchSpec {
  std::string name;  //!< column value `search`; distinct within the run
  std::string type;  //!< its `type:`, a registered search type (core/certified/search_registry.h)
  //! As its type read it from its keys (core/certified/certified_search.h).
  std::shared_ptr<const CertifiedSearch> search;
};

class ConfigReader;

//! Reads one `searches:` element: its type, name and the keys of its type (a key of another
//! type is an error naming the types that take it). The caller calls reader.finish() after.
CertifiedSearchSpec read_search(ConfigReader& reader);

//! The searches a run gets when `searches` is absent: mc_clusters, mc_blocks, b5, delta_k.
std::vector<CertifiedSearchSpec> default_certified_searches();

//! A logit-store source: every query token of every selected (layer, head, sequence).
struct CertifiedStoreSource {
  std::string store;                    //!< path of the store (as written)
  std::vector<std::int64_t> layers;     //!< empty = all
  std::vector<std::int64_t> heads;      //!< empty = all
  std::vector<std::int64_t> sequences;  //!< empty = all
  std::int64_t min_length = 1;          //!< shorter sequences are skipped
  //! Every query_stride-th stored query row, counted back from the last (as kind logit_store).
  std::int64_t query_stride = 1;
  std::int64_t min_n = 1;  //!< query rows with fewer keys are skipped (causal rows: i + 1 keys)
};

//! One synthetic family with its grid axes (a scalar in the config is a one-value axis).
//! Axes the family does not use hold one NaN / 0 placeholder and are rejected in the config.
struct CertifiedQkvSource {
  QkvFamily family = QkvFamily::kGaussian;  //!< parsed from its name (qkv_families())
  std::vector<std::int64_t> n = {1024};     //!< keys per row
  std::vector<std::int64_t> d = {64};       //!< key dimension
  std::vector<std::int64_t> clusters;       //!< clustered only (default [16])
  std::vector<double> strength = {12.0};    //!< scale · ‖q‖
  std::vector<double> spread;               //!< clustered / positional (default [0.25])
  std::vector<double> correlation_length;   //!< positional only (default [64])
  std::int64_t dv = 64;                     //!< value dimension
  double query_noise = 0.1;                 //!< clustered / positional
  double value_noise = 0.5;
  bool float32 = false;                  //!< round q, K, V to float
  std::int64_t rows = 0;                 //!< query rows per grid point (required)
  std::int64_t queries_per_key_set = 8;  //!< queries drawn against one key set and its cells
  std::uint64_t seed = 0;                //!< master seed (required)
};

//! A validated certified-search config.
struct CertifiedConfig {
  std::string kind = "certified";
  std::string name;         //!< output file stem
  std::string source_type;  //!< "logit_store" | "qkv"
  CertifiedStoreSource store;
  std::vector<CertifiedQkvSource> qkv;  //!< `source` as a map (one) or a list of maps
  //! eps, the full-row bounds compared and their settings, chunk_rows (query rows per work
  //! item; never changes the data); no k_grid (certified runs have no tau profile).
  AnalysisSettings analysis = {{}, {"b1", "b2", "b3", "b4"}, 16, "geometric", 8, {}, 64};
  std::vector<CertifiedSearchSpec> searches;
  double summary_cost = 1.0;  //!< cost of one summary read, in scored keys
  bool output_error = true;  //!< exact ‖Attn − Attn_K‖₂, the output certificate and O2–O5
  bool store_rows = true;    //!< keep the per-row `rows` table
  std::string source;        //!< the config file path as given
  std::string resolved_text;  //!< resolved YAML after overrides
  std::string command_line_overrides;
};

//! Validates a loaded (and overridden) document against the certified-search schema. Throws
//! InputError "<file>:<line>:<col>: <key.path>: <message>".
CertifiedConfig read_certified_config(const ConfigDocument& document);

//! Each quantized search's `group` (channels per scale) must divide the key dimension `d`: a
//! larger group or one that leaves a remainder is refused, not silently changed. InputError at
//! searches[i].group in `document`; `what` says where d comes from ("source[0].d", a store).
void check_search_groups(const CertifiedConfig& config, const ConfigDocument& document,
                         std::size_t d, const std::string& what);

//! One qkv grid point: a source's family with one value of each of its axes.
struct CertifiedQkvPoint {
  std::size_t source = 0;  //!< index into CertifiedConfig::qkv
  QkvParameters parameters;
  //! The axis values as reported (NaN for the axes the family does not use; clusters 0).
  std::int64_t clusters = 0;
  double spread = 0.0, correlation_length = 0.0;
};

//! The qkv grid points in order: sources, then n, d, clusters, strength, spread,
//! correlation_length (row-major, last axis fastest; unused axes have one placeholder value).
//! Empty for a store source.
std::vector<CertifiedQkvPoint> certified_qkv_points(const CertifiedConfig& config);

//! Human summary for `tvk validate`: the resolved YAML, then the source and work as comments.
std::string describe(const CertifiedConfig& config);

}  // namespace tvk
