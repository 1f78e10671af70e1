#pragma once

// Test fixtures for layer tars: TarEntry describes one entry, make_tar writes them with
// libarchive's writer (PAX, optionally gzip or zstd), and ApplyTest applies the result into a
// fresh temp directory and inspects what landed there.

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <grove/result.hpp>

#include "archive/apply_layer.hpp"
#include "base/log.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace grove::archive::testing {

enum class EntryType { kFile, kDir, kSymlink, kHardlink, kFifo, kCharDevice };

inline constexpr time_t kMtime = 1'700'000'000;

struct TarEntry {
    std::string name;
    EntryType type = EntryType::kFile;
    std::string data;
    // Unset: 0755 for directories, 0777 for symlinks, 0644 for the rest.
    std::optional<mode_t> mode;
    // Unset: the test process's own ids, so tests without root can apply the tar.
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    time_t mtime = kMtime;
    long mtime_nsec = 0;
    std::string link;  // symlink or hardlink target
    std::vector<std::pair<std::string, std::string>> xattrs;
};

// The tar bytes of `entries`, in order, compressed as asked.
std::string make_tar(const std::vector<TarEntry>& entries,
                     Compression compression = Compression::kNone);

// A ustar tar whose single file entry `name` claims `size` bytes (at most 8 GiB - 1) but
// carries one block of data: for checking that limits act on the header alone.
std::string tar_claiming_size(const std::string& name, uint64_t size);

// A memfd holding `bytes`, positioned at the start.
base::UniqueFd memfd_with(std::string_view bytes);

class ApplyTest : public ::testing::Test {
protected:
    void SetUp() override;

    // Applies `bytes` into root().
    Result<ApplyStats> apply_bytes(std::string_view bytes, ApplyOptions options = {});
    Result<ApplyStats> apply(const std::vector<TarEntry>& entries, ApplyOptions options = {}) {
        return apply_bytes(make_tar(entries), std::move(options));
    }

    const std::filesystem::path& root() const { return dir_->path(); }
    std::filesystem::path path(std::string_view name) const { return root() / name; }
    std::optional<struct stat> lstat_of(std::string_view name) const;
    std::string contents(std::string_view name) const;
    // The xattr `key` of the entry `name`, nullopt when absent.
    std::optional<std::string> xattr(std::string_view name, const char* key) const;
    // Everything logged through the logger apply_bytes passes in.
    std::string logged() const { return log_text_.str(); }

    std::optional<base::TempDir> dir_;
    std::ostringstream log_text_;
    base::Logger log_{std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_, true),
                      base::LogFormat::kText, base::LogLevel::kInfo};
};

}  // namespace grove::archive::testing
