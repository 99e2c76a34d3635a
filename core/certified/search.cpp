#include "core/certified/search.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "core/rows/tail_profile.h"

namespace tvk {

void check_search_eps(double eps, const char* who) {
  if (!(eps > 0.0 && eps < 1.0)) {
    throw std::invalid_argument(std::string(who) + ": eps must be in (0, 1), got " +
                                std::to_string(eps));
  }
}

std::string search_stop_name(SearchStop stop) {
  return stop == SearchStop::kCertified ? "certified" : "dense_fallback";
}

double kept_set_tau(std::span<const double> logits, std::span<const std::uint32_t> kept_keys) {
  const TailProfile profile(logits);
  if (profile.n() != logits.size()) {
    throw std::invalid_argument("kept_set_tau: the row has masked or non-finite logits");
  }
  std::vector<char> kept(logits.size(), 0);
  for (std::uint32_t i : kept_keys)
    kept.at(i) = 1;
  const auto w = profile.weights();
  const auto pos = profile.positions();
  double outside = 0.0;
  for (std::size_t r = profile.n(); r-- > 0;) {
    if (!kept[pos[r]]) outside += w[r];
  }
  return outside / profile.total();
}

}  // namespace tvk
