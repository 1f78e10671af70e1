#pragma once

// Header fields of a request or a response, in arrival order. Names compare case-insensitively
// (RFC 9110 5.1); a name may repeat, and get() returns the first value.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grove::http {

// ASCII case-insensitive equality, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);
// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 5.6.3).
std::string_view trim_ows(std::string_view s);

class Headers {
public:
    struct Field {
        std::string name;
        std::string value;
    };

    Headers() = default;
    Headers(std::initializer_list<Field> fields) : fields_(fields) {}

    // Appends a field, keeping any field of the same name.
    void add(std::string name, std::string value);
    // Replaces every field named `name` with one field.
    void set(std::string_view name, std::string value);
    void remove(std::string_view name);

    // The first value of `name`.
    std::optional<std::string_view> get(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }
    // True when a comma-separated list field (Connection, Upgrade, Accept-Encoding, ...) holds
    // `token`, ignoring case and any ";parameters": has_token("Connection", "upgrade").
    bool has_token(std::string_view name, std::string_view token) const;

    std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
    std::vector<Field>::const_iterator end() const { return fields_.end(); }
    size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }

private:
    std::vector<Field> fields_;
};

}  // namespace grove::http
