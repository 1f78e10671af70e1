#include "http/request.hpp"

#include <array>
#include <charconv>

#include "base/unique_fd.hpp"
#include "http/connection.hpp"
#include "http/headers.hpp"

namespace grove::http {
namespace {

// The q value of an Accept-Encoding item's parameters ("q=0.5"); 1 when absent, 0 if malformed.
double quality(std::string_view params) {
    while (!params.empty()) {
        const size_t semi = params.find(';');
        const std::string_view param = trim_ows(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            const std::string_view value = param.substr(2);
            // "0", "0.", "0.000" are zero; anything else that parses is positive.
            if (value.empty() || value.find_first_not_of("0123456789.") != std::string_view::npos) {
                return 0;
            }
            return value.find_first_not_of("0.") == std::string_view::npos ? 0 : 1;
        }
    }
    return 1;
}

}  // namespace

bool Request::accepts_gzip() const {
    std::optional<double> gzip;
    std::optional<double> any;
    for (const Headers::Field& field : headers_) {
        if (!iequals(field.name, "Accept-Encoding")) {
            continue;
        }
        std::string_view rest = field.value;
        while (!rest.empty()) {
            const size_t comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            const size_t semi = item.find(';');
            const std::string_view coding = trim_ows(item.substr(0, semi));
            const double q = semi == std::string_view::npos ? 1 : quality(item.substr(semi + 1));
            if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
                gzip = q;
            } else if (coding == "*") {
                any = q;
            }
        }
    }
    if (gzip) {
        return *gzip > 0;
    }
    return any && *any > 0;
}

bool Request::wants_upgrade(std::string_view protocol) const {
    return headers_.has_token("Connection", "upgrade") && headers_.has_token("Upgrade", protocol);
}

Result<size_t> Request::read_body(std::span<char> out) {
    return exchange_.read_body(out);
}

Result<std::string> Request::read_body_to_string() {
    std::string body;
    if (content_length_) {
        body.reserve(*content_length_);
    }
    std::array<char, 65536> buffer{};
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const size_t n, read_body(buffer));
        if (n == 0) {
            return body;
        }
        body.append(buffer.data(), n);
    }
}

Result<uint64_t> Request::copy_body_to(int fd) {
    std::array<char, 65536> buffer{};
    uint64_t total = 0;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const size_t n, read_body(buffer));
        if (n == 0) {
            return total;
        }
        GROVE_TRY(base::write_all(fd, std::string_view(buffer.data(), n)));
        total += n;
    }
}

}  // namespace grove::http
