#pragma once

// grove-shim: the parent of one container (style.md 6.5, containerd's shim model). The manager
// starts it as `grove-shim <container dir>` with stdout a pipe and stderr the dir's shim.log; it
//   1. reads config.json, starts a new session and forks: the first process exits at once, so
//      the shim belongs to no daemon (a restarted daemon finds it by its directory);
//   2. takes shim.lock (flock) for its whole life and becomes the container's subreaper;
//   3. starts the container (start_container.hpp) and binds shim.sock;
//   4. writes "ok <init pid>" (or "err <message>") to the pipe and closes it;
//   5. supervises (supervisor.hpp) until the container exits, then writes exit.json atomically
//      and exits, which closes every control connection ("wait" returns) and frees the lock.
// A shim killed by -9 takes its container with it (init's PR_SET_PDEATHSIG) and leaves no
// exit.json: the manager sees the lock free and reports the container dead with exit code 137,
// as containerd does for a dead shim.

namespace grove::containers {

int shim_main(int argc, char** argv);

}  // namespace grove::containers
