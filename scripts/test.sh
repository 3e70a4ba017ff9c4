#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds and runs the
# whole test suite with ctest.
#   DIFFMESH_SANITIZE=address bash scripts/test.sh   # ASan + UBSan build in build-address/
#   DIFFMESH_SANITIZE=thread bash scripts/test.sh    # TSan build in build-thread/
#   DIFFMESH_ORACLE_SEEDS=2000 bash scripts/test.sh  # more oracle seeds
# The long tier (ctest -L long: ten times the oracle seeds, 300 s fuzz runs)
# is bash scripts/test-long.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The dashboard's libraries and the browser test's (chromium, playwright-core).
bash scripts/npm-deps.sh --browser
if [ -n "${DIFFMESH_SANITIZE:-}" ]; then export BUILD_DIR="${BUILD_DIR:-build-$DIFFMESH_SANITIZE}"; fi
if [ "${DIFFMESH_SANITIZE:-}" = thread ]; then
  export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}"
fi
if [ -z "${DIFFMESH_SANITIZE:-}" ]; then
  # Each fuzz target for a few seconds (clang-14 build in build-fuzz/).
  bash scripts/fuzz.sh
fi
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -L default
