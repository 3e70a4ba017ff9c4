#!/usr/bin/env bash
# Installs diffmesh from BUILD_DIR into a temporary prefix, builds
# tests/package (a program of its own, find_package(diffmesh)) against it
# and checks what it prints.
#   bash tests/package/check.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: check.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$work/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
mkdir -p "$work/run"
got=$("$work/build/consumer" "$work/run")
want='(7, 1, 30)
(8, 2, 25)
inserted 1
("", "rows", 4, null)
("amount", "max", 30, "30")
orders.status.invalidValues passed yes'
if [ "$got" != "$want" ]; then
  echo "package: the consumer printed" >&2
  echo "$got" >&2
  echo "package: expected" >&2
  echo "$want" >&2
  exit 1
fi
echo "package: find_package(diffmesh) from an install builds and runs the README example, with governance"
