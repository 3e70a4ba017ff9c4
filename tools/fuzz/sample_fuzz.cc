// Fuzzes the demo's reader of vega's flights file (tools/demo/sample.h:
// ParseFlights) with any bytes, and the replay built from what it accepts.
// It asserts on every input:
// - a text it refuses is an InvalidArgument naming the file;
// - every record is either kept or counted as skipped, the first skip
//   with its reason naming the file;
// - the flights kept are sorted by date, and the replay adds each exactly
//   once and never retracts more than it added.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"
#include "tools/demo/sample.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh::demo {
namespace {

void FuzzFlights(const std::string& text) {
  absl::StatusOr<Sample> s = ParseFlights(text, "fuzz.json");
  if (!s.ok()) {
    FUZZ_CHECK(s.status().code() == absl::StatusCode::kInvalidArgument,
               "ParseFlights refused with a code other than InvalidArgument");
    FUZZ_CHECK(absl::StrContains(s.status().message(), "fuzz.json"),
               "ParseFlights' error does not name the file");
    return;
  }
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  FUZZ_CHECK(parsed.is_array(), "ParseFlights accepted a non-array");
  FUZZ_CHECK(s->flights.size() + s->skipped_flights == parsed.size(),
             "a record was neither kept nor counted as skipped");
  FUZZ_CHECK(s->skipped_flights == 0 ||
                 absl::StrContains(s->first_skip_reason, "fuzz.json"),
             "the first skip's reason does not name the file");
  for (size_t i = 1; i < s->flights.size(); ++i) {
    FUZZ_CHECK(s->flights[i - 1].date <= s->flights[i].date,
               "flights are not sorted by date");
  }
  int64_t added = 0, retracted = 0;
  for (const ReplayStep& step : Replay(s->flights)) {
    added += step.added;
    retracted += step.retracted;
  }
  FUZZ_CHECK(added == static_cast<int64_t>(s->flights.size()),
             "the replay did not add every flight once");
  FUZZ_CHECK(retracted <= added, "the replay retracted more than it added");
}

}  // namespace
}  // namespace diffmesh::demo

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::demo::FuzzFlights(
      std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
