#include "catalog/csv_writer.h"

#include "absl/strings/str_cat.h"

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

void AppendValue(Datum d, std::string* out) {
  if (d.type() == ValueType::kString) {
    AppendText(d.as_string(), out);
  } else {
    AppendValueText(d, out);
  }
}

}  // namespace

void AppendValueText(Datum d, std::string* out) {
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
      out->append(FormatDouble(d.as_double()));
      return;
    case ValueType::kString:
      absl::StrAppend(out, d.as_string());
      return;
    case ValueType::kTimestamp:
      out->append(FormatTimestamp(d.as_timestamp()));
      return;
  }
}

std::string ValueText(Datum d) {
  std::string out;
  AppendValueText(d, &out);
  return out;
}

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
