#!/usr/bin/env bash
# Builds the libFuzzer targets (tools/fuzz) with clang-14, ASan and UBSan
# into build-fuzz/ (or $FUZZ_BUILD_DIR) and runs each one:
#   bash scripts/fuzz.sh            # each target DIFFMESH_FUZZ_SECONDS (5) s
#   bash scripts/fuzz.sh long       # each target DIFFMESH_FUZZ_LONG_SECONDS (300) s
# Inputs that find new coverage are kept in build-fuzz/tools/fuzz/corpus/;
# a crashing input is written to the build directory as crash-<hash>: copy
# it into tools/fuzz/corpus/<target>/ with the fix, so every build replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
label=fuzz
if [ "${1:-}" = long ]; then label=long; fi
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
CXX=clang++-14 cmake -S . -B "$build_dir" -G Ninja -DDIFFMESH_FUZZ=ON \
  -DDIFFMESH_FUZZ_SECONDS="${DIFFMESH_FUZZ_SECONDS:-5}" \
  -DDIFFMESH_FUZZ_LONG_SECONDS="${DIFFMESH_FUZZ_LONG_SECONDS:-300}" >/dev/null
echo "fuzz: compiling the fuzz targets into $build_dir"
cmake --build "$build_dir"
cd "$build_dir"
ctest --output-on-failure -L "$label"
