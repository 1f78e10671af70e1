#pragma once

namespace grove::base {

// Makes the calling thread background work (nice 19): housekeeping that can wait, such as
// removing finished runs' trees or making network namespaces ahead of time, then yields to
// runs starting and operations finishing, and still progresses under load (unlike SCHED_IDLE,
// which could starve it while it holds a lock). Best effort: a failure changes nothing else.
void run_in_background();

}  // namespace grove::base
