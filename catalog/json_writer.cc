#include "catalog/json_writer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace diffmesh {
namespace {

void AppendString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendValue(Datum d, std::string* out) {
  switch (d.type()) {
    case ValueType::kNull:
      out->append("null");
      return;
    case ValueType::kBool:
      out->append(d.as_bool() ? "true" : "false");
      return;
    case ValueType::kInt64:
      absl::StrAppend(out, d.as_int64());
      return;
    case ValueType::kDouble:
      if (!std::isfinite(d.as_double())) {
        out->append("null");
      } else {
        out->append(FormatDouble(d.as_double()));
      }
      return;
    case ValueType::kString:
      AppendString(d.as_string(), out);
      return;
    case ValueType::kTimestamp:
      AppendString(FormatTimestamp(d.as_timestamp()), out);
      return;
  }
}

}  // namespace

std::string WriteJsonLines(const Schema& schema, const std::vector<Row>& rows) {
  std::string out;
  for (const Row& row : rows) {
    out.push_back('{');
    size_t i = 0;
    for (Datum d : row) {
      if (i > 0) out.push_back(',');
      AppendString(schema.fields()[i].name, &out);
      out.push_back(':');
      AppendValue(d, &out);
      ++i;
    }
    out.append("}\n");
  }
  return out;
}

}  // namespace diffmesh
