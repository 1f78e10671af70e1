#!/usr/bin/env bash
# The main job: installs what is missing, builds the release binaries, and uses them: imports
# the busybox test image (built from Debian's busybox-static) into a temporary store, imports it
# again (a no-op), lists the store, runs a command in a sandbox that snapshots its change as a
# new image, and reads the change back from a run of that image; then a session: runs that build
# on each other, a branch, a rollback that forgets a run, and the session's log. Needs root
# (unpacking images, namespaces, mounts).
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
# A sandboxed run that snapshots its filesystem, then a run on the resulting image.
$grove --root "$root" run busybox --tag hello -s 'echo hello from a sandbox > /root/greeting'
$grove --root "$root" run --disposable hello -- cat /root/greeting
# A session: each run starts from the last one's image. Branch, run, roll that run back, and
# the file shows only the first step.
$grove --root "$root" session new demo busybox
$grove --root "$root" session run -s 'echo one > /root/steps'
$grove --root "$root" session branch experiment
$grove --root "$root" session run -s 'echo two >> /root/steps'
$grove --root "$root" session rollback 1
$grove --root "$root" session run -- cat /root/steps
$grove --root "$root" session log
