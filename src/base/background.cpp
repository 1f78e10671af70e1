#include "base/background.hpp"

#include <sys/resource.h>
#include <unistd.h>

namespace grove::base {

void run_in_background() {
    // On Linux a nice value is per thread: PRIO_PROCESS with a thread id sets that thread's.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
}

}  // namespace grove::base
