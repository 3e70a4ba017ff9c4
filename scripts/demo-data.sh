#!/usr/bin/env bash
# Fetches the demo's public sample data: vega-datasets 3.2.1 from the npm
# registry (pinned by tools/demo/npm/package-lock.json), installed with
# `npm ci` into DATA_DIR/npm, and its airports.csv, flights-airport.csv,
# flights-20k.json and movies.json copied into DATA_DIR/sample, where
# `diffmesh demo --data-dir DATA_DIR` reads them.
#   bash scripts/demo-data.sh [DATA_DIR]     # default ./diffmesh-data
# Idempotent: does nothing when the four files are there. Exits 1 with the
# reason when the data cannot be fetched (the demo then generates data of
# the same shapes and says so).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data_dir=${1:-./diffmesh-data}
sample=$data_dir/sample
files=(airports.csv flights-airport.csv flights-20k.json movies.json)
have=1
for f in "${files[@]}"; do [ -s "$sample/$f" ] || have=0; done
if [ "$have" = 1 ]; then
  echo "demo-data: the sample is in $sample"
  exit 0
fi
if ! command -v npm >/dev/null; then
  missing=(npm)
  command -v node >/dev/null || missing+=(nodejs)
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "demo-data: installing ${missing[*]} with apt-get" >&2
  "${sudo[@]}" apt-get update -qq && \
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 || {
      echo "demo-data: cannot install npm; the demo will use generated data" >&2
      exit 1
    }
fi
npm_dir=$data_dir/npm
mkdir -p "$npm_dir" "$sample"
cp "$here/tools/demo/npm/package.json" "$here/tools/demo/npm/package-lock.json" "$npm_dir/"
echo "demo-data: fetching vega-datasets 3.2.1 with npm ci into $npm_dir"
if ! (cd "$npm_dir" && npm ci --no-audit --no-fund --ignore-scripts >&2); then
  echo "demo-data: npm ci failed (no registry?); the demo will use generated data" >&2
  exit 1
fi
for f in "${files[@]}"; do
  src=$npm_dir/node_modules/vega-datasets/data/$f
  [ -s "$src" ] || { echo "demo-data: vega-datasets has no data/$f" >&2; exit 1; }
  cp "$src" "$sample/$f.tmp" && mv "$sample/$f.tmp" "$sample/$f"
done
echo "demo-data: the sample is in $sample ($(du -sh "$sample" | cut -f1))"
