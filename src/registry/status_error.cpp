#include "status_error.hpp"

#include <charconv>

#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::registry {
namespace {

std::string string_field(const base::Json& object, std::string_view key) {
    return base::json_optional_field<std::string>(object, key)
        .value_or(std::nullopt)
        .value_or(std::string());
}

}  // namespace

Code code_for_status(long status) {
    switch (status) {
        case 401:
            return Code::kUnauthenticated;
        case 403:
            return Code::kPermissionDenied;
        case 404:
            return Code::kNotFound;
        case 416:
            return Code::kOutOfRange;
        case 501:
            return Code::kUnimplemented;
        default:
            break;
    }
    if (is_retryable_status(status)) {
        return Code::kUnavailable;
    }
    return status >= 400 && status < 500 ? Code::kInvalidArgument : Code::kInternal;
}

bool is_retryable_status(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string describe_response(const HttpResponse& response) {
    std::string out;
    if (auto json = base::parse_json(response.body); json && json->is_object()) {
        const auto errors = json->find("errors");
        if (errors != json->end() && errors->is_array()) {
            for (const auto& e : *errors) {
                const std::string code = string_field(e, "code");
                const std::string message = string_field(e, "message");
                out += (out.empty() ? "" : "; ") + code +
                       (code.empty() || message.empty() ? "" : ": ") + message;
            }
        }
    } else if (!response.body.empty()) {
        out = response.body.substr(0, std::min(response.body.find('\n'), size_t{200}));
    }
    return out.empty() ? "HTTP " + std::to_string(response.status) : out;
}

Error status_error(const HttpResponse& response, std::string_view what) {
    const Code code = code_for_status(response.status);
    const std::string detail = describe_response(response);
    switch (code) {
        case Code::kNotFound:
            return base::make_error(code, "{} not found: {}", what, detail);
        case Code::kUnauthenticated:
            // Registries answer 401 both for missing credentials and for repositories that do
            // not exist, so as not to reveal which private ones do (Docker's wording).
            return base::make_error(
                code,
                "{}: pull access denied ({}): the repository does not exist or needs credentials",
                what, detail);
        default:
            return base::make_error(code, "{}: the registry answered {}: {}", what, response.status,
                                    detail);
    }
}

std::optional<std::chrono::seconds> retry_after(const HttpResponse& response) {
    const auto value = response.header("retry-after");
    if (!value) {
        return std::nullopt;
    }
    long seconds = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
    if (ec != std::errc() || end != value->data() + value->size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds(seconds);
}

}  // namespace grove::registry
