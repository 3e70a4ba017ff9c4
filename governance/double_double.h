// DoubleDouble: a number kept as an unevaluated sum hi + lo of two doubles
// (about 106 significant bits), for sums that values are added to and
// retracted from for ever.
//
//   DoubleDouble sum;
//   sum.AddProduct(+1, 1e12);  sum.AddProduct(+1, 3.25);
//   sum.AddProduct(-1, 1e12);  // exactly 3.25 again
//   double mean = (sum / 2.0).value();
//
// Every step is an error-free transformation (Knuth's TwoSum, and a fused
// multiply-add for products), so a running sum of n terms carries an error
// of about n * 2^-106 of its largest partial sum, not 2^-53: adding and
// later retracting 1e12 leaves 3.25 exactly, and a variance computed as
// (sum of squares - sum^2 / n) / n keeps its digits where plain doubles
// cancel them away (values of 1e9 with a spread of 1).
// Thread-safety: a value type.
#pragma once

#include <cmath>
#include <cstdint>

namespace diffmesh {

class DoubleDouble {
 public:
  DoubleDouble() = default;
  explicit DoubleDouble(double x) : hi_(x) {}

  double value() const { return hi_ + lo_; }
  double hi() const { return hi_; }
  double lo() const { return lo_; }

  DoubleDouble& operator+=(const DoubleDouble& o) {
    // Two TwoSums and a renormalization (the "accurate" sum).
    double s = 0, e = 0;
    TwoSum(hi_, o.hi_, &s, &e);
    double t = 0, f = 0;
    TwoSum(lo_, o.lo_, &t, &f);
    e += t;
    TwoSum(s, e, &s, &e);  // s may have cancelled below e
    e += f;
    TwoSum(s, e, &hi_, &lo_);
    return *this;
  }
  DoubleDouble operator-() const { return FromParts(-hi_, -lo_); }
  // Adds times * x: a row's multiplicity times its value.
  void AddProduct(int64_t times, double x) {
    *this += Product(static_cast<double>(times), x);
  }

  // a * b, exactly (while it does not overflow or underflow).
  static DoubleDouble Product(double a, double b) {
    const double p = a * b;
    return FromParts(p, std::fma(a, b, -p));
  }
  friend DoubleDouble operator*(const DoubleDouble& a, const DoubleDouble& b) {
    DoubleDouble p = Product(a.hi_, b.hi_);
    double lo = p.lo_ + (a.hi_ * b.lo_ + a.lo_ * b.hi_);
    double hi = 0;
    FastTwoSum(p.hi_, lo, &hi, &lo);
    return FromParts(hi, lo);
  }
  friend DoubleDouble operator/(const DoubleDouble& a, double d) {
    const double q1 = a.hi_ / d;
    // The remainder a - q1 * d, exactly enough for the second digit.
    DoubleDouble r = a;
    r += -Product(q1, d);
    const double q2 = r.hi_ / d;
    double hi = 0, lo = 0;
    FastTwoSum(q1, q2, &hi, &lo);
    return FromParts(hi, lo);
  }
  friend DoubleDouble operator-(DoubleDouble a, const DoubleDouble& b) {
    a += -b;
    return a;
  }
  friend bool operator==(const DoubleDouble&, const DoubleDouble&) = default;

 private:
  static DoubleDouble FromParts(double hi, double lo) {
    DoubleDouble d;
    d.hi_ = hi;
    d.lo_ = lo;
    return d;
  }
  static void TwoSum(double a, double b, double* s, double* e) {
    *s = a + b;
    const double bb = *s - a;
    *e = (a - (*s - bb)) + (b - bb);
  }
  // REQUIRES: |a| >= |b| (or a == 0).
  static void FastTwoSum(double a, double b, double* s, double* e) {
    *s = a + b;
    *e = b - (*s - a);
  }

  double hi_ = 0;
  double lo_ = 0;
};

}  // namespace diffmesh
