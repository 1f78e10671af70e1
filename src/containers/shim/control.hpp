#pragma once

// The shim's control socket (shim.sock in the container's directory): a unix stream socket, one
// request per connection, a line each way:
//
//   kill <signal>          -> ok            signal the container's command (via its init)
//   pause | resume         -> ok            freeze or thaw its cgroup
//   resize <rows> <cols> [<exec id>]
//                          -> ok            the window size of the container's tty, or an exec's
//   update <limits json>   -> ok            new cgroup limits (shim_config.hpp)
//   stats                  -> ok <json>     the cgroup's statistics (shim_config.hpp)
//   exec <id> <json>       -> ok <pid>      start an ExecRequest (shim_config.hpp); then as
//                                           attach, for that process: its output as frames, the
//                                           client's bytes to its stdin (EOF closes it); its
//                                           exit goes to execs/<id>.json, then the connection
//                                           ends
//   close-stdin            -> ok            EOF on the container's stdin
//   wait                   -> ok            then nothing: the connection ends when the shim does,
//                                           after exit.json is written
//   attach                 -> ok            then the container's output as Docker's multiplexed
//                                           frames (see frame_header), and the client's bytes
//                                           go to the container's stdin (with open_stdin)
//   attach stdin-once      -> ok            the same, and the client's EOF (once its bytes are
//                                           written) is the container's stdin's
//
// A refused request answers "err <message>".

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::containers {

// Connects to the shim of the container in `dir`; Unavailable when no shim listens there.
Result<base::UniqueFd> connect_shim(const std::filesystem::path& dir);

// Sends `request` and reads the reply line: its text after "ok" (trimmed), or the shim's error.
Result<std::string> shim_request(int fd, std::string_view request);

// Reads one line (without its '\n') and nothing after it, which is the peer's next bytes (an
// attach's stdin, an exec's output): peeks, then takes the line, two reads where reading a byte
// at a time took one per byte. nullopt at EOF, on an error (SO_RCVTIMEO's timeout too) or past
// `max` bytes.
std::optional<std::string> read_line(int fd, size_t max);

// One request on a connection of its own.
Result<std::string> shim_call(const std::filesystem::path& dir, std::string_view request);

// Docker's stream header: stream (1 stdout, 2 stderr), three zero bytes, big-endian length.
std::array<char, 8> frame_header(uint8_t stream, uint32_t length);

}  // namespace grove::containers
