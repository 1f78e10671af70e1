#!/usr/bin/env bash
# The main job: installs what is missing, builds the release binaries, and uses them: imports
# the busybox test image (built from Debian's busybox-static) into a temporary store, imports it
# again (a no-op), lists the store, runs a command in a sandbox that snapshots its change as a
# new image, and reads the change back from a run of that image. Then it starts groved on that
# store and, through it (--host), a session: runs that build on each other, a branch, a rollback
# that forgets a run, the log, and the session's image tree. Needs root (unpacking images,
# namespaces, mounts).
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
groved_pid=
cleanup() {
    if [[ -n $groved_pid ]]; then
        kill "$groved_pid" && wait "$groved_pid" || true
    fi
    rm -rf "$root"
}
trap cleanup EXIT
export XDG_CONFIG_HOME=$root/config  # the active session is remembered there, not in ~/.config
$grove --root "$root" images import "oci:$images/busybox:latest" --tag busybox
$grove --root "$root" images import "oci:$images/busybox:latest"
$grove --root "$root" images ls
# A sandboxed run that snapshots its filesystem, then a run on the resulting image.
$grove --root "$root" run busybox --tag hello -s 'echo hello from a sandbox > /root/greeting'
$grove --root "$root" run --disposable hello -- cat /root/greeting

# The daemon on the same store, and the CLI through it.
socket=unix://$root/grove.sock
build/release/tools/groved --root "$root" --listen "$socket" 2> "$root/groved.log" &
groved_pid=$!
for _ in $(seq 100); do
    [[ -S $root/grove.sock ]] && break
    sleep 0.1
done
grove_remote() { $grove --host "$socket" "$@"; }
grove_remote images
# A session: each run starts from the last one's head. Branch, run, go back to main, run, roll
# that run back: main's file shows only the first step, and the tree shows both branches.
grove_remote session new demo busybox
grove_remote run -s 'echo one > /root/steps'
grove_remote session branch experiment
grove_remote run -s 'echo two >> /root/steps'
grove_remote session checkout main
grove_remote run -s 'echo three >> /root/steps'
grove_remote session rollback 1
grove_remote run --disposable -- cat /root/steps
grove_remote session log
grove_remote tree
