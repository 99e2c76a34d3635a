#include "core/certified/baseline_support.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <sstream>

namespace tvk {

void store_kept(SearchResult& result, const KeyScorer& scorer, const Eigen::VectorXd& query,
                std::vector<std::uint32_t> keys, std::vector<double>& logits) {
  logits.resize(keys.size());
  if (!keys.empty()) scorer.score(query.data(), keys, logits.data());
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (logits[a] != logits[b]) return logits[a] > logits[b];
    return keys[a] < keys[b];
  });
  result.kept_keys.resize(keys.size());
  result.kept_logits.resize(keys.size());
  for (std::size_t r = 0; r < order.size(); ++r) {
    result.kept_keys[r] = keys[order[r]];
    result.kept_logits[r] = logits[order[r]];
  }
  result.kept = keys.size();
}

void finish_uncertified(SearchResult& result, std::size_t n, std::size_t summaries_read,
                        CostModel cost) {
  result.n = n;
  result.certified = false;
  result.bound = std::nan("");
  result.scored = result.kept;
  result.summaries_read = summaries_read;
  result.dense_fallback = result.kept == n;
  result.stop = result.dense_fallback ? SearchStop::kDenseFallback : SearchStop::kCertified;
  result.summary_cost = cost.summary_cost;
  result.cost =
      static_cast<double>(result.scored) + cost.summary_cost * static_cast<double>(summaries_read);
}

std::optional<double> parse_real(std::string_view text) {
  const std::string copy(text);
  if (copy.empty() || std::isspace(static_cast<unsigned char>(copy.front()))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

namespace {

std::string number_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

}  // namespace

double read_real(SectionReader& reader, std::string_view key, double fallback, double minimum,
                 double maximum, bool lower_open) {
  const std::string range = std::string(lower_open ? "(" : "[") + number_text(minimum) + ", " +
                            number_text(maximum) + "]";
  if (!reader.has(key)) return fallback;
  const std::string text = reader.text_or(key, std::string(), [&](const std::string& value) {
    const std::optional<double> x = parse_real(value);
    const bool ok = x && (lower_open ? *x > minimum : *x >= minimum) && *x <= maximum;
    return ok ? std::string() : "must be a number in " + range + ", got '" + value + "'";
  });
  return *parse_real(text);
}

}  // namespace tvk
