# Sourced by run.sh and profile.sh: what both need before they measure.
# Expects: here (this directory), cache (the cache directory), full_rows
# (3000000); ensure_data also reads `sizes` (row counts to cut prefixes of).
# log_name names the caller in progress lines.

log() { echo "[${log_name:-flights} $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# The value of KEY in `key value` lines on stdin.
# (Reads all its input, so the writer never meets a closed pipe.)
val() { awk -v k="$1" '$1 == k && !seen { print $2; seen = 1 }'; }
# Median of the numbers on stdin, one a line.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
# Peak RSS in MiB from a `/usr/bin/time -v -o FILE` report.
rss_mib() { awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
label_rows() { awk -v n="$1" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM", n / 1e6;
  else if (n >= 1e3 && n % 1e3 == 0) printf "%dK", n / 1e3; else printf "%d", n }'; }

# --- 1. Debian packages --------------------------------------------------------
ensure_packages() {
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ -x /usr/bin/time ] || missing+=(time)
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# --- 2. npm packages (pinned by the lock) into the cache ------------------------
ensure_node_modules() {
  local dir=$cache/node sum
  mkdir -p "$dir"
  for f in package.json package-lock.json duckdb_side.mjs; do  # the files the DuckDB side runs from
    cmp -s "$here/$f" "$dir/$f" || cp "$here/$f" "$dir/$f"
  done
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$dir/.lock-sha256" 2>/dev/null)" != "$sum" ]; then
    log "npm ci in $dir"
    rm -f "$dir/.lock-sha256"
    (cd "$dir" && npm ci --no-audit --no-fund >&2)
    echo "$sum" >"$dir/.lock-sha256"
  fi
}

# DuckDB side: node duckdb_side.mjs ARGS... (from the cache, next to node_modules).
duck() { (cd "$cache/node" && node duckdb_side.mjs "$@"); }

# --- 3. data -------------------------------------------------------------------
data=$cache/data
# The CSV holding the first N rows of the 3M-row file (header + N lines).
csv_for() { if [ "$1" -eq "$full_rows" ]; then echo "$data/flights-3m.csv"; else echo "$data/flights-$1.csv"; fi; }

ensure_data() {
  local src=$cache/node/node_modules/vega-datasets/data f n out
  mkdir -p "$data"
  for f in flights-3m.parquet flights-200k.json flights-20k.json; do
    [ -f "$src/$f" ] || { echo "vega-datasets has no data/$f" >&2; exit 1; }
    cmp -s "$src/$f" "$data/$f" || cp "$src/$f" "$data/$f"
  done
  if [ ! "$data/flights-3m.csv" -nt "$data/flights-3m.parquet" ]; then
    log "converting flights-3m.parquet to CSV"
    duck to_csv "$data/flights-3m.parquet" "$data/flights-3m.csv" >/dev/null
  fi
  if [ ! "$data/flights-200k.jsonl" -nt "$data/flights-200k.json" ]; then
    log "converting flights-200k.json to JSON Lines"
    duck to_jsonl "$data/flights-200k.json" "$data/flights-200k.jsonl" >/dev/null
  fi
  for n in "${sizes[@]}"; do
    [ "$n" -eq "$full_rows" ] && continue
    out=$(csv_for "$n")
    [ "$out" -nt "$data/flights-3m.csv" ] && continue
    log "cutting the first $n rows into $(basename "$out")"
    head -n $((n + 1)) "$data/flights-3m.csv" >"$out.tmp" && mv "$out.tmp" "$out"
  done
}

