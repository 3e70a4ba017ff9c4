#include "governance/log_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace diffmesh {
namespace {

// The exponent and the first 6 bits of the mantissa.
constexpr int kDroppedBits = 52 - 6;

}  // namespace

int32_t LogHistogram::BucketOf(double x) {
  if (x == 0) return 0;
  const uint64_t bits = std::bit_cast<uint64_t>(std::abs(x));
  const int32_t bucket = 1 + static_cast<int32_t>(bits >> kDroppedBits);
  return x > 0 ? bucket : -bucket;
}

std::pair<double, double> LogHistogram::BoundsOf(int32_t bucket) {
  if (bucket == 0) return {0, 0};
  const uint64_t index =
      static_cast<uint64_t>(bucket > 0 ? bucket : -bucket) - 1;
  const double lower = std::bit_cast<double>(index << kDroppedBits);
  double upper = std::bit_cast<double>((index + 1) << kDroppedBits);
  // The infinities' bucket holds only them (the next bits are a NaN).
  if (std::isinf(lower) || std::isnan(upper)) upper = lower;
  if (bucket > 0) return {lower, upper};
  return {-upper, -lower};
}

void LogHistogram::Add(double x, int64_t times) {
  if (std::isnan(x) || times == 0) return;
  auto it = buckets_.try_emplace(BucketOf(x)).first;
  it->second.count += times;
  if (std::isfinite(x)) it->second.sum.AddProduct(times, x);
  if (it->second.count == 0) buckets_.erase(it);
  count_ += times;
}

std::optional<double> LogHistogram::Quantile(double q) const {
  if (count_ <= 0 || buckets_.empty()) return std::nullopt;
  const int64_t rank =
      static_cast<int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  int64_t seen = 0;
  auto at = std::prev(buckets_.end());
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    seen += it->second.count;
    if (seen > rank) {
      at = it;
      break;
    }
  }
  const auto [lower, upper] = BoundsOf(at->first);
  if (std::isinf(lower) && lower == upper) return lower;
  // The mean of the bucket's values, kept inside it.
  const double mean =
      (at->second.sum / static_cast<double>(at->second.count)).value();
  return std::clamp(mean, std::min(lower, upper), std::max(lower, upper));
}

}  // namespace diffmesh
