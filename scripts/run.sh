#!/usr/bin/env bash
# The main job: installs what is missing, builds the release binaries, and runs them.
# Until the daemon serves (issue 5), "running" is their smoke check: both report their version.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
build/release/tools/grove --version
build/release/tools/groved --version
