#include "runtime/process/vfork_clone.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#if !defined(__x86_64__)
#error "clone3_vfork is written for x86_64 only"
#endif

// glibc has no public clone3 wrapper, and syscall() cannot start a child on a new stack: the
// child would return into a frame that is not on it. rdi = args, rsi = size, rdx = fn,
// rcx = arg; syscall clobbers rcx and r11 only, so the child finds fn and arg where they were.
asm(R"(
.text
.globl grove_clone3_on_stack
.type grove_clone3_on_stack,@function
grove_clone3_on_stack:
    mov %rcx, %r8
    mov $)"
    "435"
    R"(, %eax
    syscall
    test %rax, %rax
    jz 1f
    ret
1:
    xor %ebp, %ebp
    mov %r8, %rdi
    call *%rdx
    mov %eax, %edi
    mov $231, %eax
    syscall
    hlt
.size grove_clone3_on_stack, .-grove_clone3_on_stack
)");

static_assert(SYS_clone3 == 435 && SYS_exit_group == 231);

extern "C" long grove_clone3_on_stack(clone_args* args, size_t size, int (*fn)(void*), void* arg);

namespace grove::runtime::process::detail {

ChildStack::~ChildStack() {
    if (base_ != nullptr) {
#if defined(__SANITIZE_ADDRESS__)
        // The child's frames never returned, so ASan still holds them poisoned; memory mapped
        // here later must not inherit that.
        ASAN_UNPOISON_MEMORY_REGION(bottom(), kSize);
#endif
        ::munmap(base_, kGuard + kSize);
    }
}

bool ChildStack::allocate() noexcept {
    void* map = ::mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) {
        return false;
    }
    base_ = static_cast<char*>(map);
    // An overflow must fault, not write into the caller's memory next to the stack.
    return ::mprotect(base_, kGuard, PROT_NONE) == 0;
}

long clone3_vfork(clone_args& args, const ChildStack& stack, int (*fn)(void*), void* arg) noexcept {
    args.flags |= CLONE_VM | CLONE_VFORK;
    args.stack = reinterpret_cast<uintptr_t>(stack.bottom());
    args.stack_size = ChildStack::kSize;
    // The child starts with the parent's handlers, which must never run on shared memory: every
    // signal (glibc's internal ones too, hence the raw syscall) stays blocked until it has reset
    // them. The calling thread gets its mask back once the child has exec'd.
    uint64_t all = ~uint64_t{0};
    uint64_t old = 0;
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
    const long pid = grove_clone3_on_stack(&args, sizeof(args), fn, arg);
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof(old));
    return pid;
}

}  // namespace grove::runtime::process::detail
