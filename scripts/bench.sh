#!/usr/bin/env bash
# Runs every benchmark in bench/ on a release build. Each prints its figures and a ratio against a
# peer measured in the same run. Not a test: never gates CI. Extra arguments go to each binary
# (e.g. --benchmark_filter=Sha256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh --bench
cmake --preset release
cmake --build --preset release
# The import benchmark also needs the debian image (debootstrap: a few minutes, then cached).
export GROVE_TEST_IMAGES=${GROVE_TEST_IMAGES:-$HOME/.cache/grove-tests/bench-images}
scripts/test-images.sh "$GROVE_TEST_IMAGES" --with-debian
for bench in build/release/bench/grove_bench_*; do
    echo "== $(basename "$bench")"
    "$bench" "$@"
done
