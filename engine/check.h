// Check macros for programmer errors: a violated invariant aborts with the
// failing condition and its place, never silently continues.
//
//   DM_CHECK(batch != nullptr) << "while sealing";   // not supported: no
//   stream DM_CHECK(batch != nullptr); DM_CHECK_MSG(depth <= kMaxTimeDepth,
//   "time nesting too deep");
//
// Bad *input* is never a check failure: it is an absl::Status (see
// engine/status_macros.h).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace diffmesh::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* condition,
                                     const char* message) {
  std::fprintf(stderr, "%s:%d: check failed: %s%s%s\n", file, line, condition,
               message[0] ? ": " : "", message);
  std::fflush(stderr);
  std::abort();
}
}  // namespace diffmesh::internal

#define DM_CHECK_MSG(condition, message)                                \
  do {                                                                  \
    if (!(condition)) [[unlikely]] {                                    \
      ::diffmesh::internal::CheckFailed(__FILE__, __LINE__, #condition, \
                                        message);                       \
    }                                                                   \
  } while (false)

#define DM_CHECK(condition) DM_CHECK_MSG(condition, "")
