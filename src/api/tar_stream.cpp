#include "api/tar_stream.hpp"

#include <thread>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::api {

// The tar is written by a thread into a pipe (inspect::write_tar writes to an fd) while this
// thread streams the pipe out; if the client goes away, closing the pipe's read end stops the
// writer with EPIPE (the daemon ignores SIGPIPE).
Result<void> stream_tar(const inspect::LayerStack& files,
                        const inspect::UserDb* users,
                        const std::string& path,
                        const inspect::TarOptions& options,
                        http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(auto pipe, base::Pipe::create());
    Result<void> produced;
    std::jthread producer([&, out = std::move(pipe.write)]() mutable {
        produced = inspect::write_tar(files, path, out.get(), users, options);
        out.reset();
    });
    std::vector<char> buf(256 * 1024);
    Result<void> sent;
    for (;;) {
        const ssize_t n = ::read(pipe.read.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            sent = base::last_errno_error("read the tar stream");
            break;
        }
        if (n == 0) {
            break;
        }
        sent = writer.write(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (!sent) {
            break;
        }
    }
    pipe.read.reset();
    producer.join();
    GROVE_TRY(sent);
    GROVE_TRY(produced);
    return writer.finish();
}

}  // namespace grove::api
