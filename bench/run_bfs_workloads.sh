#!/usr/bin/env bash
# Runs the bfs workloads of the reference table, REPEAT times each (default
# 3), and prints one row per workload: medians of stable time, round median
# and p99 latency, and peak RSS.
#   bash bench/run_bfs_workloads.sh [REPEAT] [-w N]
# BFS=path runs another build's driver (for before/after pairs).
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-3}"
shift || true
bfs="${BFS:-build/bench/bfs}"
[ -x "$bfs" ] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '| workload | stable s | round median ms | round p99 ms | peak RSS MiB |\n|---|---|---|---|---|\n'
for w in "10000 50000 1 1000" "100000 200000 1 1000" "100000 500000 10 100" \
         "1000000 2000000 10 100" "1000000 10000000 100 100"; do
  stable=(); med=(); p99=(); rss=()
  for ((i = 0; i < repeat; i++)); do
    out=$($bfs $w "$@")
    stable+=("$(awk -F'\t' '$2 == "stable" {sub("s", "", $1); print $1}' <<<"$out")")
    lat=$(awk -F'\t' '/:\t/ {print $3}' <<<"$out" | sort -n)
    n=$(wc -l <<<"$lat")
    med+=("$(sed -n "$(((n + 1) / 2))p" <<<"$lat" | awk '{print $1 / 1e6}')")
    p=$(( (n * 99 + 99) / 100 )); [ "$p" -gt "$n" ] && p=$n
    p99+=("$(sed -n "${p}p" <<<"$lat" | awk '{print $1 / 1e6}')")
    rss+=("$(awk '/peak RSS/ {print $3}' <<<"$out")")
  done
  printf '| %s | %.3f | %.3f | %.3f | %.1f |\n' "$w" \
    "$(printf '%s\n' "${stable[@]}" | median)" "$(printf '%s\n' "${med[@]}" | median)" \
    "$(printf '%s\n' "${p99[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)"
done
