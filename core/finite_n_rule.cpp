#include "core/finite_n_rule.h"

#include <algorithm>
#include <array>
#include <boost/math/quadrature/gauss.hpp>
#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "core/models/model_registry.h"
#include "core/models/numerics.h"
#include "core/tail_profile.h"

// The method (docs/finite_n.md has the derivation and the error table). By exchangeability,
//   E[k_eps]/n = P(key 1 is kept) = int_0^1 P(q) dq,
// where P(q) is the probability that a key whose logit y has survival probability q is among
// the top k_eps. The key of rank r is kept iff tau_{r-1} > eps, i.e. iff
//   W := eps * C - (1 - eps) * A < (1 - eps) e^y,
// with C (A) the sum of e^s over the other keys above (below) y. W is a sum of n - 1 i.i.d.
// terms w(s) = eps e^s 1{s > y} - (1 - eps) e^s 1{s < y}, whose Laplace transform
// E[e^{-lambda W}] = phi(lambda)^{n-1} is finite for Re lambda >= 0 even when E[e^s] is
// infinite (the heavy part enters with a minus sign). P(W < x) follows from the Bromwich
// integral along Re lambda = gamma, discretised by the trapezoidal rule (aliasing controlled by
// a Chernoff bound). phi is a one-dimensional integral over the law of one logit, done with
// Gauss-Legendre panels in probability coordinates (only quantile() and density() are needed).

namespace tvk {
namespace {

using Complex = std::complex<double>;

constexpr std::size_t kRule = 8;   // Gauss-Legendre nodes per panel
constexpr double kQFloor = 1e-13;  // smallest tail probability evaluated through quantile(1 - q)
constexpr double kMaxSpan = 4.0;   // max |lambda| c (r_max - r_min) on one panel
constexpr int kMaxDepth = 40;      // panel subdivision limit
constexpr double kCut = 32.0;      // |lambda eps r| where the upper tail becomes asymptotic
constexpr double kDamped = 40.0;   // gamma eps r beyond which e^{-lambda eps r} is negligible
constexpr std::size_t kMaxTerms = 20000;  // Bromwich terms per inversion
constexpr double kQMin = 1e-12;           // outer integral: q in [kQMin, 1 - kQMin]

//! Gauss-Legendre on [0, 1].
struct UnitRule {
  std::array<double, kRule> x{}, w{};
};

const UnitRule& unit_rule() {
  static const UnitRule rule = [] {
    using Gauss = boost::math::quadrature::gauss<double, kRule>;
    const auto& abscissa = Gauss::abscissa();  // the kRule/2 positive nodes on [-1, 1]
    const auto& weights = Gauss::weights();
    constexpr std::size_t half = kRule / 2;
    UnitRule r;
    for (std::size_t i = 0; i < half; ++i) {
      r.x[half - 1 - i] = 0.5 * (1.0 - abscissa[i]);
      r.w[half - 1 - i] = 0.5 * weights[i];
      r.x[half + i] = 0.5 * (1.0 + abscissa[i]);
      r.w[half + i] = 0.5 * weights[i];
    }
    return r;
  }();
  return rule;
}

//! How a panel's coordinate p maps to the probability u = F(s) of its logit.
enum class Coordinate {
  kBelowGap,   //!< u = u_top - p (just below the key's logit)
  kBelowMass,  //!< u = p (far below)
  kAbove,      //!< u = 1 - p (above: p is a tail probability)
};

struct Panel {
  Coordinate coordinate = Coordinate::kAbove;
  double lo = 0.0, hi = 0.0;      // coordinate range
  double s_lo = 0.0, s_hi = 0.0;  // logits at p = lo and p = hi
  double r_lo = 0.0, r_hi = 0.0;  // e^{s - y} there
  int depth = 0;
  int child = -1;  // index of the first child ([lo, mid]); the second ([mid, hi]) follows it
  bool has_nodes = false;
  std::array<double, kRule> r{}, w{};  // nodes: e^{s - y} and probability mass
};

//! Cost counters shared by all inversions of one prediction.
struct Stats {
  std::size_t evaluations = 0;
  std::size_t terms = 0;
  std::size_t truncated = 0;
};

double logit(double q) {
  return std::log(q) - std::log1p(-q);
}
double survival_of(double t) {
  return t < 0.0 ? std::exp(t) / (1.0 + std::exp(t)) : 1.0 / (1.0 + std::exp(-t));
}

//! The law of one logit as the predictor uses it. The quantile function is called tens of
//! thousands of times per prediction, and some models' quantiles are slow (Student-t inverts an
//! incomplete beta function, the mixture finds a root), so it is tabulated once in t = logit(u)
//! on knots t_k = -60 + k/32 (t = 0, where a Laplace quantile has a kink, is a knot) and read
//! by cubic Hermite interpolation with the exact slope ds/dt = u (1 - u) / f(s). Outside the
//! table, or next to a knot where the density vanishes, the model is called directly.
class LogitLaw {
 public:
  explicit LogitLaw(const ScoreModel& model) : model_(model) {
    const std::size_t knots = static_cast<std::size_t>((kHigh - kLow) / kStep) + 1;
    s_.resize(knots);
    slope_.resize(knots);
    for (std::size_t k = 0; k < knots; ++k) {
      const double t = kLow + static_cast<double>(k) * kStep;
      const double u = survival_of(t), complement = survival_of(-t);
      const double s = *model_.quantile(u);
      const double f = density(s);
      s_[k] = s;
      slope_[k] = f > 0.0 ? u * complement / f : std::numeric_limits<double>::quiet_NaN();
    }
    const double spread = quantile(0.75, 0.25) - quantile(0.25, 0.75);
    scale_ = std::isfinite(spread) && spread > 0.0 ? spread : 1.0;
  }

  //! F^{-1}(u), with complement = 1 - u given to full relative accuracy.
  double quantile(double u, double complement) const {
    const double t = std::log(u) - std::log(complement);
    const double position = (t - kLow) / kStep;
    if (position >= 0.0 && position < static_cast<double>(s_.size() - 1)) {
      const std::size_t k = static_cast<std::size_t>(position);
      const double x = position - static_cast<double>(k);
      const double s0 = s_[k], s1 = s_[k + 1], d0 = slope_[k] * kStep, d1 = slope_[k + 1] * kStep;
      if (std::isfinite(s0) && std::isfinite(s1) && std::isfinite(d0) && std::isfinite(d1)) {
        const double x2 = x * x, x3 = x2 * x;
        return (2.0 * x3 - 3.0 * x2 + 1.0) * s0 + (x3 - 2.0 * x2 + x) * d0 +
               (-2.0 * x3 + 3.0 * x2) * s1 + (x3 - x2) * d1;
      }
    }
    return *model_.quantile(u);
  }
  //! P(logit > s) by inverting the table (bisection on the interpolant); 1 below the table and
  //! 0 above it (tail probabilities below 1e-11 there).
  double survival(double s) const {
    if (!(s > s_.front())) return 1.0;
    if (!(s < s_.back())) return 0.0;
    const std::size_t k =
        static_cast<std::size_t>(std::upper_bound(s_.begin(), s_.end(), s) - s_.begin() - 1);
    double lo = kLow + static_cast<double>(k) * kStep, hi = lo + kStep;
    for (int i = 0; i < 60 && hi - lo > 1e-15 * std::max(1.0, std::fabs(lo)); ++i) {
      const double mid = 0.5 * (lo + hi);
      if (quantile(survival_of(mid), survival_of(-mid)) <= s) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return survival_of(-0.5 * (lo + hi));
  }
  //! Density f(s) (0 where the model has none).
  double density(double s) const { return model_.density(s).value_or(0.0); }
  //! Interquartile range: the step of the numerical derivatives of the density is 1e-3 of it.
  double scale() const { return scale_; }

 private:
  static constexpr double kLow = -60.0, kHigh = 26.0, kStep = 1.0 / 32.0;
  const ScoreModel& model_;
  std::vector<double> s_, slope_;
  double scale_ = 1.0;
};

//! The law of one other key's term w(s) relative to a key at logit y, as Gauss-Legendre panels
//! refined on demand, and phi(lambda) - 1 from them.
class TermLaw {
 public:
  //! `negligible`: panels whose whole contribution to phi is below it are skipped.
  TermLaw(const LogitLaw& law, double eps, double y, double q, double negligible)
      : law_(law), eps_(eps), y_(y), negligible_(negligible) {
    q_top_ = std::max(q, kQFloor);
    u_top_ = 1.0 - q_top_;
    const double q_top = q_top_;
    // Below y: geometric panels in the gap u_top - u, then geometric panels down to u = 0.
    const double v1 = std::min(q_top, u_top_) / 64.0;
    double a = 0.0;
    for (double b = v1; a < 0.5 * u_top_; b *= 2.0) {
      const double end = std::min(b, 0.5 * u_top_);
      lower_.push_back(add_panel(Coordinate::kBelowGap, a, end, 0));
      a = end;
    }
    double b = 0.5 * u_top_;
    for (int i = 0; i < 12; ++i, b *= 0.25) {
      lower_.push_back(add_panel(Coordinate::kBelowMass, 0.25 * b, b, 0));
    }
    lower_.push_back(add_panel(Coordinate::kBelowMass, 0.0, b, 0));
    // Above y: geometric panels in the tail probability, from q down to kQFloor.
    for (double top = q; top > kQFloor; top *= 0.5) {
      upper_.push_back(add_panel(Coordinate::kAbove, std::max(0.5 * top, kQFloor), top, 0));
    }
    for (int index : lower_)
      lower_leaves_.push_back(Leaf{index});
    for (int index : upper_)
      upper_leaves_.push_back(Leaf{index});
  }

  double u_top() const { return u_top_; }
  double q_top() const { return q_top_; }

  //! First two moments of e^{s - y} 1{s < y} (unrefined panels).
  std::pair<double, double> lower_moments() {
    double m1 = 0.0, m2 = 0.0;
    for (int index : lower_) {
      ensure_nodes(index);
      const Panel& p = panels_[static_cast<std::size_t>(index)];
      for (std::size_t i = 0; i < kRule; ++i) {
        m1 += p.w[i] * p.r[i];
        m2 += p.w[i] * p.r[i] * p.r[i];
      }
    }
    return {m1, m2};
  }

  //! First two moments of min(eps r, x) 1{s > y} (unrefined panels; the mass above the last
  //! panel counts as x).
  std::pair<double, double> upper_capped_moments(double x) {
    double g1 = kQFloor * x, g2 = kQFloor * x * x;
    for (int index : upper_) {
      ensure_nodes(index);
      const Panel& p = panels_[static_cast<std::size_t>(index)];
      for (std::size_t i = 0; i < kRule; ++i) {
        const double g = std::min(eps_ * p.r[i], x);
        g1 += p.w[i] * g;
        g2 += p.w[i] * g * g;
      }
    }
    return {g1, g2};
  }

  //! a(lambda) = E[(e^{lambda (1-eps) r} - 1) 1{s < y}] and
  //! c(lambda) = E[e^{-lambda eps r} 1{s > y}] (so phi - 1 = a + c - q).
  std::pair<Complex, Complex> parts(Complex lambda) {
    const double size = std::abs(lambda);
    Complex a = 0.0, c = 0.0;
    for (int index : lower_)
      a += lower_sum(index, lambda, size);
    for (int index : upper_) {
      if (upper_sum(index, lambda, size, c)) break;
    }
    return {a, c};
  }

  //! parts() at lambda = gamma + i j step, for j = 0, 1, 2, ... in order: each node keeps
  //! e^{lambda c r} and multiplies it by e^{i step c r} from one j to the next, so a term costs
  //! one complex product per node instead of an exp and a sincos. Panels are refined as |lambda|
  //! grows; a node whose state is not for this j (new, or skipped) is evaluated directly.
  std::pair<Complex, Complex> parts_on_line(std::size_t j, double gamma, double step) {
    const Complex lambda(gamma, static_cast<double>(j) * step);
    const double size = std::abs(lambda);
    Complex a = 0.0, c = 0.0;
    const double c_lower = 1.0 - eps_;
    for (std::size_t i = 0; i < lower_leaves_.size(); ++i) {
      const Panel& p = panels_[static_cast<std::size_t>(lower_leaves_[i].panel)];
      const double r_max = std::max(p.r_lo, p.r_hi);
      const double bound =
          (p.hi - p.lo) * size * c_lower * r_max * std::exp(gamma * c_lower * r_max);
      if (bound < negligible_) continue;
      if (size * c_lower * std::fabs(p.r_lo - p.r_hi) > kMaxSpan && p.depth < kMaxDepth) {
        replace_by_children(lower_leaves_, i, /*upper=*/false);
        --i;
        continue;
      }
      a += advance(lower_leaves_[i], j, gamma, step, c_lower);
    }
    for (std::size_t i = 0; i < upper_leaves_.size(); ++i) {
      const Panel& p = panels_[static_cast<std::size_t>(upper_leaves_[i].panel)];
      if (!(gamma * eps_ * p.r_hi <= kDamped)) break;
      if (size * eps_ * p.r_hi >= kCut && add_asymptotic_tail(p.s_hi, lambda, c)) break;
      if (!(size * eps_ * (p.r_lo - p.r_hi) <= kMaxSpan) && p.depth < kMaxDepth) {
        replace_by_children(upper_leaves_, i, /*upper=*/true);
        --i;
        continue;
      }
      c += advance(upper_leaves_[i], j, gamma, step, -eps_);  // sets the nodes' weights
      c += upper_mass(upper_leaves_[i]);
    }
    return {a, c};
  }

 private:
  //! A leaf panel of the refinement used along the Bromwich line, with per-node state.
  struct Leaf {
    int panel = 0;
    std::size_t term = std::numeric_limits<std::size_t>::max();  // j the state belongs to
    std::array<Complex, kRule> state{}, rotation{};
  };

  void replace_by_children(std::vector<Leaf>& leaves, std::size_t i, bool upper) {
    const int child = split(leaves[i].panel);
    // Traversal order: below y any; above y from small r (p = hi) to large r (p = lo).
    Leaf first, second;
    first.panel = upper ? child + 1 : child;
    second.panel = upper ? child : child + 1;
    leaves[i] = first;
    leaves.insert(leaves.begin() + static_cast<std::ptrdiff_t>(i) + 1, second);
  }

  // Sum over the leaf's nodes of w (e^{lambda c r} - 1) for c > 0 (below y) or
  // w e^{lambda c r} - w for c < 0 (above y; upper_mass() adds the w back), advancing the state.
  Complex advance(Leaf& leaf, std::size_t j, double gamma, double step, double c) {
    ensure_nodes(leaf.panel);
    const Panel& p = panels_[static_cast<std::size_t>(leaf.panel)];
    if (leaf.term != j) {
      const double omega = static_cast<double>(j) * step;
      for (std::size_t k = 0; k < kRule; ++k) {
        const double x = gamma * c * p.r[k];
        if (!(x > -700.0)) {
          leaf.state[k] = 0.0;
          leaf.rotation[k] = 0.0;
          continue;
        }
        leaf.state[k] =
            std::exp(x) * Complex(std::cos(omega * c * p.r[k]), std::sin(omega * c * p.r[k]));
        leaf.rotation[k] = Complex(std::cos(step * c * p.r[k]), std::sin(step * c * p.r[k]));
      }
    }
    double re = 0.0, im = 0.0;
    for (std::size_t k = 0; k < kRule; ++k) {
      const Complex z = leaf.state[k];
      re += p.w[k] * (z.real() - 1.0);
      im += p.w[k] * z.imag();
      const Complex m = leaf.rotation[k];
      leaf.state[k] = Complex(z.real() * m.real() - z.imag() * m.imag(),
                              z.real() * m.imag() + z.imag() * m.real());
    }
    leaf.term = j + 1;
    return {re, im};
  }

  double upper_mass(const Leaf& leaf) const {
    double mass = 0.0;
    for (double w : panels_[static_cast<std::size_t>(leaf.panel)].w)
      mass += w;
    return mass;
  }

  double logit_at(Coordinate coordinate, double p) const {
    switch (coordinate) {
      case Coordinate::kBelowGap:
        return law_.quantile(u_top_ - p, q_top_ + p);
      case Coordinate::kBelowMass:
        return law_.quantile(p, 1.0 - p);
      case Coordinate::kAbove:
        break;
    }
    return law_.quantile(1.0 - p, p);
  }

  int add_panel(Coordinate coordinate, double lo, double hi, int depth) {
    Panel p;
    p.coordinate = coordinate;
    p.lo = lo;
    p.hi = hi;
    p.depth = depth;
    p.s_lo = logit_at(coordinate, lo);
    p.s_hi = logit_at(coordinate, hi);
    p.r_lo = std::exp(p.s_lo - y_);
    p.r_hi = std::exp(p.s_hi - y_);
    panels_.push_back(p);
    return static_cast<int>(panels_.size() - 1);
  }

  void ensure_nodes(int index) {
    Panel& p = panels_[static_cast<std::size_t>(index)];
    if (p.has_nodes) return;
    const UnitRule& rule = unit_rule();
    const double width = p.hi - p.lo;
    for (std::size_t i = 0; i < kRule; ++i) {
      const double coordinate = p.lo + width * rule.x[i];
      p.r[i] = std::exp(logit_at(p.coordinate, coordinate) - y_);
      p.w[i] = width * rule.w[i];
    }
    p.has_nodes = true;
  }

  int split(int index) {
    Panel& p = panels_[static_cast<std::size_t>(index)];
    if (p.child >= 0) return p.child;
    const double lo = p.lo, hi = p.hi, mid = 0.5 * (p.lo + p.hi);
    const Coordinate coordinate = p.coordinate;
    const int depth = p.depth + 1;
    const int first = add_panel(coordinate, lo, mid, depth);  // invalidates p
    add_panel(coordinate, mid, hi, depth);
    panels_[static_cast<std::size_t>(index)].child = first;
    return first;
  }

  // Sum over the panel of w (e^{lambda (1 - eps) r} - 1).
  Complex lower_sum(int index, Complex lambda, double size) {
    const Panel& p = panels_[static_cast<std::size_t>(index)];
    const double c = 1.0 - eps_;
    const double r_max = std::max(p.r_lo, p.r_hi);
    const double mass = p.hi - p.lo;
    // |e^z - 1| <= |z| e^{Re z}: skip panels that cannot matter.
    if (mass * size * c * r_max * std::exp(lambda.real() * c * r_max) < negligible_) return 0.0;
    const double span = size * c * std::fabs(p.r_lo - p.r_hi);
    if (span > kMaxSpan && p.depth < kMaxDepth) {
      const int child = split(index);
      return lower_sum(child, lambda, size) + lower_sum(child + 1, lambda, size);
    }
    ensure_nodes(index);
    const Panel& q = panels_[static_cast<std::size_t>(index)];
    double re = 0.0, im = 0.0;
    for (std::size_t i = 0; i < kRule; ++i) {
      const double x = lambda.real() * c * q.r[i];
      const double theta = 0.5 * lambda.imag() * c * q.r[i];
      const double em1 = std::expm1(x);
      const double sh = std::sin(theta), ch = std::cos(theta);
      // e^{x + 2i theta} - 1 = (e^x - 1) cos 2theta + (cos 2theta - 1) + i e^x sin 2theta
      const double cos2 = 1.0 - 2.0 * sh * sh;
      re += q.w[i] * (em1 * cos2 - 2.0 * sh * sh);
      im += q.w[i] * ((em1 + 1.0) * 2.0 * sh * ch);
    }
    return {re, im};
  }

  // Adds the panel's sum of w e^{-lambda eps r} to `sum`; true when the traversal may stop
  // (everything further up is negligible or has been added in asymptotic form).
  bool upper_sum(int index, Complex lambda, double size, Complex& sum) {
    const Panel p = panels_[static_cast<std::size_t>(index)];
    // Traversal runs from p = hi (smaller r) to p = lo (larger r).
    if (!(lambda.real() * eps_ * p.r_hi <= kDamped)) return true;
    if (size * eps_ * p.r_hi >= kCut && add_asymptotic_tail(p.s_hi, lambda, sum)) return true;
    const double span = size * eps_ * (p.r_lo - p.r_hi);
    if (!(span <= kMaxSpan) && p.depth < kMaxDepth) {
      const int child = split(index);
      if (upper_sum(child + 1, lambda, size, sum)) return true;
      return upper_sum(child, lambda, size, sum);
    }
    ensure_nodes(index);
    const Panel& q = panels_[static_cast<std::size_t>(index)];
    double re = 0.0, im = 0.0;
    for (std::size_t i = 0; i < kRule; ++i) {
      const double x = lambda.real() * eps_ * q.r[i];
      if (!(x < 700.0)) continue;
      const double theta = lambda.imag() * eps_ * q.r[i];
      const double magnitude = q.w[i] * std::exp(-x);
      re += magnitude * std::cos(theta);
      im -= magnitude * std::sin(theta);
    }
    sum += Complex(re, im);
    return false;
  }

  // int_{s_b}^inf f(s) e^{-rho(s)} ds with rho = lambda eps e^{s - y}, by three terms of its
  // integration-by-parts expansion e^{-rho}[f/rho + (f' - f)/rho^2 + (f'' - 3f' + 2f)/rho^3].
  // Returns false (adds nothing) where f varies too fast for the expansion.
  bool add_asymptotic_tail(double s_b, Complex lambda, Complex& sum) const {
    const double h = 1e-3 * law_.scale();
    const double f0 = law_.density(s_b);
    const double fp = law_.density(s_b + h);
    const double fm = law_.density(s_b - h);
    const double f1 = (fp - fm) / (2.0 * h);
    const double f2 = (fp - 2.0 * f0 + fm) / (h * h);
    const Complex rho = lambda * eps_ * std::exp(s_b - y_);
    const double size = std::abs(rho);
    if (!(std::fabs(f1) <= 0.25 * size * f0 + 1e-300) ||
        !(std::fabs(f2) <= 0.0625 * size * size * f0 + 1e-300)) {
      return false;
    }
    const Complex inverse = 1.0 / rho;
    const Complex series =
        inverse * (f0 + inverse * ((f1 - f0) + inverse * (f2 - 3.0 * f1 + 2.0 * f0)));
    sum += std::exp(-rho) * series;
    return true;
  }

  const LogitLaw& law_;
  double eps_;
  double y_;
  double negligible_;
  double q_top_ = 0.0, u_top_ = 1.0;
  std::vector<Panel> panels_;
  std::vector<int> lower_, upper_;
  std::vector<Leaf> lower_leaves_, upper_leaves_;
};

//! The i.i.d. "other keys" of a kept-probability question.
struct Others {
  const LogitLaw* law = nullptr;
  std::size_t count = 0;
  double eps = 0.0;
};

//! P(sum of others.count i.i.d. terms w(s) < x), w(s) = (eps 1{s > y} - (1-eps) 1{s < y})
//! e^{s - y}, where q = P(s > y), to absolute accuracy about `tolerance`.
double probability_below(const Others& others, double q, double y, double x, double tolerance,
                         Stats& stats) {
  ++stats.evaluations;
  if (others.count == 0) return x > 0.0 ? 1.0 : 0.0;
  if (std::isinf(x)) return x > 0.0 ? 1.0 : 0.0;
  const double eps = others.eps;
  if (others.count == 1) {
    // One term: its transform decays too slowly to invert cheaply, but its distribution
    // function is elementary. Below y, w = -(1-eps) r in (-(1-eps), 0); above, w = eps r > eps.
    const LogitLaw& law = *others.law;
    double p = 0.0;
    if (x > 0.0) {
      p += 1.0 - q;
    } else if (x > -(1.0 - eps)) {
      p += law.survival(y + std::log(-x / (1.0 - eps))) - q;
    }
    if (x > eps) p += q - law.survival(y + std::log(x / eps));
    return std::clamp(p, 0.0, 1.0);
  }
  const double count = static_cast<double>(others.count);
  TermLaw law(*others.law, eps, y, q, 1e-4 * tolerance / count);
  const double q_top = law.q_top();
  auto log_transform = [&](Complex lambda, Complex& log_all, Complex& log_none_above) {
    const auto [a, c] = law.parts(lambda);
    log_all = count * std::log(1.0 + a + c - q_top);
    log_none_above = count * std::log(law.u_top() + a);
  };

  // Scale of W below x (from A, the light side) for the first guess of gamma.
  const auto [m1, m2] = law.lower_moments();
  const double mean_a = count * m1;
  const double sd_a = std::sqrt(std::max(0.0, count * (m2 - m1 * m1)));
  const double alias = -std::log(1e-3 * tolerance);
  const double spread = std::fabs(x) + (1.0 - eps) * (mean_a + 6.0 * sd_a) + eps;
  const double gamma0 = alias / spread;

  // Choose gamma on a grid lambda_k = gamma0 2^k: both aliasing errors are below e^{-alias}
  // when gamma T >= alias + max(0, E(2 gamma)), E(lambda) = log M(lambda) + lambda x (a
  // Chernoff bound for the left one), and the terms stay below e^{kMaxExponent} (so that
  // cancellation in the sum costs no accuracy) when E(gamma) <= kMaxExponent. Among those,
  // the smallest T wins.
  constexpr int kLow = -14, kHigh = 7;
  constexpr double kMaxExponent = 8.0;
  std::array<double, kHigh - kLow + 1> grid{}, exponent{};
  double chernoff = 0.0;
  for (int k = kLow; k <= kHigh; ++k) {
    const double g = std::min(gamma0 * std::ldexp(1.0, k), 300.0);
    Complex log_all, unused;
    log_transform(Complex(g, 0.0), log_all, unused);
    grid[static_cast<std::size_t>(k - kLow)] = g;
    exponent[static_cast<std::size_t>(k - kLow)] = log_all.real() + g * x;
    chernoff = std::min(chernoff, log_all.real() + g * x);
  }
  // Fallback when even the smallest gamma gives large terms: x is then far above the bulk of
  // W and P is 1 to many digits, which the smallest gamma still resolves.
  double gamma = grid[0];
  double period = (alias + std::max(0.0, exponent[1])) / gamma;
  bool found = false;
  for (std::size_t k = 0; k + 1 < grid.size(); ++k) {
    if (exponent[k] > kMaxExponent) continue;
    const double t = (alias + std::max(0.0, exponent[k + 1])) / grid[k];
    if (!found || t < period) {
      period = t;
      gamma = grid[k];
      found = true;
    }
  }
  if (chernoff < std::log(1e-3 * tolerance)) return 0.0;  // P <= e^{chernoff}
  if (x > 0.0) {
    // 1 - P <= P(eps C >= x) <= P(S >= x), S = sum over the keys above y of min(eps r, x):
    // Cantelli's inequality with the mean and variance of S.
    const auto [g1, g2] = law.upper_capped_moments(x);
    const double mean = count * g1, variance = count * std::max(0.0, g2 - g1 * g1);
    if (x > mean) {
      const double bound = variance / (variance + (x - mean) * (x - mean));
      if (bound < 0.5 * tolerance) return 1.0 - 0.5 * bound;
    }
  }

  // With x > 0 the part "no other key above y" (W <= 0 < x) is kept for sure; invert only the
  // rest, whose transform decays much faster.
  const bool split_none_above = x > 0.0;
  const double step = 2.0 * std::numbers::pi / period;
  const double negligible = 1e-2 * tolerance * std::numbers::pi / step;  // per term, |value|
  auto term = [&](Complex lambda, Complex a, Complex c) {
    const Complex log_all = count * std::log(1.0 + a + c - q_top);
    Complex value = std::exp(log_all + lambda * x);
    if (split_none_above) value -= std::exp(count * std::log(law.u_top() + a) + lambda * x);
    return value / lambda;
  };

  // The transform need not decay monotonically: when the terms on one side of y are few and
  // concentrated near r = 1, W is close to a lattice and |M| revives near omega = 2 pi / (1 -
  // eps) (one key below y) or 2 pi / eps (one key above). Probe there; the sum must then run
  // past the revival. Beyond that, stop only after the terms stayed negligible over the last
  // half of the sum, or over 1.5 revival periods 2 pi / (1 - eps) when that is shorter.
  double omega_floor = 0.0;
  for (double base : {1.0 - eps, eps}) {
    for (double factor : {0.8, 0.9, 1.0, 1.1, 1.25, 1.45}) {
      const double omega = factor * 2.0 * std::numbers::pi / base;
      const Complex lambda(gamma, omega);
      const auto [a, c] = law.parts(lambda);
      if (std::abs(term(lambda, a, c)) > negligible)
        omega_floor = std::max(omega_floor, 1.3 * omega);
    }
  }
  // Terms in 1.5 revival periods of the keys below y: a later revival is seen before stopping.
  const auto window = static_cast<std::size_t>(3.0 * std::numbers::pi / ((1.0 - eps) * step)) + 1;
  double sum = 0.0;
  std::size_t last_large = 0;
  std::size_t j = 0;
  for (;; ++j) {
    const Complex lambda(gamma, static_cast<double>(j) * step);
    const auto [a, c] = law.parts_on_line(j, gamma, step);
    const Complex value = term(lambda, a, c);
    sum += (j == 0 ? 0.5 : 1.0) * value.real();
    if (std::abs(value) > negligible) last_large = j;
    if (j >= 8 && j - last_large > std::max<std::size_t>(5, std::min(j / 2, window)) &&
        lambda.imag() > omega_floor) {
      break;
    }
    if (j + 1 >= kMaxTerms) {
      ++stats.truncated;
      break;
    }
  }
  stats.terms += j + 1;
  double p = step / std::numbers::pi * sum;
  if (split_none_above) p += std::exp(count * std::log1p(-q_top));
  return std::clamp(p, 0.0, 1.0);
}

//! A kept probability P(q) computed to a given absolute tolerance.
using KeptFunction = std::function<double(double q, double tolerance)>;

//! int_0^1 P(q) dq for a non-increasing P with values in [0, 1], in the variable t = logit q:
//! q_c + int_{t < t_c} (P - 1) q(1-q) dt + int_{t > t_c} P q(1-q) dt, each side by
//! Gauss-Legendre panels of doubling width from a point t_c inside the transition, until a
//! monotonicity bound on the remainder is below tolerance * q_c / 10 (and at least
//! tolerance * floor / 10). Far left, where P is near 1 and the weight q small, P is computed
//! to a looser tolerance (tolerance * q_c / q, at most 1e-4). `breaks` are values of q where P
//! may jump (panel ends are put there).
double integrate_over_survival(const KeptFunction& kept, double q_guess, double tolerance,
                               double floor, const std::vector<double>& breaks) {
  const double t_min = logit(kQMin), t_max = logit(1.0 - kQMin);
  std::vector<double> break_t;
  for (double q : breaks) {
    if (q > kQMin && q < 1.0 - kQMin) break_t.push_back(logit(q));
  }
  constexpr double kSteering = 1e-4;  // tolerance of the evaluations that only place panels
  auto at = [&](double t, double tol) { return kept(survival_of(t), tol); };

  // A point inside the transition (0.1 <= P <= 0.9 where one is found quickly).
  double t_c = std::clamp(logit(std::clamp(q_guess, kQMin, 1.0 - kQMin)), t_min, t_max);
  double p_c = at(t_c, kSteering);
  double move = 0.5;
  for (int i = 0; i < 16 && (p_c > 0.9 || p_c < 0.1); ++i) {
    const bool right = p_c > 0.9;
    const double t_new = std::clamp(t_c + (right ? move : -move), t_min, t_max);
    if (t_new == t_c) break;
    const double p_new = at(t_new, kSteering);
    if ((right && p_new < 0.1) || (!right && p_new > 0.9)) {
      move *= 0.5;  // jumped over the transition
      continue;
    }
    t_c = t_new;
    p_c = p_new;
    move *= 2.0;
  }
  // Width of the transition from the local slope (a logistic of scale w has slope 1/(4w)).
  const double delta = 0.05;
  const double slope = std::fabs(at(std::min(t_c + delta, t_max), kSteering) - p_c) / delta;
  const double width = std::clamp(slope > 0.0 ? 0.25 / slope : 1.0, 0.02, 1.0);

  const UnitRule& rule = unit_rule();
  const double q_c = survival_of(t_c);
  const double absolute_tolerance = 0.1 * tolerance * std::max(q_c, floor);
  double total = q_c;
  for (int side : {+1, -1}) {
    double a = t_c, panel = width;
    const double end = side > 0 ? t_max : t_min;
    for (int count = 0; count < 200 && a != end; ++count, panel *= 2.0) {
      double b = side > 0 ? std::min(a + panel, end) : std::max(a - panel, end);
      for (double t : break_t) {
        if ((side > 0 && t > a && t < b) || (side < 0 && t < a && t > b)) b = t;
      }
      double contribution = 0.0, remainder = 0.0;
      for (std::size_t i = 0; i < kRule; ++i) {
        const double t = a + (b - a) * rule.x[i];
        const double q = survival_of(t);
        const double tol = std::clamp(tolerance * q_c / q, tolerance, std::max(1e-2, tolerance));
        const double p = at(t, tol);
        const double weight = std::fabs(b - a) * rule.w[i] * q * (1.0 - q);
        contribution += weight * (side > 0 ? p : p - 1.0);
        // The node furthest out bounds what is left by monotonicity.
        remainder = side > 0 ? p * (1.0 - q) : (1.0 - p) * q;
      }
      total += contribution;
      a = b;
      if (remainder < absolute_tolerance) break;
    }
  }
  return total;
}

double param_or(const ScoreModel& model, const std::string& name, double fallback) {
  const auto it = model.params().find(name);
  return it == model.params().end() ? fallback : it->second;
}

//! Sum of G(i), i = 1..count, for G non-increasing with values in [0, 1].
double sum_non_increasing(const std::function<double(std::size_t)>& g, std::size_t count,
                          double tolerance) {
  const double tiny = 1e-3 * tolerance;
  if (count <= 256) {
    double sum = 0.0;
    for (std::size_t i = 1; i <= count; ++i) {
      const double value = g(i);
      sum += value;
      if (value < tiny) break;  // the rest are smaller still
    }
    return sum;
  }
  // First index in [1, count + 1] where g < level (g non-increasing).
  auto first_below = [&](double level) {
    std::size_t lo = 1, hi = count + 1;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (g(mid) < level) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  };
  const std::size_t first = first_below(1.0 - tiny);
  const std::size_t last = first_below(tiny);
  double sum = static_cast<double>(first - 1);
  const std::size_t span = last - first;
  const std::size_t stride = span <= 4096 ? 1 : (span + 4095) / 4096;
  if (stride == 1) {
    for (std::size_t i = first; i < last; ++i)
      sum += g(i);
    return sum;
  }
  // Trapezoid over the sampled indices (g varies slowly on this scale).
  double previous = g(first);
  std::size_t at = first;
  while (at < last) {
    const std::size_t next = std::min(at + stride, last);
    const double value = next < last ? g(next) : (last <= count ? g(last) : 0.0);
    sum += 0.5 * (previous + value) * static_cast<double>(next - at);
    previous = value;
    at = next;
  }
  return sum;
}

void check_arguments(std::size_t n, double eps) {
  if (n < 1) throw std::invalid_argument("finite_n: n must be >= 1");
  if (!(eps > 0.0 && eps < 1.0)) throw std::invalid_argument("finite_n: eps must be in (0, 1)");
}

//! A starting point for the transition: the asymptotic rule where it exists, else 1/sqrt(n).
double transition_guess(const ScoreModel& model, std::size_t n, double eps) {
  const std::optional<double> rule = model.asymptotic_k_fraction(eps);
  if (rule && *rule > 1.0 / static_cast<double>(n)) return *rule;
  return 1.0 / std::sqrt(static_cast<double>(n));
}

FiniteNPrediction predict_iid(const ScoreModel& model, std::size_t n, double eps,
                              const FiniteNOptions& options) {
  Stats stats;
  const LogitLaw law(model);
  const Others others{&law, n - 1, eps};
  auto kept = [&](double q, double tolerance) {
    return probability_below(others, q, law.quantile(1.0 - q, q), 1.0 - eps, tolerance, stats);
  };
  const double floor = 1.0 / static_cast<double>(n);
  const double integral =
      integrate_over_survival(kept, transition_guess(model, n, eps), options.tolerance, floor, {});
  return {std::clamp(integral, floor, 1.0), stats.evaluations, stats.terms, stats.truncated};
}

// sinks: m_s = min(m, n) deterministic keys at v = mu + offset, n - m_s Gaussian bulk keys.
FiniteNPrediction predict_sinks(const ScoreModel& model, std::size_t n, double eps,
                                const FiniteNOptions& options) {
  const double mu = param_or(model, "mu", 0.0), sigma = param_or(model, "sigma", 1.0);
  const double offset = param_or(model, "offset", 5.0);
  const auto bulk = make_model("gaussian", {{"mu", mu}, {"sigma", sigma}});
  const std::size_t sinks =
      static_cast<std::size_t>(std::min(param_or(model, "m", 0.0), static_cast<double>(n)));
  const std::size_t bulk_count = n - sinks;
  const double v = mu + offset;
  const double q_v = numerics::normal_ccdf(offset / sigma);
  const double floor = 1.0 / static_cast<double>(n);
  const double sink_count = static_cast<double>(sinks);
  const LogitLaw law(*bulk);
  Stats stats;
  double kept_keys = 0.0;
  if (bulk_count >= 1) {
    const Others others{&law, bulk_count - 1, eps};
    auto kept = [&](double q, double tolerance) {
      const double y = law.quantile(1.0 - q, q);
      // The sinks are deterministic terms of W: shift the threshold by their sum.
      double x = 1.0 - eps;
      if (sinks > 0) {
        if (v > y) {
          if (v - y > 700.0) return 0.0;
          x -= sink_count * eps * std::exp(v - y);
        } else {
          x += sink_count * (1.0 - eps) * std::exp(v - y);
        }
      }
      return probability_below(others, q, y, x, tolerance, stats);
    };
    const double integral = integrate_over_survival(kept, transition_guess(*bulk, bulk_count, eps),
                                                    options.tolerance, floor, {q_v});
    kept_keys += static_cast<double>(bulk_count) * integral;
  }
  if (sinks >= 1) {
    // Sink i (ties among sinks go by position) is kept iff W < (m_s - i + 1 - eps m_s) e^v,
    // with W over all bulk keys.
    const Others others{&law, bulk_count, eps};
    auto kept = [&](std::size_t i) {
      const double x = sink_count - static_cast<double>(i) + 1.0 - eps * sink_count;
      return probability_below(others, q_v, v, x, options.tolerance, stats);
    };
    kept_keys += sum_non_increasing(kept, sinks, options.tolerance);
  }
  return {std::clamp(kept_keys / static_cast<double>(n), floor, 1.0), stats.evaluations,
          stats.terms, stats.truncated};
}

bool is_sinks(const ScoreModel& model) {
  return model.info().name == "sinks";
}

}  // namespace

std::string finite_n_unsupported_reason(const ScoreModel& model) {
  if (is_sinks(model)) return {};
  const std::string& name = model.info().name;
  if (!model.iid()) {
    return "no finite-n prediction: " + name + " is not i.i.d. and has no explicit handling";
  }
  const std::optional<double> median = model.quantile(0.5);
  if (!median || !model.density(*median)) {
    return "no finite-n prediction: " + name + " has no quantile or density function";
  }
  return {};
}

std::optional<FiniteNPrediction> finite_n_prediction(const ScoreModel& model, std::size_t n,
                                                     double eps, const FiniteNOptions& options) {
  check_arguments(n, eps);
  if (!finite_n_unsupported_reason(model).empty()) return std::nullopt;
  if (n == 1) return FiniteNPrediction{1.0, 0, 0, 0};
  return is_sinks(model) ? predict_sinks(model, n, eps, options)
                         : predict_iid(model, n, eps, options);
}

std::optional<double> finite_n_k_fraction(const ScoreModel& model, std::size_t n, double eps,
                                          const FiniteNOptions& options) {
  const std::optional<FiniteNPrediction> prediction = finite_n_prediction(model, n, eps, options);
  if (!prediction) return std::nullopt;
  return prediction->k_fraction;
}

std::optional<double> kept_probability(const ScoreModel& model, std::size_t n, double eps, double q,
                                       const FiniteNOptions& options) {
  check_arguments(n, eps);
  if (is_sinks(model) || !finite_n_unsupported_reason(model).empty()) return std::nullopt;
  if (!(q >= kQMin && q < 1.0)) throw std::invalid_argument("kept_probability: q out of range");
  Stats stats;
  const LogitLaw law(model);
  const Others others{&law, n - 1, eps};
  return probability_below(others, q, law.quantile(1.0 - q, q), 1.0 - eps, options.tolerance,
                           stats);
}

std::optional<double> blom_k_fraction(const ScoreModel& model, std::size_t n, double eps) {
  check_arguments(n, eps);
  std::vector<double> row;
  auto append_blom = [&row](const ScoreModel& law, std::size_t count) {
    const double denominator = static_cast<double>(count) + 0.25;
    for (std::size_t i = 1; i <= count; ++i) {
      row.push_back(*law.quantile(1.0 - (static_cast<double>(i) - 0.375) / denominator));
    }
  };
  if (is_sinks(model)) {
    const double mu = param_or(model, "mu", 0.0), sigma = param_or(model, "sigma", 1.0);
    const auto bulk = make_model("gaussian", {{"mu", mu}, {"sigma", sigma}});
    const std::size_t sinks =
        static_cast<std::size_t>(std::min(param_or(model, "m", 0.0), static_cast<double>(n)));
    row.assign(sinks, mu + param_or(model, "offset", 5.0));
    append_blom(*bulk, n - sinks);
  } else {
    if (!model.iid() || !model.quantile(0.5)) return std::nullopt;
    append_blom(model, n);
  }
  const TailProfile profile(row);
  return static_cast<double>(profile.k_eps(eps)) / static_cast<double>(n);
}

}  // namespace tvk
