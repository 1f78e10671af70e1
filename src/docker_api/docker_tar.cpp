#include "docker_api/docker_tar.hpp"

#include <array>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::docker_api {
namespace {

constexpr size_t kBlock = 512;

// A numeric field: octal with a NUL, or base-256 (GNU) when octal cannot hold the value.
void put_number(char* field, size_t width, uint64_t value) {
    if (value < (uint64_t{1} << (3 * (width - 1)))) {
        const std::string octal = fmt::format("{:0{}o}", value, width - 1);
        std::memcpy(field, octal.data(), width - 1);
        return;
    }
    for (size_t i = width; i-- > 1;) {
        field[i] = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    field[0] = static_cast<char>(0x80);
}

// A numeric field's value; nullopt when it is neither octal nor base-256.
std::optional<uint64_t> get_number(const char* field, size_t width) {
    if (static_cast<unsigned char>(field[0]) == 0x80) {
        uint64_t value = 0;
        for (size_t i = 1; i < width; ++i) {
            value = (value << 8) | static_cast<unsigned char>(field[i]);
        }
        return value;
    }
    uint64_t value = 0;
    size_t i = 0;
    while (i < width && field[i] == ' ') {
        ++i;
    }
    for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
        value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    }
    if (i < width && field[i] != '\0' && field[i] != ' ') {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::string tar_header(std::string_view name, uint64_t size, bool directory, int64_t mtime) {
    std::string header(kBlock, '\0');
    std::memcpy(header.data(), name.data(), std::min<size_t>(name.size(), 100));
    put_number(&header[100], 8, directory ? 0755 : 0644);
    put_number(&header[108], 8, 0);
    put_number(&header[116], 8, 0);
    put_number(&header[124], 12, size);
    put_number(&header[136], 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
    header[156] = directory ? '5' : '0';
    std::memcpy(&header[257],
                "ustar\0"
                "00",
                8);
    // The checksum is computed with its own field as spaces.
    std::memset(&header[148], ' ', 8);
    unsigned sum = 0;
    for (const char c : header) {
        sum += static_cast<unsigned char>(c);
    }
    const std::string checksum = fmt::format("{:06o}", sum);
    std::memcpy(&header[148], checksum.data(), 6);
    header[154] = '\0';
    return header;
}

std::string tar_padding(uint64_t size) {
    return std::string((kBlock - size % kBlock) % kBlock, '\0');
}

std::string tar_end() {
    return std::string(2 * kBlock, '\0');
}

Result<void> write_tar_file(const TarSink& sink, std::string_view name, std::string_view data) {
    GROVE_TRY(sink(tar_header(name, data.size(), false, 0)));
    GROVE_TRY(sink(data));
    return sink(tar_padding(data.size()));
}

Result<void> write_tar_file_fd(const TarSink& sink, std::string_view name, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return base::last_errno_error("stat '{}'", name);
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    GROVE_TRY(sink(tar_header(name, size, false, 0)));
    std::array<char, 256 * 1024> buf{};
    uint64_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), size - done),
                                  static_cast<off_t>(done));
        if (n < 0) {
            return base::last_errno_error("read '{}'", name);
        }
        if (n == 0) {
            return base::make_error(Code::kDataLoss, "'{}' shrank while saved", name);
        }
        GROVE_TRY(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
        done += static_cast<uint64_t>(n);
    }
    return sink(tar_padding(size));
}

Result<std::optional<std::string>> read_tar_file(int fd, std::string_view name, uint64_t max_size) {
    uint64_t offset = 0;
    std::array<char, kBlock> header{};
    for (;;) {
        const ssize_t n = ::pread(fd, header.data(), kBlock, static_cast<off_t>(offset));
        if (n < 0) {
            return base::last_errno_error("read the archive");
        }
        if (n < static_cast<ssize_t>(kBlock) || header[0] == '\0') {
            return std::optional<std::string>();  // the end, or a truncated archive
        }
        const auto size = get_number(&header[124], 12);
        if (!size) {
            return base::make_error(Code::kInvalidArgument, "not a tar archive");
        }
        const std::string_view entry(header.data(), ::strnlen(header.data(), 100));
        const char type = header[156];
        std::string_view clean = entry;
        if (clean.starts_with("./")) {
            clean.remove_prefix(2);
        }
        if (clean == name && (type == '0' || type == '\0')) {
            if (*size > max_size) {
                return base::make_error(Code::kInvalidArgument, "'{}' is larger than {} bytes",
                                        name, max_size);
            }
            std::string data(*size, '\0');
            const ssize_t got =
                ::pread(fd, data.data(), data.size(), static_cast<off_t>(offset + kBlock));
            if (got != static_cast<ssize_t>(data.size())) {
                return base::make_error(Code::kInvalidArgument, "truncated archive");
            }
            return std::optional<std::string>(std::move(data));
        }
        offset += kBlock + (*size + kBlock - 1) / kBlock * kBlock;
    }
}

}  // namespace grove::docker_api
