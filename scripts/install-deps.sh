#!/usr/bin/env bash
# Installs the Debian packages diffmesh needs to build and test, if missing.
# Idempotent: does nothing when everything is present.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libtbb-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler
  librocksdb-dev libbenchmark-dev libgtest-dev libgmock-dev libxxhash-dev libsimdjson-dev liblz4-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libre2-dev libcpp-httplib-dev
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  openmpi-bin libopenmpi-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
