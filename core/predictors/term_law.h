#pragma once
//! \file The Laplace transform phi(lambda) of one other key's term w(s) relative to a key at
//! logit y, by Gauss-Legendre panels in probability coordinates refined on demand (header-only;
//! internal to core/predictors/).

#include "core/predictors/finite_n_numerics.h"
#include "core/predictors/logit_law.h"

namespace tvk::finite_n {

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

}  // namespace tvk::finite_n
