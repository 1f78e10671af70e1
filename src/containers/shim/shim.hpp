#pragma once

// grove-shim: the parent of one container (style.md 6.5, containerd's shim model). The manager
// starts it as `grove-shim <container dir>` with stdout a pipe and stderr the dir's shim.log; it
//   1. reads config.json, starts a new session and forks: the first process exits at once, so
//      the shim belongs to no daemon (a restarted daemon finds it by its directory); a shim
//      forked by the fork server (fork_server.hpp) skips the fork: the server reaps it, and
//      groved's death leaves it to init as the exit of a first process would;
//   2. takes shim.lock (flock) for its whole life and becomes the container's subreaper;
//   3. starts the container (start_container.hpp) and binds shim.sock;
//   4. writes "ok <init pid>" (or "err <message>") to the pipe and closes it;
//   5. supervises (supervisor.hpp) until the container exits, then writes exit.json atomically
//      and exits, which closes every control connection ("wait" returns) and frees the lock.
// A shim killed by -9 takes its container with it (init's PR_SET_PDEATHSIG) and leaves no
// exit.json: the manager sees the lock free and reports the container dead with exit code 137,
// as containerd does for a dead shim.

#include "base/unique_fd.hpp"

namespace grove::containers {

// What the fork server hands a shim it forks; the grove-shim binary has the defaults.
struct ShimLaunch {
    bool detached = false;  // a child of the server, which reaps it: no fork of its own
    base::UniqueFd netns;   // a fresh network namespace made ahead, or none: make one
};

int shim_main(int argc, char** argv, ShimLaunch launch = {});

}  // namespace grove::containers
