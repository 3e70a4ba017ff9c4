#include "engine/stable_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace diffmesh {

uint64_t StableHashBytes(const void* data, size_t size) {
  return XXH3_64bits(data, size);
}

}  // namespace diffmesh
