#!/usr/bin/env bash
# run_retail_mesh.sh EXPECTED_FILE PROGRAM [ARGS...]
# Runs examples/retail_mesh (PROGRAM ARGS..., e.g. under mpirun) twice on a
# fresh store: the first run's output
# must equal EXPECTED_FILE (its figures checked by hand); the second run restores the
# first run's mesh and must end with the same products, catalog and lineage.
set -u
expected="$1"
shift
program=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! "${program[@]}" --data-dir "$work/store" >"$work/run1.txt" 2>"$work/err1.txt"; then
  echo "first run failed:"; cat "$work/err1.txt"; exit 1
fi
if ! diff -u "$expected" "$work/run1.txt"; then exit 1; fi
if ! "${program[@]}" --data-dir "$work/store" >"$work/run2.txt" 2>"$work/err2.txt"; then
  echo "second run failed:"; cat "$work/err2.txt"; exit 1
fi
for line in "restoring the mesh stored at time 6" \
            "  sales.orders_enriched identical: yes" \
            "  sales.orders_by_status identical: yes" \
            "  catalog identical: yes" "  lineage identical: yes"; do
  if ! grep -qxF -- "$line" "$work/run2.txt"; then
    echo "second run lacks '$line':"; cat "$work/run2.txt"; exit 1
  fi
done
echo "first run matches $(basename "$expected"); second run restored the mesh"
