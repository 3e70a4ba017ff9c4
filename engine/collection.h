// Collection<D, T, R>: a stream of updates (data, time, diff), the unit every
// operator consumes and produces.
//
//   auto [input, words] = NewInput<std::string>(graph);
//   Collection<std::string> distinct = Distinct(words);   // operators/
//
// A collection is a cheap handle (graph + output port); copying it shares the
// stream, so one collection may feed many operators.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/port.h"
#include "engine/update.h"

namespace diffmesh {

template <class D, class T = uint64_t, class R = int64_t>
struct Collection {
  using Data = D;
  using Time = T;
  using Diff = R;
  using Payload = std::vector<Update<D, T, R>>;

  Stream<T, Payload> stream;

  Graph* graph() const { return stream.graph; }
};

// An empty type: the value of a key-only arrangement.
struct Unit {
  friend auto operator<=>(const Unit&, const Unit&) = default;
  friend bool operator==(const Unit&, const Unit&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Unit&) {
    return h;
  }
};

}  // namespace diffmesh
