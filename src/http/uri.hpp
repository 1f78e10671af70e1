#pragma once

// The parts of a request target: percent-decoding, the query string, and path parameters.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grove/result.hpp>

namespace grove::http {

enum class DecodeMode {
    kPath,   // "%XX" only; '+' stays '+'
    kQuery,  // "%XX", and '+' is a space (application/x-www-form-urlencoded)
};

// Decodes "%XX" escapes; a malformed escape or a decoded NUL is InvalidArgument.
Result<std::string> percent_decode(std::string_view in, DecodeMode mode);

// Splits an origin-form target "/a/b?x=1" into its path and query (without the '?').
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// Ordered name/value pairs with decoded names and values; a name may repeat (Docker's
// `names=a&names=b`). "flag" without '=' has the empty value.
class QueryParams {
public:
    using Item = std::pair<std::string, std::string>;

    QueryParams() = default;
    static Result<QueryParams> parse(std::string_view query);

    // The first value of `name`.
    std::optional<std::string_view> get(std::string_view name) const;
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }
    const std::vector<Item>& items() const { return items_; }

private:
    std::vector<Item> items_;
};

// The values a route pattern captured, decoded: "{id}" in "/v1/operations/{id}/events".
class PathParams {
public:
    void add(std::string name, std::string value) {
        items_.emplace_back(std::move(name), std::move(value));
    }
    // The captured value, or nullopt when the pattern has no such parameter.
    std::optional<std::string_view> get(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace grove::http
