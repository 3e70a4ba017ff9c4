// Status propagation helpers (Abseil 20220623 ships none of its own).
//
//   absl::StatusOr<Log> ReadLog(absl::string_view path);
//   absl::Status Load(absl::string_view path) {
//     DM_ASSIGN_OR_RETURN(Log log, ReadLog(path));
//     DM_RETURN_IF_ERROR(Validate(log));
//     return absl::OkStatus();
//   }
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DM_STATUS_CONCAT_INNER(a, b) a##b
#define DM_STATUS_CONCAT(a, b) DM_STATUS_CONCAT_INNER(a, b)

#define DM_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::absl::Status dm_status_ = (expr); \
    if (!dm_status_.ok()) [[unlikely]]  \
      return dm_status_;                \
  } while (false)

#define DM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) [[unlikely]]                    \
    return tmp.status();                         \
  lhs = std::move(tmp).value()

#define DM_ASSIGN_OR_RETURN(lhs, expr) \
  DM_ASSIGN_OR_RETURN_IMPL(DM_STATUS_CONCAT(dm_statusor_, __LINE__), lhs, expr)
