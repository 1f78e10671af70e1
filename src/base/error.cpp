#include "error.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace grove {
namespace {

struct CodeName {
    Code code;
    std::string_view name;
};

constexpr std::array kCodeNames{
    CodeName{Code::kInvalidArgument, "invalid_argument"},
    CodeName{Code::kNotFound, "not_found"},
    CodeName{Code::kAlreadyExists, "already_exists"},
    CodeName{Code::kPermissionDenied, "permission_denied"},
    CodeName{Code::kUnauthenticated, "unauthenticated"},
    CodeName{Code::kFailedPrecondition, "failed_precondition"},
    CodeName{Code::kAborted, "aborted"},
    CodeName{Code::kOutOfRange, "out_of_range"},
    CodeName{Code::kResourceExhausted, "resource_exhausted"},
    CodeName{Code::kUnavailable, "unavailable"},
    CodeName{Code::kDeadlineExceeded, "deadline_exceeded"},
    CodeName{Code::kCancelled, "cancelled"},
    CodeName{Code::kUnimplemented, "unimplemented"},
    CodeName{Code::kInternal, "internal"},
    CodeName{Code::kDataLoss, "data_loss"},
};

}  // namespace

std::string_view code_name(Code code) {
    for (const auto& entry : kCodeNames) {
        if (entry.code == code) {
            return entry.name;
        }
    }
    return "internal";
}

std::optional<Code> code_from_name(std::string_view name) {
    for (const auto& entry : kCodeNames) {
        if (entry.name == name) {
            return entry.code;
        }
    }
    return std::nullopt;
}

Error& Error::add_context(std::string_view what) {
    std::string message;
    message.reserve(what.size() + 2 + message_.size());
    message.append(what).append(": ").append(message_);
    message_ = std::move(message);
    return *this;
}

std::string Error::to_string() const {
    std::string text(code_name(code_));
    text.append(": ").append(message_);
    return text;
}

namespace detail {

void bad_result_access(const Error& error) {
    std::fprintf(stderr, "grove: value() of a failed Result: %s\n", error.to_string().c_str());
    std::abort();
}

void bad_error_access() {
    std::fprintf(stderr, "grove: error() of a successful Result\n");
    std::abort();
}

}  // namespace detail

namespace base {

Error errno_error_from(int err, std::string what) {
    // std::system_category().message is thread-safe (strerror_r), unlike strerror.
    what.append(": ").append(std::system_category().message(err));
    return Error(code_from_errno(err), std::move(what), err);
}

Code code_from_errno(int err) {
    // Abseil's table (absl/status/status.cc), plus ELOOP and ENOEXEC as bad input.
    switch (err) {
        case EINVAL:
        case ENAMETOOLONG:
        case E2BIG:
        case EDESTADDRREQ:
        case EDOM:
        case EFAULT:
        case EILSEQ:
        case ENOPROTOOPT:
        case ENOTSOCK:
        case ENOTTY:
        case EPROTOTYPE:
        case ESPIPE:
        case ELOOP:
        case ENOEXEC:
            return Code::kInvalidArgument;
        case ETIMEDOUT:
        case ETIME:
            return Code::kDeadlineExceeded;
        case ENODEV:
        case ENOENT:
        case ENOMEDIUM:
        case ENXIO:
        case ESRCH:
            return Code::kNotFound;
        case EEXIST:
        case EADDRNOTAVAIL:
        case EALREADY:
        case ENOTUNIQ:
            return Code::kAlreadyExists;
        case EPERM:
        case EACCES:
        case ENOKEY:
        case EROFS:
            return Code::kPermissionDenied;
        case ENOTEMPTY:
        case EISDIR:
        case ENOTDIR:
        case EADDRINUSE:
        case EBADF:
        case EBADFD:
        case EBUSY:
        case ECHILD:
        case EISCONN:
        case ENOTBLK:
        case ENOTCONN:
        case EPIPE:
        case ESHUTDOWN:
        case ETXTBSY:
            return Code::kFailedPrecondition;
        case ENOSPC:
        case EDQUOT:
        case EMFILE:
        case EMLINK:
        case ENFILE:
        case ENOBUFS:
        case ENODATA:
        case ENOMEM:
        case EUSERS:
            return Code::kResourceExhausted;
        case ECHRNG:
        case EFBIG:
        case EOVERFLOW:
        case ERANGE:
            return Code::kOutOfRange;
        case ENOSYS:
        case ENOTSUP:
        case EAFNOSUPPORT:
        case EPFNOSUPPORT:
        case EPROTONOSUPPORT:
        case ESOCKTNOSUPPORT:
        case EXDEV:
            return Code::kUnimplemented;
        case EAGAIN:
        case ECOMM:
        case ECONNREFUSED:
        case ECONNABORTED:
        case ECONNRESET:
        case EINTR:
        case EHOSTDOWN:
        case EHOSTUNREACH:
        case ENETDOWN:
        case ENETRESET:
        case ENETUNREACH:
        case ENOLCK:
        case ENOLINK:
        case ENONET:
            return Code::kUnavailable;
        case EDEADLK:
        case ESTALE:
            return Code::kAborted;
        case ECANCELED:
            return Code::kCancelled;
        default:
            return Code::kInternal;
    }
}

}  // namespace base
}  // namespace grove
