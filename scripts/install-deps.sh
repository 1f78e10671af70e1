#!/usr/bin/env bash
# Installs every Debian package that grove's build, tests and benchmarks need.
# Idempotent: packages already installed are skipped, and apt-get update runs at most once.
set -euo pipefail

build=(
    build-essential cmake ninja-build pkg-config git clang-format
    libboost-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
    libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev libzstd-dev zlib1g-dev
    libseccomp-dev libcap-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    # groved runs ps for the Docker API's /containers/{id}/top.
    procps
    # groved's bridge network: outbound NAT (MASQUERADE) and forwarding rules.
    iptables
)
# Test images are built from Debian packages only, and pushed to a real local registry.
test=(
    python3 busybox-static zstd attr
    docker-registry skopeo apache2-utils openssl
    umoci
    # The OCI runtimes of grove's optional runtime backend, each tested like the native one.
    crun runc runsc
    # Real clients of the Docker API: the docker CLI (docker.io; its dockerd is never started by
    # the tests), docker-py 5.0.3, and aiohttp for the line-delimited JSON streams.
    docker.io python3-docker python3-aiohttp
)
# Peers the benchmarks compare against (never needed for the test suite); crun, their peer for
# runs, and docker.io, whose dockerd the run benchmark starts privately, are in `test` above.
bench=(hyperfine debootstrap)

want=("${build[@]}" "${test[@]}")
[[ "${1:-}" == "--bench" ]] && want+=("${bench[@]}")

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: root is needed to install packages" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Package scripts must not start services (docker-registry's would listen on :5000).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '((created_policy)) && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
