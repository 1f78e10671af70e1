#!/usr/bin/env bash
# The main job: installs what is missing, builds the release binaries, and uses them: imports
# the busybox test image (built from Debian's busybox-static) into a temporary store, imports it
# again (a no-op), and lists the store. Needs root, as unpacking images does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
grove=build/release/tools/grove
$grove --version
build/release/tools/groved --version

images=${GROVE_TEST_IMAGES:-$HOME/.cache/grove-tests/images}
scripts/test-images.sh "$images"
root=$(mktemp -d /var/tmp/grove-run-XXXXXX)
trap 'rm -rf "$root"' EXIT
$grove --root "$root" images import "oci:$images/busybox:latest" --tag busybox
$grove --root "$root" images import "oci:$images/busybox:latest"
$grove --root "$root" images ls
