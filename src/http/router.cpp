#include "http/router.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace grove::http {
namespace {

enum class SegmentKind {
    // In increasing order of specificity.
    kRest,
    kParam,
    kAffixed,
    kLiteral,
};

struct Segment {
    SegmentKind kind = SegmentKind::kLiteral;
    std::string literal;  // kLiteral: the text; kAffixed: the prefix
    std::string suffix;   // kAffixed
    std::string name;     // parameters
};

std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> segments;
    path.remove_prefix(1);  // the leading '/'
    for (;;) {
        const size_t slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return segments;
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

Result<std::vector<Segment>> parse_pattern(std::string_view pattern) {
    if (pattern.empty() || pattern.front() != '/') {
        return base::make_error(Code::kInvalidArgument, "route pattern '{}' must start with '/'",
                                pattern);
    }
    std::vector<Segment> segments;
    for (std::string_view text : split_segments(pattern)) {
        const size_t open = text.find('{');
        const size_t close = text.find('}');
        if (open == std::string_view::npos && close == std::string_view::npos) {
            segments.push_back({.kind = SegmentKind::kLiteral, .literal = std::string(text)});
            continue;
        }
        if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
            text.find('{', open + 1) != std::string_view::npos ||
            text.find('}', close + 1) != std::string_view::npos) {
            return base::make_error(Code::kInvalidArgument,
                                    "route pattern '{}': unbalanced braces in '{}'", pattern, text);
        }
        std::string_view name = text.substr(open + 1, close - open - 1);
        Segment segment{.literal = std::string(text.substr(0, open)),
                        .suffix = std::string(text.substr(close + 1))};
        if (name.ends_with("...")) {
            name.remove_suffix(3);
            if (!segment.literal.empty() || !segment.suffix.empty()) {
                return base::make_error(Code::kInvalidArgument,
                                        "route pattern '{}': '{{{}...}}' must be a whole segment",
                                        pattern, name);
            }
            segment.kind = SegmentKind::kRest;
        } else {
            segment.kind = segment.literal.empty() && segment.suffix.empty()
                               ? SegmentKind::kParam
                               : SegmentKind::kAffixed;
        }
        if (!valid_name(name)) {
            return base::make_error(Code::kInvalidArgument,
                                    "route pattern '{}': bad parameter name '{}'", pattern, name);
        }
        for (const Segment& other : segments) {
            if (other.name == name) {
                return base::make_error(Code::kInvalidArgument,
                                        "route pattern '{}': parameter '{}' appears twice", pattern,
                                        name);
            }
        }
        segment.name = std::string(name);
        segments.push_back(std::move(segment));
    }
    return segments;
}

// Matches path segments [si, end) against pattern segments [pi, end), backtracking over how
// many segments each rest parameter takes. Captures go to `params` in pattern order.
bool match_from(const std::vector<Segment>& pattern,
                size_t pi,
                const std::vector<std::string>& path,
                size_t si,
                std::vector<std::pair<std::string, std::string>>& params) {
    if (pi == pattern.size()) {
        return si == path.size();
    }
    if (si == path.size()) {
        return false;
    }
    const Segment& seg = pattern[pi];
    switch (seg.kind) {
        case SegmentKind::kLiteral:
            return path[si] == seg.literal && match_from(pattern, pi + 1, path, si + 1, params);
        case SegmentKind::kParam:
        case SegmentKind::kAffixed: {
            const std::string& text = path[si];
            if (text.size() <= seg.literal.size() + seg.suffix.size() ||
                !text.starts_with(seg.literal) || !text.ends_with(seg.suffix)) {
                return false;
            }
            params.emplace_back(seg.name,
                                text.substr(seg.literal.size(),
                                            text.size() - seg.literal.size() - seg.suffix.size()));
            if (match_from(pattern, pi + 1, path, si + 1, params)) {
                return true;
            }
            params.pop_back();
            return false;
        }
        case SegmentKind::kRest: {
            // Longest first: "/images/{name...}/json" on "/images/a/json/json" takes "a/json".
            const size_t remaining_pattern = pattern.size() - pi - 1;
            if (path.size() - si < remaining_pattern + 1) {
                return false;
            }
            for (size_t take = path.size() - si - remaining_pattern; take >= 1; --take) {
                std::string value;
                for (size_t i = si; i < si + take; ++i) {
                    if (i > si) {
                        value += '/';
                    }
                    value += path[i];
                }
                if (value.empty()) {
                    continue;
                }
                params.emplace_back(seg.name, std::move(value));
                if (match_from(pattern, pi + 1, path, si + take, params)) {
                    return true;
                }
                params.pop_back();
            }
            return false;
        }
    }
    return false;
}

// True when a is more specific than b.
bool more_specific(const std::vector<Segment>& a, const std::vector<Segment>& b) {
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        if (a[i].kind != b[i].kind) {
            return a[i].kind > b[i].kind;
        }
    }
    return a.size() > b.size();
}

}  // namespace

struct Router::Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    RouteOptions options;
};

Router::Router(RouterOptions options) : options_(std::move(options)) {}
Router::Router(const Router&) = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(const Router&) = default;
Router& Router::operator=(Router&&) noexcept = default;
Router::~Router() = default;

Router& Router::add(std::string_view method,
                    std::string_view pattern,
                    Handler handler,
                    RouteOptions options) {
    auto segments = parse_pattern(pattern);
    if (!segments) {
        if (!invalid_) {
            invalid_ = segments.error();
        }
        return *this;
    }
    if (method.empty() || !handler) {
        if (!invalid_) {
            invalid_ = base::make_error(Code::kInvalidArgument,
                                        "route '{}': empty method or handler", pattern);
        }
        return *this;
    }
    routes_.push_back(Route{.method = std::string(method),
                            .pattern = std::string(pattern),
                            .segments = std::move(*segments),
                            .handler = std::move(handler),
                            .options = options});
    return *this;
}

Router& Router::mount(std::string_view prefix, const Router& sub) {
    if (sub.invalid_ && !invalid_) {
        invalid_ = sub.invalid_;
    }
    if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/')) {
        if (!invalid_) {
            invalid_ = base::make_error(
                Code::kInvalidArgument,
                "mount prefix '{}' must start with '/' and must not end with '/'", prefix);
        }
        return *this;
    }
    for (const Route& route : sub.routes_) {
        add(route.method, std::string(prefix) + route.pattern, route.handler, route.options);
    }
    return *this;
}

Result<void> Router::validate() const {
    if (invalid_) {
        return *invalid_;
    }
    return {};
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
    Match result;
    if (path.empty() || path.front() != '/') {
        result.status = MatchStatus::kBadPath;
        result.error = "the request target must be an absolute path";
        return result;
    }
    std::vector<std::string> segments;
    for (std::string_view raw : split_segments(path)) {
        auto decoded = percent_decode(raw, DecodeMode::kPath);
        if (!decoded) {
            result.status = MatchStatus::kBadPath;
            result.error = decoded.error().message();
            return result;
        }
        segments.push_back(std::move(*decoded));
    }

    const Route* best = nullptr;
    const Route* best_get = nullptr;  // for HEAD without a HEAD route
    std::vector<std::pair<std::string, std::string>> best_params;
    std::vector<std::pair<std::string, std::string>> best_get_params;
    std::vector<std::string> allowed;
    for (const Route& route : routes_) {
        std::vector<std::pair<std::string, std::string>> params;
        if (!match_from(route.segments, 0, segments, 0, params)) {
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
            allowed.push_back(route.method);
        }
        if (route.method == method) {
            if (best == nullptr || more_specific(route.segments, best->segments)) {
                best = &route;
                best_params = std::move(params);
            }
        } else if (method == "HEAD" && route.method == "GET") {
            if (best_get == nullptr || more_specific(route.segments, best_get->segments)) {
                best_get = &route;
                best_get_params = std::move(params);
            }
        }
    }
    if (best == nullptr && best_get != nullptr) {
        best = best_get;
        best_params = std::move(best_get_params);
    }
    if (best != nullptr) {
        result.status = MatchStatus::kFound;
        result.handler = &best->handler;
        result.pattern = best->pattern;
        result.options = best->options;
        for (auto& [name, value] : best_params) {
            result.params.add(std::move(name), std::move(value));
        }
        return result;
    }
    if (allowed.empty()) {
        result.status = MatchStatus::kNotFound;
        return result;
    }
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end() &&
        std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) {
        allowed.emplace_back("HEAD");
    }
    std::sort(allowed.begin(), allowed.end());
    result.status = MatchStatus::kMethodNotAllowed;
    for (const std::string& m : allowed) {
        if (!result.allow.empty()) {
            result.allow += ", ";
        }
        result.allow += m;
    }
    return result;
}

}  // namespace grove::http
