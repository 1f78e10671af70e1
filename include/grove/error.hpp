#pragma once

// The one error type of grove. Every fallible call returns Result<T> (result.hpp) carrying an
// Error: a canonical Code (Abseil's set, as containerd's errdefs), the errno that caused it if
// any, and a message. Messages are lowercase, have no final period, quote ids and paths in
// single quotes, and end in ": <strerror>" when an errno caused them.
//
// The HTTP status of a Code is decided in exactly one place (src/api/error_mapping.cpp); clients
// rebuild the Code from its wire name (code_name / code_from_name), never from the status.

#include <optional>
#include <string>
#include <string_view>

namespace grove {

enum class Code {
    kInvalidArgument,     // the caller's input is malformed, whatever the system state
    kNotFound,            // a named entity does not exist
    kAlreadyExists,       // an entity the caller wanted to create exists
    kPermissionDenied,    // the caller is known but not allowed
    kUnauthenticated,     // the caller has no valid credentials
    kFailedPrecondition,  // the system is not in the state the call needs; retrying won't help
    kAborted,             // a concurrency conflict; retry the whole read-modify-write
    kOutOfRange,          // input valid in general but past a current bound
    kResourceExhausted,   // a quota, limit or the disk ran out
    kUnavailable,         // transient; retrying the same call may succeed
    kDeadlineExceeded,    // a timeout expired before the call finished
    kCancelled,           // the caller cancelled the call
    kUnimplemented,       // the call or an option is not supported here
    kInternal,            // an invariant broke: a bug in grove
    kDataLoss,            // stored data is corrupt or unrecoverably lost
};

// The stable wire name of a code: "not_found", "invalid_argument", ...
std::string_view code_name(Code code);
std::optional<Code> code_from_name(std::string_view name);

class Error {
public:
    Error(Code code, std::string message, int sys_errno = 0)
        : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

    Code code() const { return code_; }
    // The errno that caused this error, 0 if none did.
    int sys_errno() const { return sys_errno_; }
    const std::string& message() const { return message_; }

    // Prepends what the caller was doing, as Go's fmt.Errorf("...: %w"): "prepare 'k': mount ...".
    Error& add_context(std::string_view what);

    // "not_found: image 'x' not found"
    std::string to_string() const;

    friend bool operator==(const Error&, const Error&) = default;

private:
    Code code_;
    int sys_errno_;
    std::string message_;
};

}  // namespace grove
