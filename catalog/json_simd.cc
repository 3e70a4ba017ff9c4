// The quick path of the JSON readers (catalog/json.h): simdjson's
// On-Demand API turns plainly good records straight into rows. Anything
// unusual (an error, a nested value, an unknown or repeated field, a value
// of the wrong kind, a byte order mark) is left to ParseJson and ToRows,
// which decide and explain it, so both paths give the same rows and the
// quarantine keeps the hand-written parser's messages.
// Every simdjson result is checked: a conversion that would throw does not
// compile.
#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "catalog/csv.h"
#include "catalog/json.h"

namespace diffmesh {
namespace {

namespace od = simdjson::ondemand;

// A scalar's text as written (without the whitespace after it).
std::string_view Token(od::value& value) {
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' ||
                          raw.back() == '\r' || raw.back() == '\n')) {
    raw.remove_suffix(1);
  }
  return raw;
}

// A field's value as a value of `type`, following Convert (catalog/json.cc):
// kinds must match, strings also take numbers and bools as written; false
// when the value is anything else (or not well-formed).
bool AppendValue(od::value value, const Field& field, Row* out,
                 bool* null_but_required) {
  od::json_type kind;
  if (value.type().get(kind) != simdjson::SUCCESS) return false;
  if (kind == od::json_type::null) {
    bool null = false;
    if (value.is_null().get(null) || !null) return false;
    if (!field.nullable) *null_but_required = true;
    out->AppendNull();
    return true;
  }
  switch (field.type) {
    case ValueType::kBool: {
      bool b;
      if (kind != od::json_type::boolean || value.get_bool().get(b)) {
        return false;
      }
      out->AppendBool(b);
      return true;
    }
    case ValueType::kInt64: {
      // Digits only: 1.0 and 1e3 are doubles (the general path refuses).
      int64_t i;
      if (kind != od::json_type::number) return false;
      if (Token(value).find_first_of(".eE") != std::string_view::npos) {
        return false;
      }
      if (value.get_int64().get(i)) return false;
      out->AppendInt64(i);
      return true;
    }
    case ValueType::kDouble: {
      // simdjson checks the number is well-formed; its value is read from
      // the token with from_chars (correctly rounded): simdjson's portable
      // kernel misreads numbers of many digits (0.5666... with 52 sixes as
      // 8.9e-34; found by json_fuzz).
      double d;
      if (kind != od::json_type::number || value.get_double().get(d)) {
        return false;
      }
      const std::string_view raw = Token(value);
      const auto [end, error] =
          std::from_chars(raw.data(), raw.data() + raw.size(), d);
      if (error != std::errc() || end != raw.data() + raw.size() ||
          !std::isfinite(d)) {
        return false;
      }
      out->AppendDouble(d);
      return true;
    }
    case ValueType::kString: {
      if (kind == od::json_type::string) {
        std::string_view s;
        if (value.get_string().get(s)) return false;
        out->AppendString(absl::string_view(s.data(), s.size()));
        return true;
      }
      if (kind != od::json_type::number && kind != od::json_type::boolean) {
        return false;
      }
      // As written: the token, once checked to be well-formed.
      const std::string_view raw = Token(value);
      if (kind == od::json_type::boolean) {
        bool b;
        if (value.get_bool().get(b)) return false;
      } else {
        double d;
        if (value.get_double().get(d)) return false;
      }
      out->AppendString(absl::string_view(raw.data(), raw.size()));
      return true;
    }
    case ValueType::kTimestamp: {
      std::string_view s;
      if (kind != od::json_type::string || value.get_string().get(s) ||
          s.empty()) {
        return false;
      }
      absl::StatusOr<Value> v = ParseField(
          absl::string_view(s.data(), s.size()), ValueType::kTimestamp);
      if (!v.ok()) return false;
      out->push_back(*v);
      return true;
    }
    case ValueType::kNull:
      return false;
  }
  return false;
}

// One object's fields into a row of `schema`, in the schema's order.
template <typename Object>
bool ObjectToRow(Object object, const Schema& schema, Row* row) {
  const size_t n = schema.size();
  // Each field's encoding, gathered in any order, then laid out in order.
  absl::InlinedVector<Row, 16> values(n);
  absl::InlinedVector<bool, 16> seen(n, false);
  bool null_but_required = false;
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return false;
    size_t index = 0;
    while (index < n && schema.fields()[index].name != name) ++index;
    if (index == n || seen[index]) return false;  // unknown or repeated
    seen[index] = true;
    od::value value;
    if (field.value().get(value)) return false;
    if (!AppendValue(value, schema.fields()[index], &values[index],
                     &null_but_required)) {
      return false;
    }
  }
  if (null_but_required) return false;
  row->clear();
  for (size_t i = 0; i < n; ++i) {
    if (!seen[i]) {
      if (!schema.fields()[i].nullable) return false;
      row->AppendNull();
    } else {
      row->Extend(values[i]);
    }
  }
  return true;
}

// simdjson reads up to SIMDJSON_PADDING bytes past the end of its input;
// a record's text is copied into this thread's padded buffer first.
simdjson::padded_string_view Padded(absl::string_view text,
                                    std::string* buffer) {
  buffer->assign(text.data(), text.size());
  buffer->resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
  return simdjson::padded_string_view(buffer->data(), text.size(),
                                      buffer->size());
}

// Whether nothing but whitespace follows what was read.
bool AtEnd(od::document& doc) {
  const char* next;
  return doc.current_location().get(next) != simdjson::SUCCESS;
}

od::parser& ThreadParser() {
  thread_local od::parser parser;
  return parser;
}

}  // namespace

bool JsonObjectToRow(absl::string_view text, const Schema& schema, Row* row) {
  thread_local std::string buffer;
  od::document doc;
  if (ThreadParser().iterate(Padded(text, &buffer)).get(doc)) return false;
  od::object object;
  if (doc.get_object().get(object)) return false;
  if (!ObjectToRow(object, schema, row)) return false;
  return AtEnd(doc);
}

bool JsonArrayToRows(absl::string_view text, const Schema& schema,
                     std::vector<Row>* rows) {
  rows->clear();
  std::string buffer;
  od::parser parser;
  od::document doc;
  if (parser.iterate(Padded(text, &buffer)).get(doc)) return false;
  od::array array;
  if (doc.get_array().get(array)) return false;
  for (auto element : array) {
    od::object object;
    if (element.get_object().get(object)) return false;
    Row row;
    if (!ObjectToRow(object, schema, &row)) return false;
    rows->push_back(std::move(row));
  }
  return AtEnd(doc);
}

size_t JsonArraySamplePrefix(absl::string_view text, size_t limit) {
  std::string buffer;
  od::parser parser;
  od::document doc;
  if (parser.iterate(Padded(text, &buffer)).get(doc)) return 0;
  od::array array;
  if (doc.get_array().get(array)) return 0;
  size_t prefix = 0;
  for (auto element : array) {
    od::object object;
    std::string_view raw;
    if (element.get_object().get(object) || object.raw_json().get(raw)) {
      return prefix;
    }
    const size_t end =
        static_cast<size_t>(raw.data() + raw.size() - buffer.data());
    if (end > limit) break;
    prefix = end;
  }
  return prefix;
}

}  // namespace diffmesh
