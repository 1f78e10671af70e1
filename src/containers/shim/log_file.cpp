#include "containers/shim/log_file.hpp"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/error.hpp"

namespace grove::containers {
namespace {

struct Header {
    uint8_t stream;
    uint8_t pad[3];
    uint32_t length;
    int64_t time_ns;
};
static_assert(sizeof(Header) == 16);

}  // namespace

Result<LogWriter> LogWriter::open(std::filesystem::path path,
                                  std::filesystem::path rotated,
                                  uint64_t max_bytes) {
    GROVE_ASSIGN_OR_RETURN(auto fd,
                           base::UniqueFd::open(path, O_WRONLY | O_CREAT | O_APPEND, 0600));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", path.string());
    }
    return LogWriter(std::move(path), std::move(rotated), max_bytes, std::move(fd),
                     static_cast<uint64_t>(st.st_size));
}

Result<void> LogWriter::append(LogStream stream, int64_t time_ns, std::string_view bytes) {
    if (size_ > 0 && size_ + sizeof(Header) + bytes.size() > max_bytes_) {
        if (::rename(path_.c_str(), rotated_.c_str()) != 0) {
            return base::last_errno_error("rotate '{}'", path_.string());
        }
        GROVE_ASSIGN_OR_RETURN(fd_,
                               base::UniqueFd::open(path_, O_WRONLY | O_CREAT | O_APPEND, 0600));
        size_ = 0;
    }
    Header header{.stream = static_cast<uint8_t>(stream),
                  .pad = {},
                  .length = static_cast<uint32_t>(bytes.size()),
                  .time_ns = time_ns};
    std::string record(sizeof(header) + bytes.size(), '\0');
    std::memcpy(record.data(), &header, sizeof(header));
    std::memcpy(record.data() + sizeof(header), bytes.data(), bytes.size());
    // One write per record: O_APPEND keeps it whole at the end of the file.
    GROVE_TRY(base::write_all(fd_.get(), record));
    size_ += record.size();
    return {};
}

Result<bool> LogReader::read_fd(int fd, const std::function<bool(LogRecord&&)>& on_record) {
    while (true) {
        Header header{};
        const ssize_t n = ::pread(fd, &header, sizeof(header), static_cast<off_t>(offset_));
        if (n < 0) {
            return base::last_errno_error("read '{}'", path_.string());
        }
        if (n < static_cast<ssize_t>(sizeof(header))) {
            return true;  // the end, or a record still being written
        }
        LogRecord record{.stream = static_cast<LogStream>(header.stream),
                         .time_ns = header.time_ns,
                         .bytes = std::string(header.length, '\0')};
        const ssize_t m = ::pread(fd, record.bytes.data(), header.length,
                                  static_cast<off_t>(offset_ + sizeof(header)));
        if (m < 0) {
            return base::last_errno_error("read '{}'", path_.string());
        }
        if (static_cast<uint32_t>(m) < header.length) {
            return true;
        }
        offset_ += sizeof(header) + header.length;
        if (!on_record(std::move(record))) {
            return false;
        }
    }
}

Result<void> LogReader::read_new(const std::function<bool(LogRecord&&)>& on_record) {
    if (!started_) {
        started_ = true;
        // Opened before the current file: a rotation in between repeats nothing and loses
        // nothing, since the current file is then opened (by path) after it.
        if (auto rotated = base::UniqueFd::open(rotated_, O_RDONLY); rotated) {
            GROVE_ASSIGN_OR_RETURN(const bool more, read_fd(rotated->get(), on_record));
            if (!more) {
                return {};
            }
        }
        offset_ = 0;
    }
    while (true) {
        if (fd_.valid()) {
            GROVE_ASSIGN_OR_RETURN(const bool more, read_fd(fd_.get(), on_record));
            if (!more) {
                return {};
            }
        }
        // At the end of our file: move on if the path now names another (rotated under us).
        struct stat st {};
        if (::stat(path_.c_str(), &st) != 0) {
            if (errno == ENOENT) {
                return {};
            }
            return base::last_errno_error("stat '{}'", path_.string());
        }
        if (fd_.valid() && st.st_ino == inode_) {
            return {};
        }
        GROVE_ASSIGN_OR_RETURN(fd_, base::UniqueFd::open(path_, O_RDONLY));
        struct stat opened {};
        if (::fstat(fd_.get(), &opened) != 0) {
            return base::last_errno_error("stat '{}'", path_.string());
        }
        inode_ = opened.st_ino;
        offset_ = 0;
    }
}

}  // namespace grove::containers
