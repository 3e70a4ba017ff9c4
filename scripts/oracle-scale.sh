#!/usr/bin/env bash
# Every oracle test (operators, row tables, the lineage closure) with many
# seeds on 1, 2, 3 and 4 workers, and the total of cases checked:
#   bash scripts/oracle-scale.sh [SEEDS]        # default 500: over 10^5 cases
# A case is one seed on one worker count: a random sequence of inserts and
# retractions whose output is compared with a from-scratch computation at
# every time. Exits non-zero on the first mismatch (its seed is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-500}"
bash scripts/install-deps.sh
bash scripts/build.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for binary in stateless_test laws_test join_test reduce_test iterate_test \
              table_test transitive_closure_test; do
  echo "oracle-scale: $binary, $seeds seeds per test and worker count"
  DIFFMESH_ORACLE_SEEDS="$seeds" "build/tests/$binary" --gtest_brief=1 \
    | tee -a "$log" | grep -E '^\[oracle\]|FAILED|Failure' || true
  if grep -q 'FAILED' "$log"; then
    echo "oracle-scale: FAILED in $binary" >&2
    exit 1
  fi
done
total=$(awk '/^\[oracle\]/ {sum += $3} END {print sum + 0}' "$log")
tests=$(grep -c '^\[oracle\]' "$log")
echo "oracle-scale: $total cases in $tests oracle tests, 0 mismatches"
