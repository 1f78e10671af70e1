#include "runtime/process/reaper_blob.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

// The static reaper binary, assembled in from the build tree (GROVE_REAPER_PATH).
asm(R"(.section .rodata
.balign 16
grove_reaper_start:
.incbin ")" GROVE_REAPER_PATH R"("
grove_reaper_end:
.previous
.globl grove_reaper_begin_ptr
.globl grove_reaper_end_ptr
.section .data.rel.ro,"aw"
.balign 8
grove_reaper_begin_ptr: .quad grove_reaper_start
grove_reaper_end_ptr: .quad grove_reaper_end
.previous
)");

extern "C" const char* const grove_reaper_begin_ptr;
extern "C" const char* const grove_reaper_end_ptr;

namespace grove::runtime::process::detail {
namespace {

Result<base::UniqueFd> make_reaper_fd() {
    base::UniqueFd fd(::memfd_create("grove-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) {
        return base::last_errno_error("memfd_create for the container init");
    }
    const std::string_view blob(grove_reaper_begin_ptr,
                                static_cast<size_t>(grove_reaper_end_ptr - grove_reaper_begin_ptr));
    GROVE_TRY(base::write_all(fd.get(), blob));
    if (::fchmod(fd.get(), 0555) != 0 ||
        ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) !=
            0) {
        return base::last_errno_error("seal the container init's memfd");
    }
    return fd;
}

}  // namespace

Result<int> reaper_fd() {
    static Result<base::UniqueFd> fd = make_reaper_fd();  // thread-safe, once
    if (!fd) {
        return fd.error();
    }
    return fd->get();
}

}  // namespace grove::runtime::process::detail
