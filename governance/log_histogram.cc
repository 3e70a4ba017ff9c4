#include "governance/log_histogram.h"

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

double LogHistogram::ValueOf(int32_t bucket) {
  if (bucket == 0) return 0;
  const uint64_t index =
      static_cast<uint64_t>(bucket > 0 ? bucket : -bucket) - 1;
  const double lower = std::bit_cast<double>(index << kDroppedBits);
  // The infinities' bucket holds only them.
  const double upper = std::bit_cast<double>((index + 1) << kDroppedBits);
  // The infinities' bucket holds only them; the top finite bucket's upper
  // bound is infinite.
  const double value = std::isinf(lower) || !std::isfinite(upper)
                           ? lower
                           : lower + (upper - lower) / 2;
  return bucket > 0 ? value : -value;
}

void LogHistogram::Add(double x, int64_t times) {
  if (std::isnan(x) || times == 0) return;
  auto [it, fresh] = buckets_.try_emplace(BucketOf(x), 0);
  it->second += times;
  if (it->second == 0) buckets_.erase(it);
  count_ += times;
}

std::optional<double> LogHistogram::Quantile(double q) const {
  if (count_ <= 0) return std::nullopt;
  const int64_t rank =
      static_cast<int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  int64_t seen = 0;
  for (const auto& [bucket, n] : buckets_) {
    seen += n;
    if (seen > rank) return ValueOf(bucket);
  }
  return ValueOf(buckets_.rbegin()->first);
}

}  // namespace diffmesh
