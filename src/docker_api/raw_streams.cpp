#include "docker_api/raw_streams.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <thread>

#include "base/error.hpp"
#include "containers/shim/control.hpp"
#include "docker_api/container_json.hpp"

namespace grove::docker_api {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPollSlice{100};
constexpr milliseconds kDockerPyHeadDelay{100};

}  // namespace

std::string framed(const containers::LogRecord& record, bool tty, bool timestamps) {
    std::string payload =
        timestamps ? docker_time(record.time_ns) + " " + record.bytes : record.bytes;
    if (tty) {
        return payload;
    }
    const auto header = containers::frame_header(static_cast<uint8_t>(record.stream),
                                                 static_cast<uint32_t>(payload.size()));
    return std::string(header.data(), header.size()) + payload;
}

Result<http::RawStream> hijack(http::Request& request, http::ResponseWriter& writer) {
    http::HijackHead head;
    head.headers.set("Content-Type", "application/vnd.docker.raw-stream");
    if (request.wants_upgrade("tcp")) {
        head.status = 101;
        head.reason = "UPGRADED";
        head.headers.set("Connection", "Upgrade");
        head.headers.set("Upgrade", "tcp");
    } else {
        head.status = 200;
    }
    GROVE_ASSIGN_OR_RETURN(http::RawStream raw, writer.hijack(std::move(head)));
    // docker-py reads the stream from the socket under its HTTP reader, so what arrives with the
    // head is lost in that reader's buffer; no signal says it has read the head, so the stream
    // waits for it a little. Other clients (the Go CLI, aiohttp) keep what they buffered.
    if (request.header("User-Agent").value_or("").starts_with("docker-sdk-python")) {
        std::this_thread::sleep_for(kDockerPyHeadDelay);
    }
    return raw;
}

Result<bool> pump(http::RawStream& raw,
                  int fd,
                  DetachKeys keys,
                  const std::function<Result<void>(std::string_view)>& on_output,
                  std::stop_token stop) {
    bool input_open = true;
    const auto input = [&](std::string_view bytes) -> Result<bool> {
        const auto scan = keys.feed(bytes);
        GROVE_TRY(base::write_all(fd, scan.forward));
        return scan.detached;
    };
    GROVE_ASSIGN_OR_RETURN(const bool detached_at_once, input(raw.take_pending()));
    if (detached_at_once) {
        return true;
    }
    char buf[16 * 1024];
    while (!stop.stop_requested()) {
        pollfd fds[2] = {{.fd = fd, .events = POLLIN, .revents = 0},
                         {.fd = input_open ? raw.fd() : -1, .events = POLLIN, .revents = 0}};
        if (::poll(fds, 2, static_cast<int>(kPollSlice.count())) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("poll");
        }
        if (fds[0].revents != 0) {
            const ssize_t n = ::read(fd, buf, sizeof(buf));
            if (n <= 0) {
                return false;  // the process (or container) ended
            }
            GROVE_TRY(on_output({buf, static_cast<size_t>(n)}));
        }
        if (fds[1].revents != 0) {
            auto n = raw.read(buf, milliseconds(0));
            if (!n && n.error().code() == Code::kDeadlineExceeded) {
                continue;
            }
            if (!n || *n == 0) {
                input_open = false;
                ::shutdown(fd, SHUT_WR);
                continue;
            }
            GROVE_ASSIGN_OR_RETURN(const bool detached, input({buf, *n}));
            if (detached) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace grove::docker_api
