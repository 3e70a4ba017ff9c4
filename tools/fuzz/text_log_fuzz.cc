// Fuzzes the text update-log parser (storage/text_log.h) with any bytes.
// Besides not crashing, it asserts on every input:
// - a refused text is an InvalidArgument naming the file and a line;
// - printing what was read and reading it back gives the same updates,
//   consolidated (FormatTextLog is a fixed point after one round).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "storage/text_log.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

void FuzzTextLog(absl::string_view text) {
  absl::StatusOr<std::vector<LogUpdate>> updates =
      ParseTextLog(text, "fuzz.log", -1);
  if (!updates.ok()) {
    FUZZ_CHECK(updates.status().code() == absl::StatusCode::kInvalidArgument,
               "ParseTextLog refused with a code other than InvalidArgument");
    FUZZ_CHECK(absl::StrContains(updates.status().message(), "fuzz.log:"),
               "ParseTextLog's error does not name the file and line");
    return;
  }
  std::string printed = FormatTextLog(*updates);
  absl::StatusOr<std::vector<LogUpdate>> back =
      ParseTextLog(printed, "printed.log", -1);
  FUZZ_CHECK(back.ok(), "a printed log does not read back");
  FUZZ_CHECK(FormatTextLog(*back) == printed,
             "a printed log reads back as other updates");
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzTextLog(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
