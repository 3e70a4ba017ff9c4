// Source health: whether each source of a mesh could read its files at its
// last poll. A source whose poll fails (a file that vanished, a permission
// error, a read error) keeps the rows it last read, the mesh's other
// sources go on, and its status says why until a poll reads it again.
//
//   SourceStatus s{.id = "sales.orders"};
//   ApplyPoll(&s, absl::NotFoundError("..."), 7);   // true: failing since 7
//   ApplyPoll(&s, absl::OkStatus(), 9);             // true: recovered at 9
//
// The mesh's history (catalog/mesh_history.h) keeps them: every change of a
// status is a change on the stream "source <id>" (the old status
// retracted, the new one inserted), so a subscriber sees failures and
// recoveries, and every snapshot holds each source's status as of its
// time.
// Thread compatibility: one caller at a time (the mesh holds its lock).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace diffmesh {

struct SourceStatus {
  std::string id;
  absl::Status status;       // OK, or the error of the polls failing now
  uint64_t since = 0;        // the mesh time this status began at
  int64_t failed_polls = 0;  // polls failed in a row (0 when OK)

  // "ok" or "failing: <code>: <message>", as in the change feed.
  std::string Describe() const;
  friend bool operator==(const SourceStatus&, const SourceStatus&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.id, self.status, self.since, self.failed_polls);
  }
};

// A poll of `*s`'s source at mesh time `time` ended with `status`:
// updates *s (its failed polls, and its status and since when the status
// changed) and returns whether the status changed (a first poll that
// succeeds changes nothing: a source is OK until a poll fails). The
// message matters: a different error is a change.
bool ApplyPoll(SourceStatus* s, const absl::Status& status, uint64_t time);

}  // namespace diffmesh
