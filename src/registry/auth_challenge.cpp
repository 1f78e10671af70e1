#include "auth_challenge.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace grove::registry {
namespace {

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// RFC 7230 tchar.
bool is_tchar(char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
// RFC 7235 token68 (without its trailing '=' padding).
bool is_token68_char(char c) {
    return is_alnum(c) || std::string_view("-._~+/").find(c) != std::string_view::npos;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    return out;
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    Result<std::vector<Challenge>> parse() {
        std::vector<Challenge> out;
        for (;;) {
            skip_while([](char c) { return c == ' ' || c == '\t' || c == ','; });
            if (at_end()) {
                return out;
            }
            GROVE_ASSIGN_OR_RETURN(Challenge challenge, parse_challenge());
            out.push_back(std::move(challenge));
        }
    }

private:
    // scheme [ 1*SP ( token68 / #auth-param ) ], stopping before the next challenge's scheme.
    Result<Challenge> parse_challenge() {
        Challenge challenge;
        const std::string_view scheme = take_while(is_tchar);
        if (scheme.empty()) {
            return error("expected an authentication scheme");
        }
        challenge.scheme = lowercase(scheme);
        skip_spaces();
        if (at_end() || peek() == ',') {
            return parse_more_params(std::move(challenge));
        }
        // The first item alone may be a token68, recognisable as the whole item.
        if (const size_t end = token68_end(); end != 0) {
            challenge.token68 = std::string(text_.substr(pos_, end - pos_));
            pos_ = end;
            return parse_more_params(std::move(challenge));
        }
        const std::string_view name = take_while(is_tchar);
        skip_spaces();
        if (name.empty() || at_end() || peek() != '=') {
            return error("expected a parameter");
        }
        GROVE_TRY(parse_value(challenge, name));
        return parse_more_params(std::move(challenge));
    }

    // ( "," [ auth-param ] )*, until the end or an item that is a new scheme rather than a param.
    Result<Challenge> parse_more_params(Challenge challenge) {
        for (;;) {
            skip_spaces();
            if (at_end()) {
                return challenge;
            }
            if (peek() != ',') {
                return error("expected ','");
            }
            skip_while([](char c) { return c == ' ' || c == '\t' || c == ','; });
            const size_t item = pos_;
            const std::string_view name = take_while(is_tchar);
            skip_spaces();
            if (name.empty() || at_end() || peek() != '=') {
                pos_ = item;  // the next challenge starts here
                return challenge;
            }
            GROVE_TRY(parse_value(challenge, name));
        }
    }

    // After a parameter name: "=" BWS ( quoted-string / value ).
    Result<void> parse_value(Challenge& challenge, std::string_view name) {
        ++pos_;  // '='
        skip_spaces();
        std::string value;
        if (!at_end() && peek() == '"') {
            GROVE_ASSIGN_OR_RETURN(value, parse_quoted());
        } else {
            // Servers send unquoted URLs as values although ':' and '/' are not tchars; accept
            // anything up to the next separator.
            value = std::string(
                take_while([](char c) { return c != ',' && c != ' ' && c != '\t' && c != '"'; }));
            if (value.empty()) {
                return error("expected a value");
            }
        }
        challenge.params.emplace(lowercase(name), std::move(value));
        return {};
    }

    Result<std::string> parse_quoted() {
        std::string out;
        for (++pos_; !at_end(); ++pos_) {
            char c = peek();
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c == '\\') {
                if (++pos_ == text_.size()) {
                    break;
                }
                c = peek();
            }
            out.push_back(c);
        }
        return error("unterminated quoted string");
    }

    // The end of a token68 item at pos_ (1*token68-char *"=", then only spaces before the end or
    // a ','), or 0 when the item is something else.
    size_t token68_end() const {
        size_t i = pos_;
        while (i < text_.size() && is_token68_char(text_[i])) {
            ++i;
        }
        if (i == pos_) {
            return 0;
        }
        while (i < text_.size() && text_[i] == '=') {
            ++i;
        }
        size_t j = i;
        while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t')) {
            ++j;
        }
        return j == text_.size() || text_[j] == ',' ? i : 0;
    }

    template <typename Pred>
    std::string_view take_while(Pred pred) {
        const size_t start = pos_;
        skip_while(pred);
        return text_.substr(start, pos_ - start);
    }
    template <typename Pred>
    void skip_while(Pred pred) {
        while (!at_end() && pred(peek())) {
            ++pos_;
        }
    }
    void skip_spaces() {
        skip_while([](char c) { return c == ' ' || c == '\t'; });
    }
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }
    Error error(std::string_view what) const {
        return base::make_error(Code::kInvalidArgument,
                                "invalid WWW-Authenticate header '{}': {} at offset {}", text_,
                                what, pos_);
    }

    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> Challenge::param(std::string_view name) const {
    const auto it = params.find(std::string(name));
    if (it == params.end()) {
        return std::nullopt;
    }
    return it->second;
}

Result<std::vector<Challenge>> parse_challenges(std::string_view header) {
    return Parser(header).parse();
}

const Challenge* find_challenge(const std::vector<Challenge>& challenges, std::string_view scheme) {
    const auto it = std::find_if(challenges.begin(), challenges.end(),
                                 [&](const Challenge& c) { return c.scheme == scheme; });
    return it == challenges.end() ? nullptr : &*it;
}

}  // namespace grove::registry
