#!/usr/bin/env bash
# Runs `diffmesh demo` on generated data: it loads, serves HTTP (the
# catalog is read over a raw socket while it runs), takes replay steps and
# stops at --for; a second run continues the replay from the store; a
# missing sample is said plainly; a bad --for exits 1 naming it.
set -euo pipefail
program=$1
dir=$(mktemp -d)
trap 'kill %1 2>/dev/null || true; rm -rf "$dir"' EXIT

"$program" demo --generate --data-dir "$dir/data" --port 0 --speed 20 --for 4s > "$dir/out1" &
port=
for _ in $(seq 100); do
  port=$(sed -n 's|^serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$dir/out1")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "no 'serving' line:"; cat "$dir/out1"; exit 1; }
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /api/products HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
response=$(cat <&3)
grep -q '200 OK' <<<"$response"
grep -q '"operations.on_time"' <<<"$response"
grep -q '"network.reachable"' <<<"$response"
wait %1
cat "$dir/out1"
grep -q '^sample: generated data' "$dir/out1"
grep -q '^loaded [0-9]* rows in' "$dir/out1"
grep -q '^\[step 1/' "$dir/out1"
steps=$(sed -n 's/^stopped after step \([0-9]*\) of .*consistent.*/\1/p' "$dir/out1")
[ "${steps:-0}" -ge 2 ]

"$program" demo --generate --data-dir "$dir/data" --port 0 --speed 20 --for 2s > "$dir/out2"
cat "$dir/out2"
grep -q "^restored from the store at time [0-9]*; the replay continues at step $((steps + 1)) of" "$dir/out2"
grep -q "^\[step $((steps + 1))/" "$dir/out2"
grep -q '^caught up with the files in' "$dir/out2"

"$program" demo --data-dir "$dir/other" --port 0 --speed 0 --for 1s > "$dir/out3"
grep -q 'airports.csv: not found.*using generated data' "$dir/out3"

set +e
"$program" demo --data-dir "$dir/other" --for soon 2> "$dir/err"; code=$?
set -e
[ "$code" -eq 1 ] && grep -q "\-\-for 'soon'" "$dir/err"
echo "demo: ok"
