#include "http/uri.hpp"

#include "base/error.hpp"

namespace grove::http {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

Result<std::string> percent_decode(std::string_view in, DecodeMode mode) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return base::make_error(Code::kInvalidArgument, "malformed percent escape in '{}'",
                                        in);
            }
            const char decoded = static_cast<char>(hi * 16 + lo);
            if (decoded == '\0') {
                return base::make_error(Code::kInvalidArgument, "escaped NUL in '{}'", in);
            }
            out += decoded;
            i += 2;
        } else if (c == '+' && mode == DecodeMode::kQuery) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const size_t q = target.find('?');
    if (q == std::string_view::npos) {
        return {target, {}};
    }
    std::string_view query = target.substr(q + 1);
    // A fragment never reaches a server, but a client bug must not leak it into the last value.
    query = query.substr(0, query.find('#'));
    return {target.substr(0, q), query};
}

Result<QueryParams> QueryParams::parse(std::string_view query) {
    QueryParams params;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const size_t eq = pair.find('=');
        GROVE_ASSIGN_OR_RETURN(std::string name,
                               percent_decode(pair.substr(0, eq), DecodeMode::kQuery));
        std::string value;
        if (eq != std::string_view::npos) {
            GROVE_ASSIGN_OR_RETURN(value, percent_decode(pair.substr(eq + 1), DecodeMode::kQuery));
        }
        params.items_.emplace_back(std::move(name), std::move(value));
    }
    return params;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
    for (const Item& item : items_) {
        if (item.first == name) {
            return std::string_view(item.second);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> QueryParams::get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const Item& item : items_) {
        if (item.first == name) {
            values.emplace_back(item.second);
        }
    }
    return values;
}

std::optional<std::string_view> PathParams::get(std::string_view name) const {
    for (const auto& item : items_) {
        if (item.first == name) {
            return std::string_view(item.second);
        }
    }
    return std::nullopt;
}

}  // namespace grove::http
