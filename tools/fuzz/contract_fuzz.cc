// Fuzzes the data contract reader (governance/contract.h) with any bytes.
// Besides not crashing (yaml-cpp throws on some shapes; the reader must
// turn every one into a status), it asserts on every input:
// - a text ParseContract refuses is an InvalidArgument naming the source;
// - a contract it accepts has unique rule ids, every rule a place in the
//   YAML, one operator with low <= high for the betweens, and the same
//   contract again when read a second time (reading is deterministic);
// - allowing unenforced rules never refuses what was accepted without.
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "governance/contract.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void FuzzContract(absl::string_view text) {
  absl::StatusOr<DataContract> c = ParseContract(text, "fuzz.yaml");
  absl::StatusOr<DataContract> lenient =
      ParseContract(text, "fuzz.yaml", {.allow_unenforced = true});
  if (!c.ok()) {
    FUZZ_CHECK(c.status().code() == absl::StatusCode::kInvalidArgument,
               "ParseContract refused with a code other than InvalidArgument");
    FUZZ_CHECK(absl::StrContains(c.status().message(), "fuzz.yaml"),
               "ParseContract's error does not name the source");
    return;
  }
  FUZZ_CHECK(lenient.ok(), "allowing unenforced rules refused a contract");
  FUZZ_CHECK(lenient->rules.size() == c->rules.size(),
             "allowing unenforced rules changed the rules");
  std::set<std::string> ids;
  for (const QualityRule& r : c->rules) {
    FUZZ_CHECK(ids.insert(r.id).second, "two rules share an id");
    FUZZ_CHECK(!r.where.empty(), "a rule without its place");
    FUZZ_CHECK(
        r.bound <= r.upper_bound || (r.op != RuleOperator::kMustBeBetween &&
                                     r.op != RuleOperator::kMustNotBeBetween),
        "a between with low > high");
    FUZZ_CHECK(r.enforced || r.kind == "text", "an unenforced rule kept");
  }
  absl::StatusOr<DataContract> again = ParseContract(text, "fuzz.yaml");
  FUZZ_CHECK(again.ok() && again->rules.size() == c->rules.size() &&
                 again->objects.size() == c->objects.size(),
             "reading the same contract twice differs");
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzContract(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
