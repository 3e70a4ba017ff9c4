// LogHistogram: approximate quantiles of numbers that come and go, from
// counts in fixed log-scale buckets (mergeable, and a retraction is a
// count going down).
//
//   LogHistogram h;
//   h.Add(12.5, +1);  h.Add(7.0, +1);  h.Add(12.5, -1);
//   std::optional<double> median = h.Quantile(0.5);   // 7.0
//
// Buckets. A double's bits, read as an integer, order its magnitude; the
// top 18 of them (the exponent and the first 6 bits of the mantissa) split
// every power of two into 64 buckets, so a bucket spans at most 1/64 of its
// lower bound. Negative values fall in mirror buckets; 0 and the
// infinities have their own. A bucket keeps the count and the
// (double-double) sum of its values, and stands for their mean: within
// 1/64 (1.6%) of every normal value in it, and exactly the value when the
// bucket holds one distinct value (small integers, repeated amounts).
// NaN is not counted.
//
// Quantile(q) is the value at 0-based rank floor(q * (n - 1)) of the n
// counted values (the lower middle value for the median of an even count),
// within kRelativeError (exact for 0 and the infinities): the bucket of
// that value is found by walking the buckets in order, so the cost is the
// number of buckets in use (a few hundred for data spanning ten decades),
// not the number of values.
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "governance/double_double.h"

namespace diffmesh {

class LogHistogram {
 public:
  // The relative error of a bucket's value, for normal numbers.
  static constexpr double kRelativeError = 1.0 / 64;

  // The bucket of x, ordered as the values are (NaN: REQUIRES not).
  static int32_t BucketOf(double x);
  // The least value of bucket `b` and the least of the next (for the
  // infinities' buckets: both the infinity).
  static std::pair<double, double> BoundsOf(int32_t bucket);

  // Counts x `times` more (negative: fewer); NaN is ignored.
  void Add(double x, int64_t times);
  int64_t count() const { return count_; }
  // nullopt when nothing is counted. REQUIRES: 0 <= q <= 1.
  std::optional<double> Quantile(double q) const;

 private:
  struct Bucket {
    int64_t count = 0;
    DoubleDouble sum;  // of its finite values
  };
  std::map<int32_t, Bucket> buckets_;
  int64_t count_ = 0;
};

}  // namespace diffmesh
