#!/usr/bin/env bash
# Builds the test images into DIR unless DIR already holds the images of this exact generator and
# busybox package: the cache that keeps test runs fast. Safe to run concurrently (flock).
#   scripts/test-images.sh DIR [--with-debian]
set -euo pipefail

dir=${1:?usage: test-images.sh DIR [--with-debian]}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
generator=$here/build-test-images.py

key=$( {
    sha256sum "$generator"
    dpkg-query -W -f='${Package} ${Version}\n' busybox-static
    echo "$*"
} | sha256sum | cut -c1-16)

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [[ "$(cat "$dir/.key" 2>/dev/null)" == "$key" && -f "$dir/MANIFEST.json" ]]; then
    exit 0
fi
rm -f "$dir/.key"
start=$(date +%s)
/usr/bin/python3 "$generator" "$dir" "$@"
echo "$key" >"$dir/.key"
echo "test-images: built in $(($(date +%s) - start)) s into $dir" >&2
