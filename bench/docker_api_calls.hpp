#pragma once

// What the docker CLI sends for `docker run --rm`, `docker exec` and a container's lifecycle,
// sent straight to a Docker API socket: the daemon's share of each command, without the CLI's
// own start (docker_bench.cpp measures both ways).

#include <string>

#include <curl/curl.h>

#include <grove/result.hpp>

namespace grove::bench {

// create + start + wait + delete of `true`, over `curl` (kept alive, on the daemon's socket).
Result<void> api_lifecycle_step(CURL* curl);

// exec create + start (attached: the output stream to its end) + inspect of `true` in the
// running `container`.
Result<void> api_exec_step(CURL* curl, const std::string& container);

// `docker run --rm busybox true`'s requests in the CLI's order: create with AutoRemove, attach
// (hijacked, on a connection of its own), wait for removal (its headers read, on another), start;
// then the wait's status and the attach stream to its end. `socket` is the daemon's.
Result<void> api_run_rm_step(CURL* curl, const std::string& socket);

}  // namespace grove::bench
