// The text update-log format read by the examples, tests and tools.
//
//   # comment
//   0 +1 1 2      <- TIME DIFF FIELD...: edge 1 -> 2 inserted at time 0
//   3 -1 1 2      <- removed at time 3
//
//   DM_ASSIGN_OR_RETURN(std::vector<LogUpdate> edges, ReadTextLog("edges.log",
//   2));
//
// TIME is an unsigned 64-bit integer, DIFF a signed 64-bit integer (a
// leading '+' allowed), FIELDs unsigned 32-bit integers, separated by spaces
// or tabs. Blank lines and lines starting with '#' are ignored; lines need
// not be sorted. Every malformed line is an InvalidArgument error naming
// the file, the line number and the reason.
// Thread-safety: functions of their arguments (and the file they read)
// only; call them from any thread.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/log_update.h"

namespace diffmesh {

// `fields` is the number of FIELDs every line must have (-1: any number).
absl::StatusOr<std::vector<LogUpdate>> ParseTextLog(absl::string_view text,
                                                    absl::string_view name,
                                                    int fields);
absl::StatusOr<std::vector<LogUpdate>> ReadTextLog(const std::string& path,
                                                   int fields);

// Consolidates `updates` (equal time and fields summed, zeros dropped) and
// prints them sorted by time, then fields: "TIME DIFF FIELD...\n" each. A
// sum that does not fit 64 bits is printed as several lines of the same
// time and fields that add up to it.
std::string FormatTextLog(std::vector<LogUpdate> updates);

}  // namespace diffmesh
