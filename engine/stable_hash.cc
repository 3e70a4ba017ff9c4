#include "engine/stable_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace diffmesh {

uint64_t StableHashBytes(const void* data, size_t size) {
  return XXH3_64bits(data, size);
}

Hash128 StableHash128Bytes(const void* data, size_t size) {
  XXH128_hash_t h = XXH3_128bits(data, size);
  return {h.low64, h.high64};
}

}  // namespace diffmesh
