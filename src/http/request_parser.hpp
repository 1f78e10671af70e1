#pragma once

// An incremental HTTP/1.x request parser: Boost.Beast's basic_parser behind a pimpl, so that this
// header (and everything above it) compiles without Boost. One parser reads one request: first
// put_header() until the header is done, then put_body() to copy body bytes out (Content-Length
// or chunked, decoded) until complete().

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/headers.hpp"

namespace grove::http::detail {

struct ParsedHead {
    std::string method;
    std::string target;
    int version = 11;  // 10 or 11
    Headers headers;
    bool keep_alive = true;
    bool chunked = false;
    std::optional<uint64_t> content_length;
};

enum class ParseStatus {
    kOk,              // progress; see RequestParser::header_done() / complete()
    kNeedMore,        // every byte given was used (or kept); give more
    kHeaderTooLarge,  // the header exceeds the header limit
    kBodyTooLarge,    // a chunked body exceeds the body limit
    kBad,             // malformed request; `message` says how
};

struct ParseStep {
    ParseStatus status = ParseStatus::kOk;
    size_t consumed = 0;  // input bytes used
    size_t produced = 0;  // body bytes written to `out` (put_body only)
    std::string message;
};

class RequestParser {
public:
    explicit RequestParser(uint32_t header_limit);
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;
    ~RequestParser();

    // Parses the header from `input`, which must start where the last call's consumed bytes
    // ended. The parser needs the whole header in one piece: until it is complete nothing is
    // consumed, so the caller keeps accumulating.
    ParseStep put_header(std::string_view input);
    bool header_done() const;
    // Valid once header_done().
    ParsedHead& head();

    // Limits a chunked body (a Content-Length body is checked by the caller before reading).
    void set_body_limit(std::optional<uint64_t> limit);
    // Decodes body bytes from `input` into `out` (which must not be empty).
    ParseStep put_body(std::string_view input, std::span<char> out);
    // The whole request, body included, has been parsed.
    bool complete() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace grove::http::detail
