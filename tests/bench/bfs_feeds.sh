#!/usr/bin/env bash
# bfs_feeds.sh BFS [RUNNER...] -- ARGS...
# Runs the bfs scenario driver with `inspect` on one worker, then as
# RUNNER BFS ARGS (e.g. with --every-worker-feeds, several workers, under
# mpirun), and checks that both print the same changes of the distance
# histogram: the same graph, the same changes and the same answers, at
# every time, whichever workers fed them.
set -u
bfs="$1"
shift
runner=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do runner+=("$1"); shift; done
shift
histogram() { grep -P '^\t\(\(' | sort; }
want=$("$bfs" 1000 2000 5 20 inspect) || { echo "one worker failed"; exit 1; }
got=$("${runner[@]}" "$bfs" 1000 2000 5 20 inspect "$@") ||
  { echo "run failed: ${runner[*]} $bfs ... $*"; exit 1; }
want=$(histogram <<<"$want")
got=$(histogram <<<"$got")
[ "$(wc -l <<<"$want")" -gt 100 ] || { echo "too few histogram changes"; exit 1; }
if [ "$want" != "$got" ]; then
  diff <(echo "$want") <(echo "$got") | head -20
  exit 1
fi
echo "$(wc -l <<<"$got") histogram changes, as on one worker"
