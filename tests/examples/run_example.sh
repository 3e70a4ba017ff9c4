#!/usr/bin/env bash
# run_example.sh EXPECTED_FILE|--fail=PATTERN PROGRAM ARGS...
# Runs an example program; compares its output with EXPECTED_FILE, or, with
# --fail=PATTERN, checks that it exits non-zero with PATTERN on stderr.
set -u
expect="$1"
shift
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
code=$?
case "$expect" in
  --fail=*)
    pattern="${expect#--fail=}"
    if [ "$code" -eq 0 ]; then echo "expected failure, got exit 0"; cat "$out"; exit 1; fi
    if ! grep -q -- "$pattern" "$err"; then
      echo "stderr lacks '$pattern':"; cat "$err"; exit 1
    fi
    echo "failed as expected (exit $code): $(cat "$err")"
    ;;
  *)
    if [ "$code" -ne 0 ]; then echo "exit $code"; cat "$err"; exit 1; fi
    if ! diff -u "$expect" "$out"; then exit 1; fi
    echo "output matches $(basename "$expect")"
    ;;
esac
