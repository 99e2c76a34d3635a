//! \file sinks: a Gaussian bulk N(mu, sigma^2) plus m "attention sink" keys at logit
//! mu + offset in the first m positions of the row (sinks are the first tokens). Not i.i.d.,
//! so there is no quantile per logit. The asymptotic rule is the bulk's: with m fixed and
//! n -> infinity the sinks' share m e^{offset} / (m e^{offset} + n e^{sigma^2/2}) of the
//! exponential mass vanishes, so tau_inf and rho_eps are the Gaussian closed forms.

#include <algorithm>
#include <cstddef>

#include "core/models/model_base.h"
#include "core/models/model_registry.h"
#include "core/models/numerics.h"
#include "core/random/normal_block.h"

namespace tvk {
namespace {

const ModelInfo& sinks_info() {
  static const ModelInfo info = [] {
    ParamSpec count = real_param("m", 1.0, "number of sink keys (the first m positions)");
    count.min = 0.0;
    count.max = 1e9;  // keeps the cast to a count well defined
    count.integer = true;
    count.counts_keys = true;
    return ModelInfo{"sinks",
                     "N(mu, sigma^2) bulk plus m sink keys at mu + offset first in the row; the "
                     "rule (m fixed, n -> inf) is the bulk's",
                     {location_param("mu", 0.0, "mean of the bulk logits"),
                      positive_param("sigma", 1.0, "standard deviation of the bulk logits"), count,
                      location_param("offset", 5.0, "sink logit minus mu")}};
  }();
  return info;
}

class SinksModel final : public ScoreModelBase {
 public:
  explicit SinksModel(const ParamValues& values)
      : ScoreModelBase(sinks_info(), values),
        mu_(param("mu")),
        sigma_(param("sigma")),
        sink_count_(static_cast<std::size_t>(param("m"))),
        offset_(param("offset")),
        sink_logit_(mu_ + offset_) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    const std::size_t sinks = std::min(sink_count_, out.size());
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(sinks), sink_logit_);
    // The bulk is exactly the Gaussian model's row of n − m keys (same generator, same draws).
    const auto bulk = out.subspan(sinks);
    fill_standard_normals(stream, bulk);
    for (double& s : bulk)
      s = mu_ + sigma_ * s;
  }

  bool iid() const override { return false; }

  std::optional<FixedKeysAndBulk> fixed_keys_and_bulk(std::size_t n) const override {
    return FixedKeysAndBulk{std::min(sink_count_, n), sink_logit_,
                            numerics::normal_ccdf(offset_ / sigma_),
                            make_model("gaussian", {{"mu", mu_}, {"sigma", sigma_}})};
  }

 protected:
  double tail_mass_interior(double rho) const override {
    return numerics::gaussian_tail_mass_limit(sigma_, rho);
  }
  double k_fraction_interior(double eps) const override {
    return numerics::gaussian_k_fraction(sigma_, eps);
  }
  std::optional<double> quantile_interior(double) const override { return std::nullopt; }

 private:
  double mu_;
  double sigma_;
  std::size_t sink_count_;
  double offset_;
  double sink_logit_;
};

std::unique_ptr<ScoreModel> make_sinks(const ParamValues& values) {
  return std::make_unique<SinksModel>(values);
}

}  // namespace

ModelEntry sinks_model_entry() {
  return {&sinks_info, &make_sinks};
}

}  // namespace tvk
