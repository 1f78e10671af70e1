#pragma once

// Docker's `filters` query parameter: a JSON object mapping a filter's name to its values, either
// as a list (["true"]) or, as older clients send, as an object ({"true": true}). The legacy
// `filter` parameter of /images/json is a reference filter.

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "http/request.hpp"

namespace grove::docker_api {

class Filters {
public:
    // InvalidArgument for malformed JSON, or for a filter name not in `known`.
    static Result<Filters> parse(const http::Request& request, std::set<std::string> known);

    bool has(std::string_view name) const { return values_.contains(std::string(name)); }
    const std::set<std::string>& values(std::string_view name) const;
    // True when no such filter is set, or one of its values is `value`.
    bool accepts(std::string_view name, std::string_view value) const;
    // The filter's only boolean value ("true"/"1" or "false"/"0"); InvalidArgument otherwise.
    Result<std::optional<bool>> boolean(std::string_view name) const;

private:
    std::map<std::string, std::set<std::string>, std::less<>> values_;
};

// Whether `text` matches Docker's glob `pattern` (path.Match: '*' and '?' within a segment).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace grove::docker_api
