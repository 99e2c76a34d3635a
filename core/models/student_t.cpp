//! \file student_t: i.i.d. location-scale Student-t logits. Polynomial tails make E[e^s]
//! infinite for every nu, so there is never a finite-rho asymptotic rule (THEORY §4).

#include <boost/math/distributions/students_t.hpp>
#include <boost/random/student_t_distribution.hpp>

#include "core/models/model_base.h"
#include "core/models/numerics.h"

namespace tvk {
namespace {

const ModelInfo& student_t_info() {
  static const ModelInfo info{
      "student_t",
      "i.i.d. logits mu + scale * t_nu; E[e^s] is infinite, so there is no asymptotic rule",
      {positive_param("nu", 3.0, "degrees of freedom"),
       positive_param("scale", 1.0, "scale of the logits"),
       real_param("mu", 0.0, "location (median) of the logits")}};
  return info;
}

class StudentTModel final : public ScoreModelBase {
 public:
  explicit StudentTModel(const ParamValues& values)
      : ScoreModelBase(student_t_info(), values),
        nu_(param("nu")),
        scale_(param("scale")),
        mu_(param("mu")),
        law_(nu_) {}

  void sample(RandomStream& stream, std::span<double> out) const override {
    boost::random::student_t_distribution<double> student(nu_);
    for (double& s : out)
      s = mu_ + scale_ * student(stream);
  }

  std::optional<double> density(double s) const override {
    return boost::math::pdf(law_, (s - mu_) / scale_) / scale_;
  }

 protected:
  std::string infinite_exp_mean_detail() const override { return "student_t has polynomial tails"; }
  double tail_mass_interior(double) const override { return 0.0; }  // never called
  std::optional<double> quantile_interior(double p) const override {
    return mu_ + scale_ * boost::math::quantile(law_, p);
  }

 private:
  double nu_;
  double scale_;
  double mu_;
  boost::math::students_t_distribution<double, numerics::MathPolicy> law_;
};

std::unique_ptr<ScoreModel> make_student_t(const ParamValues& values) {
  return std::make_unique<StudentTModel>(values);
}

}  // namespace

ModelEntry student_t_model_entry() {
  return {&student_t_info, &make_student_t};
}

}  // namespace tvk
