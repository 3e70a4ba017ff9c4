#!/usr/bin/env bash
# The main job: installs everything, fetches the public sample data, builds
# the diffmesh program (only what it runs) and starts the live demo mesh:
#   bash scripts/run.sh [diffmesh demo options: --port 8080 --data-dir DIR
#                        --speed X --for DURATION ...]
# State, source files and sample are in ./diffmesh-data (or --data-dir);
# running again continues where the last run stopped. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
data_dir=./diffmesh-data
given=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --data-dir) data_dir=${args[i + 1]:-$data_dir}; given=(x) ;;
    --data-dir=*) data_dir=${args[i]#--data-dir=}; given=(x) ;;
  esac
done
bash scripts/demo-data.sh "$data_dir" || true
bash scripts/npm-deps.sh || echo "run: the dashboard's graph libraries could not be installed; the API still runs" >&2
bash scripts/build.sh --target diffmesh_program
[ ${#given[@]} -gt 0 ] || set -- --data-dir "$data_dir" "$@"
exec "${BUILD_DIR:-build}/tools/cli/diffmesh" demo "$@"
