#pragma once

// A container's log: what its stdout and stderr wrote, as records of (stream, time, bytes) in
// container.log, which the shim rotates to container.log.1 past a size (one old file is kept,
// so a log takes at most twice the size). A record is a fixed header and its bytes:
//
//   u8 stream (1 stdout, 2 stderr) | 3 bytes zero | u32 length | i64 unix ns | bytes
//
// The shim is the only writer, one record per read() of the container's output (at most 64 KiB);
// readers only ever see whole records or a torn tail, which they leave for the next read.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::containers {

enum class LogStream : uint8_t { kStdout = 1, kStderr = 2 };

struct LogRecord {
    LogStream stream;
    int64_t time_ns;
    std::string bytes;
};

class LogWriter {
public:
    static Result<LogWriter> open(std::filesystem::path path,
                                  std::filesystem::path rotated,
                                  uint64_t max_bytes);

    Result<void> append(LogStream stream, int64_t time_ns, std::string_view bytes);

private:
    LogWriter(std::filesystem::path path,
              std::filesystem::path rotated,
              uint64_t max_bytes,
              base::UniqueFd fd,
              uint64_t size)
        : path_(std::move(path)),
          rotated_(std::move(rotated)),
          max_bytes_(max_bytes),
          fd_(std::move(fd)),
          size_(size) {}

    std::filesystem::path path_;
    std::filesystem::path rotated_;
    uint64_t max_bytes_;
    base::UniqueFd fd_;
    uint64_t size_;
};

// Reads the records of one container's log in order, across a rotation: the rotated file first,
// then the current one, and on later calls whatever was appended since (follow).
class LogReader {
public:
    LogReader(std::filesystem::path path, std::filesystem::path rotated)
        : path_(std::move(path)), rotated_(std::move(rotated)) {}

    // Calls `on_record` for every whole record not read yet; false from it stops early.
    Result<void> read_new(const std::function<bool(LogRecord&&)>& on_record);

private:
    Result<bool> read_fd(int fd, const std::function<bool(LogRecord&&)>& on_record);

    std::filesystem::path path_;
    std::filesystem::path rotated_;
    bool started_ = false;
    base::UniqueFd fd_;  // the file being read
    ino_t inode_ = 0;
    uint64_t offset_ = 0;
};

}  // namespace grove::containers
