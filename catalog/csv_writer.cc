#include "catalog/csv_writer.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace diffmesh {
namespace {

void AppendText(absl::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(text.data(), text.size());
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendDouble(double d, std::string* out) {
  if (std::isinf(d)) {
    out->append(d > 0 ? "inf" : "-inf");
    return;
  }
  if (std::isnan(d)) {
    out->append("nan");
    return;
  }
  char buf[64];
  auto [end, error] = std::to_chars(buf, buf + sizeof(buf), d);
  const absl::string_view text(buf, static_cast<size_t>(end - buf));
  out->append(text.data(), text.size());
  if (text.find_first_of(".e") == absl::string_view::npos) out->append(".0");
}

void AppendTimestamp(int64_t micros, std::string* out) {
  // Floor division: the second a negative time falls in, and the micros
  // after it.
  int64_t seconds = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const absl::CivilSecond c =
      absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  absl::StrAppend(
      out, absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(),
                           c.day(), c.hour(), c.minute(), c.second()));
  if (fraction != 0) absl::StrAppend(out, absl::StrFormat(".%06d", fraction));
  out->push_back('Z');
}

void AppendValue(Datum d, std::string* out) {
  switch (d.type()) {
    case ValueType::kNull:
      return;
    case ValueType::kBool:
      out->append(d.as_bool() ? "true" : "false");
      return;
    case ValueType::kInt64:
      absl::StrAppend(out, d.as_int64());
      return;
    case ValueType::kDouble:
      AppendDouble(d.as_double(), out);
      return;
    case ValueType::kString:
      AppendText(d.as_string(), out);
      return;
    case ValueType::kTimestamp:
      AppendTimestamp(d.as_timestamp().micros, out);
      return;
  }
}

}  // namespace

std::string WriteCsv(const Schema& schema, const std::vector<Row>& rows) {
  std::string out;
  for (size_t i = 0; i < schema.fields().size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendText(schema.fields()[i].name, &out);
  }
  out.push_back('\n');
  for (const Row& row : rows) {
    bool first = true;
    for (Datum d : row) {
      if (!first) out.push_back(',');
      first = false;
      AppendValue(d, &out);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace diffmesh
