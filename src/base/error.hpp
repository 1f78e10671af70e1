#pragma once

// Internal helpers to build grove::Error values with fmt formatting. The public types live in
// <grove/error.hpp> and <grove/result.hpp>; this header adds what needs fmt, which public headers
// must not expose.

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include <grove/error.hpp>
#include <grove/result.hpp>

namespace grove::base {

// Abseil's ErrnoToStatusCode table: ENOENT -> NotFound, EEXIST -> AlreadyExists, ...
Code code_from_errno(int err);

// "<what>: <strerror(err)>" with the Code from code_from_errno(err).
Error errno_error_from(int err, std::string what);

template <typename... Args>
Error make_error(Code code, fmt::format_string<Args...> format, Args&&... args) {
    return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// "mount overlay at '/x': Operation not permitted", with the Code from code_from_errno(err).
template <typename... Args>
Error errno_error(int err, fmt::format_string<Args...> format, Args&&... args) {
    return errno_error_from(err, fmt::format(format, std::forward<Args>(args)...));
}

// errno_error with the current errno; call it right after the failing syscall.
template <typename... Args>
Error last_errno_error(fmt::format_string<Args...> format, Args&&... args) {
    const int err = errno;
    return errno_error(err, format, std::forward<Args>(args)...);
}

// Adds context to a failed Result, formatting it only on failure:
//   GROVE_TRY(with_context(mount_layer(l), "prepare snapshot '{}'", key));
template <typename T, typename... Args>
Result<T> with_context(Result<T>&& result, fmt::format_string<Args...> format, Args&&... args) {
    if (result.has_value()) {
        return std::move(result);
    }
    return std::move(result).context(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace grove::base
