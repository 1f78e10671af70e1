#pragma once

// JSON at the edges: parse untrusted text into nlohmann::json and read typed fields out of it,
// turning every nlohmann exception into an InvalidArgument Result. Core code takes typed structs,
// never Json (style.md 6.10); this header is for the code that builds those structs.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <grove/result.hpp>

namespace grove::base {

using Json = nlohmann::json;

// Parses `text`, failing with InvalidArgument ("parse json: ... at byte N").
Result<Json> parse_json(std::string_view text);

// `value` as compact JSON text. Strings that are not valid UTF-8 (a file name, a command's
// output) have their bad bytes replaced with U+FFFD instead of making dump() throw.
std::string dump_json(const Json& value);

// Converts `value` with nlohmann's from_json; a type mismatch is InvalidArgument naming `what`.
template <typename T>
Result<T> json_as(const Json& value, std::string_view what) {
    try {
        return value.get<T>();
    } catch (const Json::exception& e) {
        return Error(Code::kInvalidArgument, std::string(what) + ": " + e.what());
    }
}

// The required member `key` of `object`, converted to T.
template <typename T>
Result<T> json_field(const Json& object, std::string_view key) {
    if (!object.is_object()) {
        return Error(Code::kInvalidArgument,
                     "expected a JSON object, got " + std::string(object.type_name()));
    }
    const auto it = object.find(key);
    if (it == object.end()) {
        return Error(Code::kInvalidArgument, "missing field '" + std::string(key) + "'");
    }
    return json_as<T>(*it, "field '" + std::string(key) + "'");
}

// The optional member `key` of `object`: nullopt when absent or null.
template <typename T>
Result<std::optional<T>> json_optional_field(const Json& object, std::string_view key) {
    if (!object.is_object()) {
        return Error(Code::kInvalidArgument,
                     "expected a JSON object, got " + std::string(object.type_name()));
    }
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return std::optional<T>{};
    }
    GROVE_ASSIGN_OR_RETURN(T value, json_as<T>(*it, "field '" + std::string(key) + "'"));
    return std::optional<T>(std::move(value));
}

}  // namespace grove::base
