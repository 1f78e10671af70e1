#include "ingest.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"

namespace grove::store {
namespace {

// Whether `fd` is still the file at `path`, i.e. nobody removed the ingest while we waited.
Result<bool> still_linked(int fd, const std::filesystem::path& path) {
    struct stat held {};
    struct stat current {};
    if (::fstat(fd, &held) != 0) {
        return base::last_errno_error("stat lock '{}'", path.string());
    }
    if (::stat(path.c_str(), &current) != 0) {
        if (errno == ENOENT) {
            return false;
        }
        return base::last_errno_error("stat lock '{}'", path.string());
    }
    return held.st_dev == current.st_dev && held.st_ino == current.st_ino;
}

}  // namespace

Ingest& Ingest::operator=(Ingest&& other) noexcept {
    if (this != &other) {
        remove();
        dir_ = std::move(other.dir_);
        lock_ = std::move(other.lock_);
    }
    return *this;
}

Ingest::~Ingest() {
    remove();
}

Result<Ingest> Ingest::acquire(std::filesystem::path dir) {
    GROVE_ASSIGN_OR_RETURN(auto ingest, lock(std::move(dir), /*wait=*/true));
    return std::move(*ingest);
}

Result<std::optional<Ingest>> Ingest::try_acquire(std::filesystem::path dir) {
    return lock(std::move(dir), /*wait=*/false);
}

Result<std::optional<Ingest>> Ingest::lock(std::filesystem::path dir, bool wait) {
    const std::filesystem::path lock_path = dir / "lock";
    // Each pass either wins the lock on the live lock file or sees that its holder removed the
    // ingest; the waiter then recreates it, as if it had come first.
    for (;;) {
        if (wait && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
            return base::last_errno_error("create ingest '{}'", dir.string());
        }
        auto fd = base::UniqueFd::open(lock_path, O_RDWR | O_CREAT, 0600);
        if (!fd) {
            if (fd.error().sys_errno() != ENOENT) {
                return std::move(fd).error();
            }
            if (!wait) {
                return std::nullopt;
            }
            continue;  // removed between our mkdir and open
        }
        int rc = 0;
        do {
            rc = ::flock(fd->get(), LOCK_EX | (wait ? 0 : LOCK_NB));
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            if (errno == EWOULDBLOCK) {
                return std::nullopt;
            }
            return base::last_errno_error("lock '{}'", lock_path.string());
        }
        GROVE_ASSIGN_OR_RETURN(const bool linked, still_linked(fd->get(), lock_path));
        if (linked) {
            return Ingest(std::move(dir), std::move(*fd));
        }
        if (!wait) {
            return std::nullopt;
        }
    }
}

void Ingest::remove() {
    if (!lock_.valid()) {
        return;
    }
    // Errors are ignored on purpose (see the header); the lock file goes last so that nobody can
    // take over an ingest that still has data in it.
    ::unlink(data_path().c_str());
    ::unlink((dir_ / "lock").c_str());
    // ENOTEMPTY: a new writer of the same ref already recreated its lock file here.
    ::rmdir(dir_.c_str());
    lock_.reset();
}

}  // namespace grove::store
