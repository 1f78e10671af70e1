#include "inspect/read_file.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"

namespace grove::inspect {

Result<uint64_t> read_file(const LayerStack& stack,
                           std::string_view path,
                           const ByteSink& sink,
                           uint64_t offset,
                           std::optional<uint64_t> limit) {
    GROVE_ASSIGN_OR_RETURN(const Node node, stack.lookup(path, Follow::kFinal));
    GROVE_ASSIGN_OR_RETURN(const auto fd, stack.open_file(node));
    return read_fd(fd.get(), path, sink, offset, limit);
}

Result<uint64_t> read_fd(int fd,
                         std::string_view path,
                         const ByteSink& sink,
                         uint64_t offset,
                         std::optional<uint64_t> limit) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return base::last_errno_error("stat '{}'", path);
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    if (offset > size) {
        return base::make_error(Code::kOutOfRange, "offset {} is past the end of '{}' ({} bytes)",
                                offset, path, size);
    }
    uint64_t left = std::min(size - offset, limit.value_or(size));
    std::vector<std::byte> buffer(std::min<uint64_t>(left, kReadChunkSize));
    while (left > 0) {
        const size_t want = std::min<uint64_t>(left, buffer.size());
        const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::last_errno_error("read '{}'", path);
        }
        if (n == 0) {
            break;  // layers are immutable, but never loop if the file shrank anyway
        }
        GROVE_TRY(sink(std::span(buffer.data(), static_cast<size_t>(n))));
        offset += static_cast<uint64_t>(n);
        left -= static_cast<uint64_t>(n);
    }
    return size;
}

}  // namespace grove::inspect
