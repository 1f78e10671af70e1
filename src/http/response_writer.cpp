#include "http/response_writer.hpp"

#include <algorithm>
#include <cstring>
#include <sys/socket.h>

#include "http/connection.hpp"

namespace grove::http {

// ---------------------------------------------------------------------------------------------
// ResponseWriter: forwards to the exchange of the request being handled.

Result<void> ResponseWriter::send(Response response) {
    return exchange_.send(std::move(response));
}

Result<void> ResponseWriter::send_error(int status, std::string_view message) {
    return exchange_.send_error(status, message);
}

Result<void> ResponseWriter::start(StreamHead head) {
    return exchange_.start(std::move(head));
}

Result<void> ResponseWriter::write(std::string_view data) {
    return exchange_.write(data);
}

Result<void> ResponseWriter::finish() {
    return exchange_.finish();
}

Result<RawStream> ResponseWriter::hijack(HijackHead head) {
    return exchange_.hijack(std::move(head));
}

bool ResponseWriter::started() const {
    return exchange_.started();
}

// ---------------------------------------------------------------------------------------------
// RawStream

RawStream::RawStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
RawStream::RawStream(RawStream&& other) noexcept = default;
RawStream& RawStream::operator=(RawStream&& other) noexcept = default;
RawStream::~RawStream() = default;

Result<size_t> RawStream::read(std::span<char> out,
                               std::optional<std::chrono::milliseconds> timeout) {
    if (out.empty()) {
        return Error(Code::kInvalidArgument, "read() needs a non-empty buffer");
    }
    if (!state_->pending.empty()) {
        const size_t n = std::min(out.size(), state_->pending.size());
        std::memcpy(out.data(), state_->pending.data(), n);
        state_->pending.erase(0, n);
        return n;
    }
    std::optional<detail::Clock::time_point> deadline;
    if (timeout) {
        deadline = detail::Clock::now() + *timeout;
    }
    return state_->io.read_some(out, deadline);
}

Result<void> RawStream::write(std::string_view data) {
    return state_->io.write_all(data, state_->io_timeout);
}

void RawStream::shutdown_write() {
    state_->io.shutdown(SHUT_WR);
}

std::string RawStream::take_pending() {
    return std::exchange(state_->pending, {});
}

int RawStream::fd() const {
    return state_->io.fd();
}

base::UniqueFd RawStream::release() {
    return state_->io.release();
}

}  // namespace grove::http
