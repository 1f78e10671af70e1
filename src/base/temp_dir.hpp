#pragma once

// TempDir owns a fresh directory (mkdtemp) and removes it with everything inside when destroyed.

#include <filesystem>
#include <string_view>

#include <grove/result.hpp>

namespace grove::base {

class TempDir {
public:
    TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    // A new directory `<parent>/<prefix>XXXXXX`; `parent` defaults to $TMPDIR or /tmp.
    static Result<TempDir> create(std::string_view prefix, std::filesystem::path parent = {});

    const std::filesystem::path& path() const { return path_; }

private:
    explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
    void remove();

    std::filesystem::path path_;
};

}  // namespace grove::base
