#!/usr/bin/env bash
# The main job: installs everything, builds, and runs the retail mesh example
# (state in ./diffmesh-data, restored when run again).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
"${BUILD_DIR:-build}/examples/retail_mesh" "$@"
