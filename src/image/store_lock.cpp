#include "store_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

#include "base/error.hpp"

namespace grove::image {

Result<std::optional<StoreLock>> StoreLock::lock(const std::filesystem::path& root,
                                                 Mode mode,
                                                 int extra_flags) {
    const auto path = root / "store.lock";
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_RDWR | O_CREAT, 0600));
    const int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | extra_flags;
    while (::flock(fd.get(), op) != 0) {
        if (errno == EWOULDBLOCK) {
            return std::optional<StoreLock>{};
        }
        if (errno != EINTR) {
            return base::last_errno_error("lock '{}'", path.string());
        }
    }
    return std::optional<StoreLock>(StoreLock(std::move(fd)));
}

Result<StoreLock> StoreLock::acquire(const std::filesystem::path& root, Mode mode) {
    GROVE_ASSIGN_OR_RETURN(auto held, lock(root, mode, 0));
    return std::move(*held);
}

Result<std::optional<StoreLock>> StoreLock::try_acquire(const std::filesystem::path& root,
                                                        Mode mode) {
    return lock(root, mode, LOCK_NB);
}

}  // namespace grove::image
