#pragma once

// What Docker's streaming endpoints share (logs, attach, exec start): a log record in Docker's
// framing, the hijacked reply, and the copy between a hijacked client and a shim connection.

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "containers/shim/log_file.hpp"
#include "docker_api/detach_keys.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"

namespace grove::docker_api {

// A log record as Docker sends it: raw with a tty, else in a multiplexed frame.
std::string framed(const containers::LogRecord& record, bool tty, bool timestamps);

// Docker's hijack reply: 101 UPGRADED when the client asked to upgrade to tcp, else a 200 whose
// body is the raw stream until the connection closes.
Result<http::RawStream> hijack(http::Request& request, http::ResponseWriter& writer);

// Moves bytes between the client and `fd` (a shim connection) until `fd` ends, `stop` is
// requested or the client types `keys` (then true): the client's bytes go to `fd`, and at the
// client's EOF `fd`'s write side is shut down; `fd`'s bytes go to `on_output`.
Result<bool> pump(http::RawStream& raw,
                  int fd,
                  DetachKeys keys,
                  const std::function<Result<void>(std::string_view)>& on_output,
                  std::stop_token stop = {});

}  // namespace grove::docker_api
