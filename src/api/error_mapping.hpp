#pragma once

// The only place where a grove Code becomes an HTTP status (style.md 6.3), and the error body
// the ConTree clients parse: {"error": <message>, "status": <status>, "code": <code name>}.
// "error" and "status" are ConTree's; "code" is grove's wire name of the Code (code_name), from
// which grove's own client rebuilds the exact Code, since several codes share a status.
//
//   400 InvalidArgument, OutOfRange     409 AlreadyExists, Aborted, FailedPrecondition
//   401 Unauthenticated                 429 ResourceExhausted (a limit: a full queue)
//   403 PermissionDenied                507 ResourceExhausted with an errno (the disk is full)
//   404 NotFound                        499 Cancelled (nginx's "client closed request")
//   501 Unimplemented                   503 Unavailable
//   504 DeadlineExceeded                500 everything else (Internal, DataLoss)
//
// ConTree's clients replay even a POST after 425 or 429, taking them to mean "rejected before
// any processing". 429 is therefore kept for limits checked before any side effect (a full
// queue), with Retry-After; a full disk, which may strike halfway through, is 507.

#include <string_view>

#include <grove/error.hpp>

#include "http/response.hpp"

namespace grove::api {

// The status of `error` (its code, and for ResourceExhausted whether an errno caused it).
int http_status(const Error& error);

// The response for `error`, with Retry-After where clients should retry.
http::Response error_response(const Error& error);
// For the routes that read a path inside an image: a path of the wrong kind (a directory to
// download, a file to list: FailedPrecondition) is 422, ConTree's "the path is not usable inside
// the image"; anything else is error_response().
http::Response path_error_response(const Error& error);
// The response for a status the HTTP server decided itself (404 for an unknown path, 413, ...).
http::Response status_response(int status, std::string_view message);

}  // namespace grove::api
