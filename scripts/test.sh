#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, checks formatting, builds
# with ASan+UBSan and warnings as errors (the `ci` preset), and runs every test (unit,
# integration, root). .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
scripts/check-format.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci --parallel "$(nproc)"
