#include "layer_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

#include "base/error.hpp"

namespace grove::image {

Result<LayerLock> LayerLock::acquire(const std::filesystem::path& locks_dir,
                                     const base::Digest& key) {
    const auto path = locks_dir / std::string(key.encoded());
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_RDWR | O_CREAT, 0600));
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return base::last_errno_error("lock layer '{}'", key.str());
        }
    }
    return LayerLock(std::move(fd));
}

}  // namespace grove::image
