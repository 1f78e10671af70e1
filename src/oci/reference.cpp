#include "reference.hpp"

#include "base/error.hpp"

namespace grove::oci {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool valid_path_component(std::string_view s) {
    if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) {
        return false;
    }
    for (size_t i = 0; i < s.size();) {
        if (is_lower_alnum(s[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && !is_lower_alnum(s[j])) {
            ++j;
        }
        const std::string_view sep = s.substr(i, j - i);
        const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
            return false;
        }
        i = j;
    }
    return true;
}

bool valid_port(std::string_view s) {
    return !s.empty() && s.size() <= 5 &&
           s.find_first_not_of("0123456789") == std::string_view::npos;
}

// hostname := component ("." component)*; component := [A-Za-z0-9] ([A-Za-z0-9-]* [A-Za-z0-9])?
bool valid_hostname(std::string_view s) {
    size_t start = 0;
    while (start <= s.size()) {
        const size_t dot = std::min(s.find('.', start), s.size());
        const std::string_view part = s.substr(start, dot - start);
        if (part.empty() || !is_alnum(part.front()) || !is_alnum(part.back())) {
            return false;
        }
        for (char c : part) {
            if (!is_alnum(c) && c != '-') {
                return false;
            }
        }
        start = dot + 1;
    }
    return true;
}

// domain := (hostname | "[" IPv6 "]") [":" port]
bool valid_domain(std::string_view s) {
    std::string_view port;
    if (s.starts_with('[')) {
        const size_t close = s.find(']');
        if (close == std::string_view::npos || close == 1 ||
            s.substr(1, close - 1).find_first_not_of("0123456789abcdefABCDEF:.") !=
                std::string_view::npos) {
            return false;
        }
        const std::string_view after = s.substr(close + 1);
        return after.empty() || (after.front() == ':' && valid_port(after.substr(1)));
    }
    if (const size_t colon = s.rfind(':'); colon != std::string_view::npos) {
        port = s.substr(colon + 1);
        s = s.substr(0, colon);
        if (!valid_port(port)) {
            return false;
        }
    }
    return valid_hostname(s);
}

// tag := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
bool valid_tag(std::string_view s) {
    if (s.empty() || s.size() > kMaxTagLength || !(is_alnum(s.front()) || s.front() == '_')) {
        return false;
    }
    for (char c : s) {
        if (!(is_alnum(c) || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

Error invalid(std::string_view text, std::string_view why) {
    return base::make_error(Code::kInvalidArgument, "invalid reference '{}': {}", text, why);
}

}  // namespace

Result<Reference> Reference::parse(std::string_view text) {
    std::string_view rest = text;
    if (rest.starts_with("docker://")) {
        rest.remove_prefix(9);
    }
    Reference ref;
    if (const size_t at = rest.find('@'); at != std::string_view::npos) {
        auto digest = base::Digest::parse(rest.substr(at + 1));
        if (!digest) {
            return invalid(text, digest.error().message());
        }
        ref.digest = std::move(digest).value();
        rest = rest.substr(0, at);
    }
    // A tag is after the last ':' that follows the last '/', so "host:5000/x" has no tag.
    const size_t slash = rest.rfind('/');
    if (const size_t colon = rest.rfind(':');
        colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        const std::string_view tag = rest.substr(colon + 1);
        if (!valid_tag(tag)) {
            return invalid(text, fmt::format("bad tag '{}'", tag));
        }
        ref.tag = std::string(tag);
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) {
        return invalid(text, "empty name");
    }

    const size_t first_slash = rest.find('/');
    const std::string_view first = rest.substr(0, first_slash);
    const bool has_domain =
        first_slash != std::string_view::npos &&
        (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos);
    std::string_view path = rest;
    if (has_domain) {
        if (!valid_domain(first)) {
            return invalid(text, fmt::format("bad registry host '{}'", first));
        }
        ref.domain =
            first == "index.docker.io" ? std::string(kDockerHubDomain) : std::string(first);
        path = rest.substr(first_slash + 1);
    } else {
        ref.domain = std::string(kDockerHubDomain);
    }
    size_t start = 0;
    while (start <= path.size()) {
        const size_t end = std::min(path.find('/', start), path.size());
        const std::string_view component = path.substr(start, end - start);
        if (!valid_path_component(component)) {
            const bool upper =
                component.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
            return invalid(text, upper ? std::string("repository name must be lowercase")
                                       : fmt::format("bad path component '{}'", component));
        }
        start = end + 1;
    }
    ref.repository = std::string(path);
    if (ref.domain == kDockerHubDomain && ref.repository.find('/') == std::string::npos) {
        ref.repository = "library/" + ref.repository;
    }
    if (ref.name().size() > kMaxNameLength) {
        return invalid(text, fmt::format("name longer than {} characters", kMaxNameLength));
    }
    if (!ref.tag && !ref.digest) {
        ref.tag = "latest";
    }
    return ref;
}

std::string Reference::name() const {
    return domain + "/" + repository;
}

std::string Reference::to_string() const {
    std::string out = name();
    if (tag) {
        out += ":" + *tag;
    }
    if (digest) {
        out += "@" + digest->str();
    }
    return out;
}

std::string Reference::familiar() const {
    std::string out;
    if (domain != kDockerHubDomain) {
        out = domain + "/" + repository;
    } else if (repository.starts_with("library/") && repository.find('/', 8) == std::string::npos) {
        out = repository.substr(8);
    } else {
        out = repository;
    }
    if (tag) {
        out += ":" + *tag;
    }
    if (digest) {
        out += "@" + digest->str();
    }
    return out;
}

std::string Reference::tag_or_digest() const {
    return digest ? digest->str() : tag.value_or("latest");
}

}  // namespace grove::oci
