#!/usr/bin/env bash
# `diffmesh profile` beside DuckDB's SUMMARIZE, same run, same machine, on the
# vega flights data (3M rows, CSV) and movies.json: prints one markdown table
# on stdout, progress on stderr.
#
#   bash bench/flights/profile.sh [--runs R]
#     --runs R  runs per measurement, medians reported (default 3)
#
# What it measures:
#  - the first profile: `diffmesh profile FILE` (its own figure: reading and
#    profiling, from its progress line) against DuckDB's SUMMARIZE of FILE;
#  - later versions: FILE with 1 and with 1,000 rows appended, given as
#    --then versions; diffmesh's figure is the version's whole time (copying
#    the version into its working file after checking that it extends the
#    previous one, then the mesh's refresh) and, apart, the refresh alone;
#    DuckDB's is SUMMARIZE run again on the new file;
#  - the values: DuckDB computes each column's count, nulls, min, max, mean
#    and sample stddev exactly and they are checked against diffmesh's
#    first profile (duckdb_side.mjs check_profile); a mismatch fails the run.
# Needs build/tools/cli/diffmesh (DIFFMESH_PROGRAM names another). Data and
# npm packages as bench/flights/run.sh (common.sh): in the cache directory
# ${DIFFMESH_BENCH_CACHE:-$HOME/.cache/diffmesh-bench}.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DIFFMESH_BENCH_CACHE:-$HOME/.cache/diffmesh-bench}
program=${DIFFMESH_PROGRAM:-$root/build/tools/cli/diffmesh}
full_rows=3000000
runs=3
log_name=profile
sizes=()

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2:?--runs wants a number}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "--runs wants a positive number" >&2; exit 2; }
[ -x "$program" ] || { echo "no diffmesh program at $program: build it first (ninja -C build diffmesh_program)" >&2; exit 1; }

source "$here/common.sh"
ensure_packages
ensure_node_modules
ensure_data
work=$(mktemp -d "$cache/profile.XXXXXX")
trap 'rm -rf "$work"' EXIT

flights=$data/flights-3m.csv
movies=$cache/node/node_modules/vega-datasets/data/movies.json
[ -f "$movies" ] || { echo "vega-datasets has no data/movies.json" >&2; exit 1; }
# The later versions: the last 1 and 1,000 rows appended once more.
cp "$flights" "$work/plus1.csv"; tail -n 1 "$flights" >>"$work/plus1.csv"
cp "$work/plus1.csv" "$work/plus1001.csv"; tail -n 1000 "$flights" >>"$work/plus1001.csv"

declare -A D=() M=()
# Milliseconds from diffmesh's progress lines.
first_ms() { awk '/ rows, .* quarantined, in / { for (i = 1; i <= NF; i++) if ($i == "in") { printf "%.1f\n", $(i + 1) * 1000; exit } }'; }
version_ms() {  # VERSION FIELD: FIELD 1 = the whole version, 2 = the refresh
  awk -v v="version $1 " -v f="$2" 'index($0, v) {
    n = 0; for (i = 1; i <= NF; i++) if ($i == "ms" || $i == "ms)") { n++; if (n == f) { print $(i - 1); exit } } }'
}

log "diffmesh: profile flights-3m.csv --then +1 row --then +1,000 rows, x$runs"
first=(); v1=(); v1r=(); v2=(); v2r=()
for ((i = 1; i <= runs; i++)); do
  "$program" profile "$flights" --then "$work/plus1.csv" --then "$work/plus1001.csv" \
    >"$work/flights.prof" 2>"$work/flights.err"
  first+=("$(first_ms <"$work/flights.err")")
  v1+=("$(version_ms 1 1 <"$work/flights.err")"); v1r+=("$(version_ms 1 2 <"$work/flights.err")")
  v2+=("$(version_ms 2 1 <"$work/flights.err")"); v2r+=("$(version_ms 2 2 <"$work/flights.err")")
done
M[flights_first]=$(printf '%s\n' "${first[@]}" | median)
M[plus1]=$(printf '%s\n' "${v1[@]}" | median); M[plus1_refresh]=$(printf '%s\n' "${v1r[@]}" | median)
M[plus1000]=$(printf '%s\n' "${v2[@]}" | median); M[plus1000_refresh]=$(printf '%s\n' "${v2r[@]}" | median)

log "diffmesh: profile movies.json, x$runs"
first=()
for ((i = 1; i <= runs; i++)); do
  "$program" profile "$movies" >"$work/movies.prof" 2>"$work/movies.err"
  first+=("$(first_ms <"$work/movies.err")")
done
M[movies_first]=$(printf '%s\n' "${first[@]}" | median)

ms() { awk '{ printf "%.1f\n", $1 * 1000 }'; }
log "DuckDB: SUMMARIZE flights-3m.csv, +1 row, +1,000 rows; movies.json"
D[flights_first]=$(duck summarize "$flights" --runs "$runs" | val seconds | ms)
D[plus1]=$(duck summarize "$work/plus1.csv" --runs "$runs" | val seconds | ms)
D[plus1000]=$(duck summarize "$work/plus1001.csv" --runs "$runs" | val seconds | ms)
D[movies_first]=$(duck summarize "$movies" --runs "$runs" | val seconds | ms)
duck_version=$(duck version | val duckdb_version)

log "checking diffmesh's values against DuckDB's exact ones"
check() {  # FILE PROFILE -> "checked/mismatches/skipped"
  local o; o=$(duck check_profile "$1" "$2")
  echo "$(val checked <<<"$o") $(val mismatches <<<"$o") $(val skipped <<<"$o")"
}
read -r fc fm fs <<<"$(check "$flights" "$work/flights.prof")"
read -r mc mm msk <<<"$(check "$movies" "$work/movies.prof")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2fx\n", a / b }'; }
faster() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == 0) print "—"; else printf "%.0fx faster\n", b / a }'; }
echo "## diffmesh profile beside DuckDB $duck_version SUMMARIZE (medians of $runs runs, ms)"
echo
echo "| measurement | diffmesh | DuckDB | diffmesh / DuckDB |"
echo "|---|---|---|---|"
echo "| flights-3m.csv, first profile | ${M[flights_first]} | ${D[flights_first]} | $(ratio "${M[flights_first]}" "${D[flights_first]}") |"
echo "| + 1 row appended: the version | ${M[plus1]} | ${D[plus1]} | $(faster "${M[plus1]}" "${D[plus1]}") |"
echo "| + 1 row appended: the mesh's refresh alone | ${M[plus1_refresh]} | ${D[plus1]} | $(faster "${M[plus1_refresh]}" "${D[plus1]}") |"
echo "| + 1,000 rows appended: the version | ${M[plus1000]} | ${D[plus1000]} | $(faster "${M[plus1000]}" "${D[plus1000]}") |"
echo "| + 1,000 rows appended: the mesh's refresh alone | ${M[plus1000_refresh]} | ${D[plus1000]} | $(faster "${M[plus1000_refresh]}" "${D[plus1000]}") |"
echo "| movies.json, first profile | ${M[movies_first]} | ${D[movies_first]} | $(ratio "${M[movies_first]}" "${D[movies_first]}") |"
echo
echo "Values checked against DuckDB's exact count, nulls, min, max, mean and stddev:"
echo "flights $fc checked, $fm mismatches; movies $mc checked, $mm mismatches, $msk column(s) skipped (types differ)."
if [ "$fm" != 0 ] || [ "$mm" != 0 ]; then
  log "diffmesh's values differ from DuckDB's (see the mismatches above)"
  exit 1
fi
