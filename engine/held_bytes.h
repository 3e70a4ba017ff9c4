// What a worker's state is made of, in bytes (Worker::AddHeldBytes).
//
//   HeldByteParts parts;
//   worker.AddHeldBytes(&parts);
//   parts.Total();   // == worker.HeldBytes() + parts.queued
//
// Sealed batches in traces are split by column (capacities, as allocated);
// the rest is counted whole: partial outputs of merges in progress, batches
// pinned for readers that have not acknowledged them, updates waiting in
// batchers, messages waiting at operator inputs, and the state of
// operators that do not split theirs.
#pragma once

#include <cstddef>

namespace diffmesh {

struct HeldByteParts {
  // Sealed batches held by traces' spines.
  size_t keys = 0;  // packed keys: their arena and end offsets
  size_t vals = 0;
  size_t key_offsets = 0;  // where each key's values start
  size_t val_offsets = 0;  // where each value's updates start
  size_t times = 0;        // plain (time, diff) columns
  size_t diffs = 0;
  size_t codes = 0;  // coded (time, diff)s: codes and their dictionary
  size_t dict = 0;
  size_t updates = 0;  // logical updates in those batches
  size_t batches = 0;
  // Held beside them.
  size_t merging = 0;   // partial outputs of merges in progress
  size_t pinned = 0;    // batches kept only for lagging readers
  size_t batching = 0;  // updates in batchers, not yet sealed
  size_t queued = 0;    // messages waiting at operator inputs
  size_t other = 0;     // other operator state

  size_t InBatches() const {
    return keys + vals + key_offsets + val_offsets + times + diffs + codes +
           dict;
  }
  size_t Total() const {
    return InBatches() + merging + pinned + batching + queued + other;
  }
  HeldByteParts& operator+=(const HeldByteParts& o) {
    keys += o.keys;
    vals += o.vals;
    key_offsets += o.key_offsets;
    val_offsets += o.val_offsets;
    times += o.times;
    diffs += o.diffs;
    codes += o.codes;
    dict += o.dict;
    updates += o.updates;
    batches += o.batches;
    merging += o.merging;
    pinned += o.pinned;
    batching += o.batching;
    queued += o.queued;
    other += o.other;
    return *this;
  }
};

}  // namespace diffmesh
