#include "api/error_mapping.hpp"

#include "base/json.hpp"

namespace grove::api {
namespace {

// The code a status stands for when the server, not a handler, decided it.
Code code_of_status(int status) {
    switch (status) {
        case 400:
        case 413:
        case 431:
            return Code::kInvalidArgument;
        case 401:
            return Code::kUnauthenticated;
        case 403:
            return Code::kPermissionDenied;
        case 404:
        case 405:
            return Code::kNotFound;
        case 408:
        case 504:
            return Code::kDeadlineExceeded;
        case 409:
            return Code::kFailedPrecondition;
        case 429:
            return Code::kResourceExhausted;
        case 503:
            return Code::kUnavailable;
        default:
            return Code::kInternal;
    }
}

http::Response render(int status, Code code, std::string_view message) {
    http::Response response = http::Response::json(
        status,
        base::dump_json({{"error", message}, {"status", status}, {"code", code_name(code)}}));
    if (status == 429 || status == 503) {
        response.headers.set("Retry-After", "1");
    }
    return response;
}

}  // namespace

int http_status(const Error& error) {
    switch (error.code()) {
        case Code::kInvalidArgument:
        case Code::kOutOfRange:
            return 400;
        case Code::kUnauthenticated:
            return 401;
        case Code::kPermissionDenied:
            return 403;
        case Code::kNotFound:
            return 404;
        case Code::kAlreadyExists:
        case Code::kAborted:
        case Code::kFailedPrecondition:
            return 409;
        case Code::kResourceExhausted:
            return error.sys_errno() != 0 ? 507 : 429;
        case Code::kCancelled:
            return 499;
        case Code::kUnimplemented:
            return 501;
        case Code::kUnavailable:
            return 503;
        case Code::kDeadlineExceeded:
            return 504;
        case Code::kInternal:
        case Code::kDataLoss:
            return 500;
    }
    return 500;
}

http::Response error_response(const Error& error) {
    return render(http_status(error), error.code(), error.message());
}

http::Response path_error_response(const Error& error) {
    if (error.code() == Code::kFailedPrecondition) {
        return render(422, error.code(), error.message());
    }
    return error_response(error);
}

http::Response status_response(int status, std::string_view message) {
    return render(status, code_of_status(status), message);
}

}  // namespace grove::api
