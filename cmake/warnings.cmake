# Project-wide warning and hardening flags, applied through the grove_options interface target
# so that third-party code found with find_package is never compiled with them.
add_library(grove_options INTERFACE)
target_compile_options(grove_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wimplicit-fallthrough
    # Options structs are filled with designated initializers that name only what differs from
    # the defaults (style.md 6.10); -Wextra would flag every omitted member.
    -Wno-missing-field-initializers
    # Not -Wnull-dereference: it only acts with optimisation, and there GCC 12 reports false
    # positives inside libstdc++ (basic_string, streambuf) for ordinary code.
    -fstack-protector-strong
    $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
if(GROVE_WERROR)
    target_compile_options(grove_options INTERFACE -Werror)
endif()
