#!/usr/bin/env bash
# A failing process ends a run across processes with an error instead of a
# hang (tests/engine/process_fault_main.cc):
#   process_faults.sh MPIRUN_SH PROCESS_FAULT_BINARY
# 1. rank 1's body returns an error: both ranks report it, naming the
#    worker and the process, and mpirun exits non-zero;
# 2. rank 1 is killed: mpirun ends the job within the timeout, exits
#    non-zero and names the rank;
# 3. nobody fails: both ranks finish every round.
set -uo pipefail
mpirun_sh="$1"
program="$2"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }

timeout 120 bash "$mpirun_sh" -np 2 "$program" error 1 > "$out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "error run: exit code $rc (want non-zero, not a timeout)"
n=$(grep -c 'error: INVALID_ARGUMENT: worker 1 (process 1): rank 1 gave up at round 50' "$out")
[ "$n" -eq 2 ] || fail "error run: $n of 2 ranks reported the failing worker"

start=$(date +%s)
timeout 120 bash "$mpirun_sh" -np 2 "$program" kill 1 > "$out" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "kill run: exit code $rc (want non-zero, not a timeout)"
grep -q 'rank 1' "$out" || fail "kill run: mpirun did not name rank 1"
grep -q 'done:' "$out" && fail "kill run: a rank finished although its peer died"

timeout 120 bash "$mpirun_sh" -np 2 "$program" none 0 > "$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "clean run: exit code $rc"
n=$(grep -c 'done: 200 rounds' "$out")
[ "$n" -eq 2 ] || fail "clean run: $n of 2 ranks finished"
echo "ok: error reported by both ranks; killed rank ended the job in ${elapsed}s; clean run finished"
