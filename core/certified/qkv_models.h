#pragma once
//! \file Synthetic query/key/value rows for certified selection (THEORY §6): Gaussian keys,
//! clustered keys with the query aligned to one cluster, and keys that drift smoothly with
//! position with the query matching one region. Every generator is a pure function of its
//! parameters and a RandomStream (Boost.Random distributions only), so a row is reproducible
//! from (seed, point, row, purpose). A key set (keys and values) is drawn once and serves any
//! number of queries, as the cells of certified_cells.h are built once per key set.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "core/numerics/eigen.h"

#include "core/random/stream.h"

namespace tvk {

//! The synthetic families.
enum class QkvFamily {
  kGaussian,    //!< k_i ~ N(0, I_d); q a random direction; logits ~ N(0, strength²)
  kClustered,   //!< c unit-norm centres, k_i = centre + spread · N(0, I_d/d); q along one centre
  kPositional,  //!< k_i an AR(1) path in i (correlation length L) + noise; q matches one position
};

//! A family by name, with the axes of QkvParameters it uses besides n, d, dv, strength and
//! value_noise (a config rejects the others).
struct QkvFamilyInfo {
  QkvFamily family;
  std::string name;                 //!< the config's `family:` value
  bool clusters = false;            //!< uses `clusters`
  bool spread = false;              //!< uses `spread` and `query_noise`
  bool correlation_length = false;  //!< uses `correlation_length`
};

//! Every family, in listing order: gaussian, clustered, positional.
std::span<const QkvFamilyInfo> qkv_families();
//! Their names, in listing order.
std::vector<std::string> qkv_family_names();
//! The entry of a family.
const QkvFamilyInfo& qkv_family_info(QkvFamily family);
//! "gaussian", "clustered" or "positional".
std::string qkv_family_name(QkvFamily family);
//! Inverse of qkv_family_name(); throws std::invalid_argument for an unknown name.
QkvFamily parse_qkv_family(std::string_view name);

//! Parameters of a family (the ones a family does not use are ignored).
struct QkvParameters {
  QkvFamily family = QkvFamily::kClustered;
  std::size_t n = 1024;  //!< keys
  std::size_t d = 64;    //!< key (and query) dimension
  std::size_t dv = 64;   //!< value dimension
  double scale = 0.0;    //!< logit scale; 0 means 1/sqrt(d)
  //! scale · ‖q‖: the logit of a unit key along the query. Gaussian: the standard deviation of
  //! the logits. Clustered / positional: about the logit of the aligned centre / matched path
  //! point (unit norm up to the query noise).
  double strength = 12.0;
  std::size_t clusters = 16;  //!< clustered: number of centres
  double spread = 0.25;       //!< clustered / positional: key noise radius (per key,
                              //!< ‖noise‖ ≈ spread; centres and path points have norm ≈ 1)
  double correlation_length = 64.0;  //!< positional: L, the path's AR(1) coefficient e^{-1/L}
  double query_noise = 0.1;          //!< relative noise added to the query direction
  double value_noise = 0.5;          //!< values v_i = G^T k_i + value_noise · N(0, I_dv)
  bool float32 = false;              //!< round q, K and V to float (stored-data rounding)
};

//! Throws std::invalid_argument naming the first invalid parameter (n, d, dv, clusters >= 1;
//! strength, spread, noises >= 0 and finite; correlation_length > 0; scale >= 0).
void validate(const QkvParameters& parameters);

//! The logit scale a row uses: parameters.scale, or 1/sqrt(d) when it is 0.
double qkv_scale(const QkvParameters& parameters);

//! A key set: keys, values and the latent structure queries are drawn against.
struct QkvKeySet {
  Eigen::MatrixXd keys;    //!< n × d
  Eigen::MatrixXd values;  //!< n × dv
  //! Clustered: the centres (clusters × d). Positional: the noise-free path (n × d). Gaussian:
  //! empty.
  Eigen::MatrixXd latent;
  std::vector<std::uint32_t> labels;  //!< clustered: the centre of each key; otherwise empty
};

//! One attention row: logits s_i = scale · q·k_i (see key_logit()).
struct QkvRow {
  Eigen::VectorXd query;   //!< d
  Eigen::MatrixXd keys;    //!< n × d
  Eigen::MatrixXd values;  //!< n × dv
  double scale = 1.0;
  //! Clustered: the centre the query is aligned to; positional: the matched position;
  //! Gaussian: 0.
  std::size_t target = 0;
};

//! Draws a key set (keys, then values) from `rng`.
QkvKeySet sample_key_set(const QkvParameters& parameters, RandomStream& rng);

//! Draws a query for `key_set` from `rng`; `target` receives the aligned centre / matched
//! position (0 for Gaussian keys) when not null.
Eigen::VectorXd sample_query(const QkvParameters& parameters, const QkvKeySet& key_set,
                             RandomStream& rng, std::size_t* target = nullptr);

//! A whole row: the key set from `key_rng`, the query from `query_rng`.
QkvRow sample_row(const QkvParameters& parameters, RandomStream& key_rng, RandomStream& query_rng);

//! Rounds every entry to the nearest float (as stored float32 data would be).
void round_to_float(Eigen::MatrixXd& matrix);
//! Same for a vector.
void round_to_float(Eigen::VectorXd& vector);

}  // namespace tvk
