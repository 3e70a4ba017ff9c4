#!/usr/bin/env bash
# The long test tier: the fuzz targets for DIFFMESH_FUZZ_LONG_SECONDS (300)
# each, then ctest -L long in build/ (the oracles with ten times the seeds).
# Installs what is missing and builds first, like scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fuzz.sh long
bash scripts/build.sh
cd build
ctest --output-on-failure -L long
