#!/usr/bin/env bash
# Configures and builds diffmesh into build/ (or $BUILD_DIR) with Ninja.
# DIFFMESH_SANITIZE=address|thread selects a sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DDIFFMESH_SANITIZE="${DIFFMESH_SANITIZE:-}" >/dev/null
echo "build: compiling into $build_dir (first build takes a few minutes on 2 cores)"
cmake --build "$build_dir" "$@"
