#include "containers/volumes.hpp"

#include <cerrno>
#include <sys/stat.h>

#include "base/error.hpp"
#include "containers/names.hpp"

namespace grove::containers {

namespace fs = std::filesystem;

namespace {

Result<void> check_name(const std::string& name) {
    if (!validate_name(name)) {
        return base::make_error(Code::kInvalidArgument,
                                "\"{}\" includes invalid characters for a local volume name, only "
                                "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
                                "pass a host directory, use absolute path",
                                name);
    }
    return {};
}

}  // namespace

Result<fs::path> Volumes::ensure(const std::string& name) {
    GROVE_TRY(check_name(name));
    const fs::path data = dir_ / name / "_data";
    for (const fs::path& dir : {dir_, dir_ / name, data}) {
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            return base::last_errno_error("create volume directory '{}'", dir.string());
        }
    }
    return data;
}

Result<void> Volumes::remove(const std::string& name) {
    GROVE_TRY(check_name(name));
    std::error_code ec;
    fs::remove_all(dir_ / name, ec);  // symlinks inside are removed, never followed
    if (ec) {
        return base::make_error(Code::kInternal, "remove volume '{}': {}", name, ec.message());
    }
    return {};
}

}  // namespace grove::containers
