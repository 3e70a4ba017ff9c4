// gtest matchers for absl::Status / StatusOr (Abseil 20220623 has none).
//
//   EXPECT_THAT(log->Append(batch), IsOk());
//   EXPECT_THAT(DecodeUpdateBatch(junk, "k"),
//   StatusIs(absl::StatusCode::kDataLoss));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace diffmesh::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <class T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s.ToString();
  return s.code() == code;
}

}  // namespace diffmesh::testing
