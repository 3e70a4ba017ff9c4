// Every benchmark program tunes the allocator for the engine's pattern at
// start-up (engine/memory.h): the figures in bench/README.md are measured
// so. A program using the library leaves malloc alone unless it asks.
#include "engine/memory.h"

namespace {

const bool kTuned = [] {
  diffmesh::TuneAllocator();
  return true;
}();

}  // namespace
