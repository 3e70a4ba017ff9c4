#!/usr/bin/env bash
# Kill -9 the crash writer (tools/crash/crash_writer.cc) again and again and
# let each start check the mesh against the acknowledged edits.
#
#   bash tools/crash/crash_test.sh --writer build/tools/crash/crash_writer \
#        [--cycles 20] [--seed N] [--dir DIR] [--keep]
#
# Each cycle starts the writer on the same directory and kills it: after a
# random delay (SIGKILL from here), or at an injected point inside the store
# write path (the writer kills itself: before or after the N-th write call
# into the store, or at the N-th write, sync or close of a RocksDB file: the
# write-ahead log, an ingested table file, the manifest). Every start checks
# the restored mesh against an oracle of the acknowledged edits (see the
# writer's header) and a last start checks the final state. The seed is
# printed; the same seed gives the same edits and kill points (the moments of
# the delayed kills vary with the machine). Exit 0 when every check passed.
set -euo pipefail

writer="" cycles=20 seed="" dir="" keep=0
while (($#)); do
  case "$1" in
    --writer) writer="$2"; shift 2 ;;
    --cycles) cycles="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "crash_test: unknown argument $1" >&2; exit 64 ;;
  esac
done
if [[ -z "$writer" || ! -x "$writer" ]]; then
  echo "crash_test: --writer must name the crash_writer binary" >&2
  exit 64
fi
[[ -n "$seed" ]] || seed=$(( (RANDOM << 15) | RANDOM ))
if [[ -z "$dir" ]]; then
  dir=$(mktemp -d)
  ((keep)) || trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
acks="$dir/acks.log"
log="$dir/writer.log"
touch "$acks" "$log"
RANDOM=$seed
echo "crash_test: seed $seed, $cycles cycles, directory $dir"

fail() {
  echo "crash_test: FAILED ($1); seed $seed; last lines of $acks:" >&2
  tail -n 20 "$acks" >&2
  echo "--- writer stderr:" >&2
  tail -n 20 "$log" >&2
  exit 1
}

killed_delay=0 killed_store=0 killed_file=0 restarts=0 starts=0
for ((cycle = 1; cycle <= cycles; ++cycle)); do
  mode=$((RANDOM % 4))
  kill_arg=()
  delay_ms=$((50 + RANDOM % 1500))
  case $mode in
    0) ;;  # a random moment
    1) kill_arg=(--kill "store:$((1 + RANDOM % 12)):before") ;;
    2) kill_arg=(--kill "store:$((1 + RANDOM % 12)):after") ;;
    3) kill_arg=(--kill "file:$((1 + RANDOM % 150))") ;;
  esac
  # An injected point that is never reached: the delay kills instead.
  ((mode == 0)) || delay_ms=$((delay_ms + 3000))
  "$writer" --dir "$dir" --seed "$seed" --acks "$acks" "${kill_arg[@]}" \
    >>"$acks" 2>>"$log" &
  pid=$!
  # (bash reports a killed job on stderr; the status says it here.)
  ((++starts))
  (sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
   kill -9 "$pid" 2>/dev/null || true) &
  killer=$!
  status=0
  { wait "$pid"; } 2>/dev/null || status=$?
  kill "$killer" 2>/dev/null || true
  wait "$killer" 2>/dev/null || true
  case $status in
    137)
      case $mode in 0) ((++killed_delay)) ;; 1|2) ((++killed_store)) ;; 3) ((++killed_file)) ;; esac ;;
    3) ((++restarts)) ;;
    0) fail "the writer finished its edits; give it more" ;;
    2) fail "a check found a mismatch" ;;
    *) fail "the writer exited with status $status" ;;
  esac
  if grep -q '^# MISMATCH' "$acks"; then fail "a check found a mismatch"; fi
done

status=0
"$writer" --dir "$dir" --seed "$seed" --acks "$acks" --check-only \
  >>"$acks" 2>>"$log" || status=$?
((++starts))
((status == 0)) || fail "the final check exited with status $status"
acked=$(grep -c '^ack ' "$acks" || true)
# A start killed before its first Refresh ends has no check to report.
checks=$(grep -c '^# check ok' "$acks" || true)
((checks > 0)) || fail "no start got as far as its check"
echo "crash_test: seed $seed: $cycles cycles ($killed_delay killed at a random" \
  "moment, $killed_store inside a store write call, $killed_file at a RocksDB" \
  "file write; $restarts restarts asked for), $acked edits acknowledged," \
  "$checks of $starts starts checked (the others were killed first), 0 lost," \
  "0 doubled"
