#include "temp_dir.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

#include "error.hpp"

namespace grove::base {

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

TempDir::~TempDir() {
    remove();
}

void TempDir::remove() {
    if (!path_.empty()) {
        std::error_code ignored;  // best effort: a destructor has nobody to report to
        std::filesystem::remove_all(path_, ignored);
        path_.clear();
    }
}

Result<TempDir> TempDir::create(std::string_view prefix, std::filesystem::path parent) {
    if (parent.empty()) {
        const char* tmpdir = std::getenv("TMPDIR");
        parent = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
    }
    std::string templ = (parent / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) {
        return last_errno_error("create temporary directory in '{}'", parent.string());
    }
    return TempDir(std::filesystem::path(templ));
}

}  // namespace grove::base
