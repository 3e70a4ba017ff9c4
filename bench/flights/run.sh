#!/usr/bin/env bash
# diffmesh beside DuckDB on the vega flights data (3M rows of date, delay,
# distance, origin, destination), same run, same machine: prints one markdown
# table on stdout, progress on stderr.
#
#   bash bench/flights/run.sh [--rows N] [--runs R]
#     --rows N  use only the first N rows of the 3M-row file everywhere (quick run)
#     --runs R  runs per measurement, medians reported (default 3)
#
# What it does:
#  1. installs what is missing of nodejs, npm and time (/usr/bin/time) with apt-get;
#  2. in the cache directory ${DIFFMESH_BENCH_CACHE:-$HOME/.cache/diffmesh-bench}
#     runs `npm ci` on the pinned package.json/package-lock.json beside this
#     script (vega-datasets for the data, @duckdb/node-api for DuckDB), only
#     when node_modules is missing or the lock changed;
#  3. takes flights-3m.parquet, flights-200k.json and flights-20k.json from
#     vega-datasets, converts the Parquet file to CSV once (with DuckDB, header
#     row, dates as 'YYYY-MM-DD HH:MM:SS') and flights-200k.json to JSON Lines,
#     and cuts the CSV's 10K/100K/1M-row prefixes;
#  4. measures DuckDB with duckdb_side.mjs, and diffmesh with
#     build/bench/flights_bench (read / load / append) when that binary exists:
#     without it the diffmesh column stays empty. DIFFMESH_FLIGHTS_BENCH
#     names another driver binary (a path that does not exist gives the
#     DuckDB column alone).
# Nothing fetched or made leaves the cache directory (the temporary stores of
# a run live under it too and are removed at exit).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DIFFMESH_BENCH_CACHE:-$HOME/.cache/diffmesh-bench}
driver=${DIFFMESH_FLIGHTS_BENCH:-$root/build/bench/flights_bench}
full_rows=3000000
rows=$full_rows
runs=3

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=${2:?--rows wants a number}; shift 2 ;;
    --runs) runs=${2:?--runs wants a number}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $rows =~ ^[0-9]+$ && $rows -ge 1 ]] || { echo "--rows wants a positive number" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "--runs wants a positive number" >&2; exit 2; }
[ "$rows" -gt "$full_rows" ] && rows=$full_rows

# Shared with profile.sh: packages, npm, the DuckDB side, the data.
source "$here/common.sh"

# Row counts of the size sweep: 10K, 100K, 1M, 3M, those below --rows, and --rows.
sizes=()
for n in 10000 100000 1000000; do [ "$n" -lt "$rows" ] && sizes+=("$n"); done
sizes+=("$rows")
main_csv=$(csv_for "$rows")
rows_label=$(label_rows "$rows")

t_all=$(now)
ensure_packages
t_fetch=$(now)
ensure_node_modules
ensure_data
fetch_s=$(since "$t_fetch")
log "fetch/convert step: ${fetch_s} s"
work=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
csv_bytes=$(stat -c %s "$main_csv")
json=$data/flights-200k.json
jsonl=$data/flights-200k.jsonl

# Machine limit: sequential read of the CSV from the page cache (wc -l, second run).
wc -l "$main_csv" >/dev/null
t0=$(now); wc -l "$main_csv" >/dev/null; t1=$(now)
wc_mbs=$(awk -v b="$csv_bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }')
log "wc -l $(basename "$main_csv"): $wc_mbs MB/s"

# --- 4a. DuckDB ------------------------------------------------------------------
declare -A D=() M=()
duck_version=$(duck version | val duckdb_version)

log "DuckDB: SUMMARIZE $(basename "$main_csv")"
out=$(duck summarize_csv "$main_csv" --runs "$runs")
D[summarize_s]=$(val seconds <<<"$out")
duck_threads=$(val threads <<<"$out")

log "DuckDB: load_durable $(basename "$main_csv") x$runs, each its own process under /usr/bin/time -v"
secs=(); bytes=(); rss=()
for ((i = 1; i <= runs; i++)); do
  out=$(cd "$cache/node" && /usr/bin/time -v -o "$work/time.txt" \
          node duckdb_side.mjs load_durable "$main_csv" --runs 1 --tmp "$work")
  secs+=("$(val seconds <<<"$out")"); bytes+=("$(val db_bytes <<<"$out")"); rss+=("$(rss_mib "$work/time.txt")")
done
D[load_s]=$(printf '%s\n' "${secs[@]}" | median)
D[store_mb]=$(printf '%s\n' "${bytes[@]}" | median | awk '{ print $1 / 1e6 }')
D[rss_mib]=$(printf '%s\n' "${rss[@]}" | median)

for n in "${sizes[@]}"; do
  f=$(csv_for "$n")
  batch=0; [ "$n" -eq "$rows" ] && batch=1000
  log "DuckDB: insert_one on $(basename "$f") (100 single-row inserts$([ $batch -gt 0 ] && echo ", then ${runs}x one INSERT of $batch rows"))"
  out=$(duck insert_one "$f" --runs "$runs" --inserts 100 --batch "$batch" --tmp "$work")
  D[one_$n]=$(val insert_one_median_ms <<<"$out")
  D[one_p90_$n]=$(val insert_one_p90_ms <<<"$out")
  [ $batch -gt 0 ] && D[batch_ms]=$(val insert_batch_median_ms <<<"$out")
done

log "DuckDB: read_csv $(basename "$main_csv")"
D[csv_mbs]=$(duck read_csv_throughput "$main_csv" --runs "$runs" | val mb_per_s)
log "DuckDB: read_json $(basename "$json")"
D[json_mbs]=$(duck read_json_throughput "$json" --runs "$runs" | val mb_per_s)
log "DuckDB: read_json $(basename "$jsonl")"
D[jsonl_mbs]=$(duck read_json_throughput "$jsonl" --runs "$runs" | val mb_per_s)

# --- 4b. diffmesh ----------------------------------------------------------------
have_driver=0
if [ -x "$driver" ]; then
  have_driver=1
else
  log "no diffmesh driver at ${driver#"$root"/} (build it first): DuckDB column only"
fi

# Runs the driver, its stdout captured; a failure is logged and leaves the cell empty.
dm() {
  local o
  if o=$("$driver" "$@"); then echo "$o"; else log "flights_bench $1 failed (exit $?)"; fi
}

if [ $have_driver -eq 1 ]; then
  log "diffmesh: load $(basename "$main_csv") x$runs under /usr/bin/time -v"
  secs=(); bytes=(); rss=()
  for ((i = 1; i <= runs; i++)); do
    rm -rf "$work/store"
    if out=$(/usr/bin/time -v -o "$work/time.txt" "$driver" load "$main_csv" "$work/store"); then
      secs+=("$(val seconds <<<"$out")"); bytes+=("$(val store_bytes <<<"$out")"); rss+=("$(rss_mib "$work/time.txt")")
    else
      log "flights_bench load failed"
    fi
  done
  if [ ${#secs[@]} -gt 0 ]; then
    M[load_s]=$(printf '%s\n' "${secs[@]}" | median)
    M[store_mb]=$(printf '%s\n' "${bytes[@]}" | median | awk '{ print $1 / 1e6 }')
    M[rss_mib]=$(printf '%s\n' "${rss[@]}" | median)
  fi

  # append writes to its FILE: each run gets its own copy and a fresh store.
  append() {  # CSV ROWS ROUNDS -> driver output
    rm -rf "$work/store"; cp "$1" "$work/append.csv"
    dm append "$work/append.csv" "$work/store" "$2" "$3"
  }
  for n in "${sizes[@]}"; do
    f=$(csv_for "$n")
    log "diffmesh: append 1 row x20 rounds to $(basename "$f")"
    out=$(append "$f" 1 20)
    M[one_$n]=$(val median_ms <<<"$out"); M[one_p90_$n]=$(val p90_ms <<<"$out")
  done
  log "diffmesh: append 1000 rows x5 rounds to $(basename "$main_csv")"
  M[batch_ms]=$(append "$main_csv" 1000 5 | val median_ms)
  rm -rf "$work/store" "$work/append.csv"

  read_mbs() {  # FILE -> MB/s from the median of $runs reads
    local f=$1 s=()
    for ((i = 1; i <= runs; i++)); do s+=("$(dm read "$f" | val seconds)"); done
    printf '%s\n' "${s[@]}" | awk 'NF' | median | awk -v b="$(stat -c %s "$f")" 'NF && $1 > 0 { printf "%.4g", b / $1 / 1e6 }'
  }
  log "diffmesh: read $(basename "$main_csv")"; M[csv_mbs]=$(read_mbs "$main_csv")
  log "diffmesh: read $(basename "$json")"; M[json_mbs]=$(read_mbs "$json")
  log "diffmesh: read $(basename "$jsonl")"; M[jsonl_mbs]=$(read_mbs "$jsonl")
fi

# --- table ---------------------------------------------------------------------
# cell VALUE [DIGITS]: the number to DIGITS significant digits (whole numbers
# from 1000 up), or a dash when there is none.
cell() { awk -v v="${1:-}" -v d="${2:-3}" 'BEGIN { if (v == "") print "—";
  else if (v + 0 >= 10 ^ d || -v >= 10 ^ d) printf "%.0f\n", v; else printf "%.*g\n", d, v }'; }
# ratio A B: A / B, or a dash.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2fx\n", a / b }'; }
row() {  # LABEL KEY [DIGITS]
  printf '| %s | %s | %s | %s |\n' "$1" "$(cell "${M[$2]:-}" "${3:-3}")" "$(cell "${D[$2]:-}" "${3:-3}")" \
    "$(ratio "${M[$2]:-}" "${D[$2]:-}")"
}
pair() {  # LABEL KEY: median (p90) for the one-row appends
  local m="—" d="—"
  [ -n "${M[$2]:-}" ] && m="$(cell "${M[$2]}") ($(cell "${M[one_p90_${2#one_}]:-}"))"
  [ -n "${D[$2]:-}" ] && d="$(cell "${D[$2]}") ($(cell "${D[one_p90_${2#one_}]:-}"))"
  printf '| %s | %s | %s | %s |\n' "$1" "$m" "$d" "$(ratio "${M[$2]:-}" "${D[$2]:-}")"
}

csv_mb=$(awk -v b="$csv_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "| step | diffmesh | DuckDB | ratio |"
echo "|---|---|---|---|"
row "product from the ${rows_label}-row CSV, durable (s)" load_s
row "peak RSS of that load (MiB)" rss_mib
row "store on disk (MB; the CSV is $csv_mb MB)" store_mb
for n in "${sizes[@]}"; do
  pair "one appended row at $(label_rows "$n") rows, median (p90) ms" "one_$n"
done
row "1,000 appended rows at ${rows_label} rows (ms)" batch_ms
row "CSV read (MB/s; wc -l reads $wc_mbs MB/s)" csv_mbs
row "JSON read, flights-200k.json (MB/s)" json_mbs
row "JSON Lines read, flights-200k.jsonl (MB/s)" jsonl_mbs
row "SUMMARIZE of the CSV, every column profiled (s)" summarize_s
echo
echo "DuckDB $duck_version ($duck_threads threads); diffmesh $([ $have_driver -eq 1 ] && echo "${driver#"$root"/}" || echo 'not built');" \
  "medians of $runs runs; ratio = diffmesh / DuckDB; one-row figures: diffmesh 20 rounds, DuckDB 100 autocommit INSERTs."
log "done in $(since "$t_all") s (fetch/convert ${fetch_s} s)"
