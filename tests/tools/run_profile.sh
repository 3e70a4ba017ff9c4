#!/usr/bin/env bash
# Runs the diffmesh program on a file it writes: the profile on stdout,
# progress on stderr, exit 0; a missing file exits 1 naming it; bad
# arguments exit 2; a failing check of severity error exits 3.
set -euo pipefail
program=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'id,amount\n1,10\n2,20\n' > "$dir/a.csv"
cp "$dir/a.csv" "$dir/b.csv"
printf '3,60\n' >> "$dir/b.csv"
"$program" profile "$dir/a.csv" --then "$dir/b.csv" > "$dir/out" 2> "$dir/err"
grep -q '"version":0' "$dir/out"
grep -q '"rows":3' "$dir/out"
grep -q '"mean":30.0' "$dir/out"
grep -q 'rows/s' "$dir/err"
[ "$(wc -l < "$dir/out")" -eq 2 ]
set +e
"$program" profile "$dir/none.csv" 2> "$dir/err"; code=$?
set -e
[ "$code" -eq 1 ] && grep -q 'none.csv: no such file' "$dir/err"
set +e
"$program" profile 2> /dev/null; code=$?
set -e
[ "$code" -eq 2 ]
# A contract whose error check fails: the output is complete, exit 3.
cat > "$dir/c.yaml" <<'YAML'
apiVersion: v3.1.0
kind: DataContract
id: c
version: 1.0.0
status: active
schema:
  - name: t
    quality:
      - metric: rowCount
        mustBeGreaterThan: 5
YAML
set +e
"$program" profile "$dir/a.csv" --contract "$dir/c.yaml" > "$dir/out" 2> "$dir/err"; code=$?
set -e
[ "$code" -eq 3 ] && grep -q '"passed":false' "$dir/out" && grep -q 'severity error fail' "$dir/err"
echo "cli.profile: ok"
