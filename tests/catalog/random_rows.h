// Random rows of one column per type (string, int64, double, bool,
// timestamp; all nullable) for the readers' and writers' round-trip tests:
// strings from a given pool, integers at their extremes or anywhere,
// doubles from a given pool or of any magnitude, timestamps in years 0000
// to 9999 with or without a fraction, and a null in any column now and
// then.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "catalog/row.h"
#include "catalog/schema.h"

namespace diffmesh::testing {

inline Schema EveryTypeSchema() {
  return Schema({{"s", ValueType::kString, true, "", {}},
                 {"i", ValueType::kInt64, true, "", {}},
                 {"d", ValueType::kDouble, true, "", {}},
                 {"b", ValueType::kBool, true, "", {}},
                 {"t", ValueType::kTimestamp, true, "", {}}});
}

inline std::vector<Row> RandomEveryTypeRows(
    std::mt19937_64& rng, size_t n, const std::vector<std::string>& strings,
    const std::vector<double>& doubles) {
  const std::vector<int64_t> ints = {0, -1, 7,
                                     std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max()};
  std::vector<Row> rows;
  for (size_t r = 0; r < n; ++r) {
    Row row;
    auto maybe_null = [&](auto append) {
      if (rng() % 6 == 0) {
        row.AppendNull();
      } else {
        append();
      }
    };
    maybe_null([&] { row.AppendString(strings[rng() % strings.size()]); });
    maybe_null([&] {
      row.AppendInt64(rng() % 3 == 0 ? ints[rng() % ints.size()]
                                     : static_cast<int64_t>(rng()));
    });
    maybe_null([&] {
      row.AppendDouble(rng() % 2
                           ? doubles[rng() % doubles.size()]
                           : std::ldexp(static_cast<double>(rng()),
                                        static_cast<int>(rng() % 80) - 100));
    });
    maybe_null([&] { row.AppendBool(rng() % 2 == 0); });
    maybe_null([&] {
      // Seconds from 0000-01-01 to 9999-12-31T23:59:59.
      const int64_t first = -62167219200, last = 253402300799;
      const int64_t seconds =
          first +
          static_cast<int64_t>(rng() % static_cast<uint64_t>(last - first + 1));
      const int64_t micros =
          rng() % 2 ? 0 : static_cast<int64_t>(rng() % 1000000);
      row.AppendTimestamp({seconds * 1'000'000 + micros});
    });
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace diffmesh::testing
