#!/usr/bin/env bash
# The installed client library as a user meets it: install grove into a temporary prefix, build
# examples/ out of tree with find_package(grove), and run the example on a fresh embedded store
# with the busybox test image. Needs root (the example runs containers): exit 77 (skip) without.
# usage: client_package_test.sh <build dir> <examples dir> <c++ compiler>
set -euo pipefail
build=$1 examples=$2 cxx=$3
if [[ $(id -u) -ne 0 ]]; then
    echo "skipped: needs root"
    exit 77
fi
tmp=$(mktemp -d /var/tmp/grove-package-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/grove/client.hpp"
test -f "$tmp/prefix/lib/cmake/grove/grove-config.cmake"
cmake -S "$examples" -B "$tmp/example" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" >/dev/null

out=$(GROVE_ROOT="$tmp/store" "$tmp/example/grove_example" "oci:$GROVE_TEST_IMAGES/busybox:latest")
echo "$out"
grep -qx "popen: hello from grove" <<<"$out"
grep -qx "main after rollback: one" <<<"$out"
[[ $(grep -c "^history: " <<<"$out") -eq 2 ]]
