#include "docker_api/filters.hpp"

#include <fnmatch.h>

#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::docker_api {

Result<Filters> Filters::parse(const http::Request& request, std::set<std::string> known) {
    Filters filters;
    if (const auto legacy = request.query().get("filter"); legacy && !legacy->empty()) {
        filters.values_["reference"].insert(std::string(*legacy));
    }
    const auto text = request.query().get("filters");
    if (!text || text->empty()) {
        return filters;
    }
    GROVE_ASSIGN_OR_RETURN(const base::Json json, base::parse_json(*text));
    if (!json.is_object()) {
        return base::make_error(Code::kInvalidArgument, "invalid filter: want a JSON object");
    }
    for (const auto& [name, values] : json.items()) {
        if (!known.contains(name)) {
            return base::make_error(Code::kInvalidArgument, "invalid filter '{}'", name);
        }
        auto& set = filters.values_[name];
        if (values.is_array()) {
            for (const auto& value : values) {
                if (value.is_string()) {
                    set.insert(value.get<std::string>());
                }
            }
        } else if (values.is_object()) {
            for (const auto& [value, on] : values.items()) {
                if (on.is_boolean() && on.get<bool>()) {
                    set.insert(value);
                }
            }
        } else {
            return base::make_error(Code::kInvalidArgument, "invalid filter '{}'", name);
        }
    }
    return filters;
}

const std::set<std::string>& Filters::values(std::string_view name) const {
    static const std::set<std::string> kNone;
    const auto it = values_.find(name);
    return it == values_.end() ? kNone : it->second;
}

bool Filters::accepts(std::string_view name, std::string_view value) const {
    const auto it = values_.find(name);
    return it == values_.end() || it->second.contains(std::string(value));
}

Result<std::optional<bool>> Filters::boolean(std::string_view name) const {
    const auto& set = values(name);
    if (set.empty()) {
        return std::optional<bool>();
    }
    if (set.size() == 1) {
        const std::string& value = *set.begin();
        if (value == "true" || value == "1") {
            return std::optional<bool>(true);
        }
        if (value == "false" || value == "0") {
            return std::optional<bool>(false);
        }
    }
    return base::make_error(Code::kInvalidArgument, "invalid filter '{}={}'", name, *set.begin());
}

bool glob_match(std::string_view pattern, std::string_view text) {
    return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), FNM_PATHNAME) == 0;
}

}  // namespace grove::docker_api
