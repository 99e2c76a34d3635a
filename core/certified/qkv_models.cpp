#include "core/certified/qkv_models.h"

#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <stdexcept>

#include "core/numerics/elementary.h"
#include "core/numerics/vector_norms.h"
#include "core/random/normal_block.h"

namespace tvk {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("qkv model: " + message);
}

// An n × d matrix of N(0, sigma²) entries, drawn row by row.
Eigen::MatrixXd normal_matrix(std::size_t rows, std::size_t cols, double sigma, RandomStream& rng) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      m(r, c) = sigma * standard_normal(rng);
  }
  return m;
}

Eigen::VectorXd normal_vector(std::size_t d, double sigma, RandomStream& rng) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(d));
  for (Eigen::Index c = 0; c < v.size(); ++c)
    v[c] = sigma * standard_normal(rng);
  return v;
}

// v / ‖v‖, or the first axis when v = 0 (a degenerate draw).
Eigen::VectorXd unit(const Eigen::VectorXd& v) {
  const double norm = euclidean_norm(v);
  if (norm > 0.0 && std::isfinite(norm)) return v / norm;
  Eigen::VectorXd axis = Eigen::VectorXd::Zero(v.size());
  axis[0] = 1.0;
  return axis;
}

}  // namespace

std::span<const QkvFamilyInfo> qkv_families() {
  static const QkvFamilyInfo families[] = {
      {QkvFamily::kGaussian, "gaussian", false, false, false},
      {QkvFamily::kClustered, "clustered", true, true, false},
      {QkvFamily::kPositional, "positional", false, true, true},
  };
  return families;
}

std::vector<std::string> qkv_family_names() {
  std::vector<std::string> names;
  for (const QkvFamilyInfo& info : qkv_families())
    names.push_back(info.name);
  return names;
}

const QkvFamilyInfo& qkv_family_info(QkvFamily family) {
  for (const QkvFamilyInfo& info : qkv_families()) {
    if (info.family == family) return info;
  }
  throw std::logic_error("qkv family without a table entry");
}

std::string qkv_family_name(QkvFamily family) {
  return qkv_family_info(family).name;
}

QkvFamily parse_qkv_family(std::string_view name) {
  for (const QkvFamilyInfo& info : qkv_families()) {
    if (info.name == name) return info.family;
  }
  std::string known;
  for (const std::string& family : qkv_family_names())
    known += (known.empty() ? "" : ", ") + family;
  throw std::invalid_argument("unknown qkv family '" + std::string(name) + "' (expected " + known +
                              ")");
}

void validate(const QkvParameters& p) {
  require(p.n >= 1, "n must be >= 1");
  require(p.d >= 1, "d must be >= 1");
  require(p.dv >= 1, "dv must be >= 1");
  require(p.clusters >= 1, "clusters must be >= 1");
  require(std::isfinite(p.scale) && p.scale >= 0.0, "scale must be >= 0 (0: 1/sqrt(d))");
  require(std::isfinite(p.strength) && p.strength >= 0.0, "strength must be finite and >= 0");
  require(std::isfinite(p.spread) && p.spread >= 0.0, "spread must be finite and >= 0");
  require(std::isfinite(p.correlation_length) && p.correlation_length > 0.0,
          "correlation_length must be finite and > 0");
  require(std::isfinite(p.query_noise) && p.query_noise >= 0.0,
          "query_noise must be finite and >= 0");
  require(std::isfinite(p.value_noise) && p.value_noise >= 0.0,
          "value_noise must be finite and >= 0");
}

double qkv_scale(const QkvParameters& p) {
  return p.scale > 0.0 ? p.scale : 1.0 / std::sqrt(static_cast<double>(p.d));
}

void round_to_float(Eigen::MatrixXd& matrix) {
  matrix = matrix.cast<float>().cast<double>();
}

void round_to_float(Eigen::VectorXd& vector) {
  vector = vector.cast<float>().cast<double>();
}

QkvKeySet sample_key_set(const QkvParameters& p, RandomStream& rng) {
  validate(p);
  const double per_channel = 1.0 / std::sqrt(static_cast<double>(p.d));  // unit-norm vectors
  QkvKeySet set;
  switch (p.family) {
    case QkvFamily::kGaussian:
      set.keys = normal_matrix(p.n, p.d, 1.0, rng);
      break;
    case QkvFamily::kClustered: {
      set.latent = normal_matrix(p.clusters, p.d, 1.0, rng);
      for (Eigen::Index c = 0; c < set.latent.rows(); ++c)
        set.latent.row(c) = unit(set.latent.row(c).transpose()).transpose();
      boost::random::uniform_int_distribution<std::uint32_t> pick(
          0, static_cast<std::uint32_t>(p.clusters - 1));
      set.labels.resize(p.n);
      for (auto& label : set.labels)
        label = pick(rng);
      set.keys = normal_matrix(p.n, p.d, p.spread * per_channel, rng);
      for (std::size_t i = 0; i < p.n; ++i)
        set.keys.row(static_cast<Eigen::Index>(i)) += set.latent.row(set.labels[i]);
      break;
    }
    case QkvFamily::kPositional: {
      // Stationary AR(1) per channel with unit-norm marginals: x_i = ρ x_{i−1} + sqrt(1−ρ²) ξ_i.
      const double rho = elementary::exp(-1.0 / p.correlation_length);
      const double innovation = std::sqrt(1.0 - rho * rho);
      const Eigen::MatrixXd xi = normal_matrix(p.n, p.d, per_channel, rng);
      set.latent.resize(static_cast<Eigen::Index>(p.n), static_cast<Eigen::Index>(p.d));
      set.latent.row(0) = xi.row(0);
      for (Eigen::Index i = 1; i < set.latent.rows(); ++i)
        set.latent.row(i) = rho * set.latent.row(i - 1) + innovation * xi.row(i);
      set.keys = set.latent + normal_matrix(p.n, p.d, p.spread * per_channel, rng);
      break;
    }
  }
  // Values are a linear image of the keys plus noise, as V and K are projections of the same
  // hidden states: values inherit the key structure (clusters, positional drift).
  // Plain loops in a fixed order rather than a GEMM, whose blocking may vary between builds.
  const Eigen::MatrixXd map = normal_matrix(p.d, p.dv, per_channel, rng);
  set.values = normal_matrix(p.n, p.dv, p.value_noise, rng);
  for (Eigen::Index i = 0; i < set.values.rows(); ++i) {
    for (Eigen::Index c = 0; c < set.values.cols(); ++c) {
      double sum = 0.0;
      for (Eigen::Index e = 0; e < set.keys.cols(); ++e)
        sum += set.keys(i, e) * map(e, c);
      set.values(i, c) += sum;
    }
  }
  if (p.float32) {
    round_to_float(set.keys);
    round_to_float(set.values);
  }
  return set;
}

Eigen::VectorXd sample_query(const QkvParameters& p, const QkvKeySet& set, RandomStream& rng,
                             std::size_t* target) {
  validate(p);
  if (static_cast<std::size_t>(set.keys.cols()) != p.d) {
    throw std::invalid_argument("qkv model: the key set does not match d");
  }
  const double norm = p.strength / qkv_scale(p);  // scale · ‖q‖ = strength
  const double per_channel = 1.0 / std::sqrt(static_cast<double>(p.d));
  std::size_t aim = 0;
  Eigen::VectorXd direction;
  switch (p.family) {
    case QkvFamily::kGaussian:
      direction = normal_vector(p.d, 1.0, rng);
      break;
    case QkvFamily::kClustered:
    case QkvFamily::kPositional: {
      const auto rows = static_cast<std::size_t>(set.latent.rows());
      if (rows == 0) throw std::invalid_argument("qkv model: the key set has no latent structure");
      aim = boost::random::uniform_int_distribution<std::size_t>(0, rows - 1)(rng);
      direction = set.latent.row(static_cast<Eigen::Index>(aim)).transpose() +
                  normal_vector(p.d, p.query_noise * per_channel, rng);
      break;
    }
  }
  Eigen::VectorXd query = norm * unit(direction);
  if (p.float32) round_to_float(query);
  if (target != nullptr) *target = aim;
  return query;
}

QkvRow sample_row(const QkvParameters& p, RandomStream& key_rng, RandomStream& query_rng) {
  QkvKeySet set = sample_key_set(p, key_rng);
  QkvRow row;
  row.query = sample_query(p, set, query_rng, &row.target);
  row.keys = std::move(set.keys);
  row.values = std::move(set.values);
  row.scale = qkv_scale(p);
  return row;
}

}  // namespace tvk
