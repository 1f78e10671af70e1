#pragma once

// How registry HTTP answers become grove errors. The distribution spec's error body
// ({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}) supplies the detail.
//
//   401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 429 and 500/502/503/504 Unavailable
//   (the retryable ones), 501 Unimplemented, 416 OutOfRange, other 4xx InvalidArgument, the rest
//   Internal.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <grove/error.hpp>

#include "http_client.hpp"

namespace grove::registry {

Code code_for_status(long status);
bool is_retryable_status(long status);

// "MANIFEST_UNKNOWN: manifest unknown" from a spec error body, else the body's first line, else
// "HTTP <status>".
std::string describe_response(const HttpResponse& response);

// The error for a non-2xx `response` to a request for `what` ("manifest 'x'").
Error status_error(const HttpResponse& response, std::string_view what);

// Retry-After in its delay-seconds form; the HTTP-date form is ignored (backoff applies).
std::optional<std::chrono::seconds> retry_after(const HttpResponse& response);

}  // namespace grove::registry
