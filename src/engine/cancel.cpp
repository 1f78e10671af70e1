#include "engine/cancel.hpp"

#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/error.hpp"

namespace grove::engine {

Result<std::shared_ptr<CancelSignal>> CancelSignal::create() {
    base::UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) {
        return base::last_errno_error("eventfd");
    }
    return std::make_shared<CancelSignal>(std::move(fd));
}

void CancelSignal::cancel() const noexcept {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

bool CancelSignal::cancelled() const noexcept {
    pollfd p{fd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

}  // namespace grove::engine
