// The only translation unit of grove_http that includes Boost (Beast's header-only parser).

#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <boost/beast/http/basic_parser.hpp>

namespace grove::http::detail {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string_view view(beast::string_view s) {
    return {s.data(), s.size()};
}

}  // namespace

class RequestParser::Impl final : public bhttp::basic_parser<true> {
public:
    ParsedHead head;
    std::span<char> out;
    size_t produced = 0;

private:
    void on_request_impl(bhttp::verb /*method*/,
                         beast::string_view method,
                         beast::string_view target,
                         int version,
                         beast::error_code& /*ec*/) override {
        head.method = std::string(view(method));
        head.target = std::string(view(target));
        head.version = version;
    }
    void on_response_impl(int /*code*/,
                          beast::string_view /*reason*/,
                          int /*version*/,
                          beast::error_code& ec) override {
        ec = bhttp::error::bad_method;
    }
    void on_field_impl(bhttp::field /*name*/,
                       beast::string_view name,
                       beast::string_view value,
                       beast::error_code& /*ec*/) override {
        head.headers.add(std::string(view(name)), std::string(view(value)));
    }
    void on_header_impl(beast::error_code& /*ec*/) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& /*content_length*/,
                           beast::error_code& /*ec*/) override {}
    size_t copy_out(beast::string_view body, beast::error_code& ec) {
        const size_t room = out.size() - produced;
        if (room == 0) {
            ec = bhttp::error::need_buffer;
            return 0;
        }
        const size_t n = std::min(room, body.size());
        std::memcpy(out.data() + produced, body.data(), n);
        produced += n;
        return n;
    }
    size_t on_body_impl(beast::string_view body, beast::error_code& ec) override {
        return copy_out(body, ec);
    }
    void on_chunk_header_impl(std::uint64_t /*size*/,
                              beast::string_view /*extensions*/,
                              beast::error_code& /*ec*/) override {}
    size_t on_chunk_body_impl(std::uint64_t /*remain*/,
                              beast::string_view body,
                              beast::error_code& ec) override {
        return copy_out(body, ec);
    }
    void on_finish_impl(beast::error_code& /*ec*/) override {}
};

namespace {

ParseStep step_from(const beast::error_code& ec, size_t consumed, size_t produced) {
    ParseStep step{.consumed = consumed, .produced = produced};
    if (!ec || ec == bhttp::error::need_buffer) {
        step.status = ParseStatus::kOk;
    } else if (ec == bhttp::error::need_more) {
        step.status = ParseStatus::kNeedMore;
    } else if (ec == bhttp::error::header_limit) {
        step.status = ParseStatus::kHeaderTooLarge;
        step.message = "request header too large";
    } else if (ec == bhttp::error::body_limit) {
        step.status = ParseStatus::kBodyTooLarge;
        step.message = "request body too large";
    } else {
        step.status = ParseStatus::kBad;
        step.message = "malformed request: " + ec.message();
    }
    return step;
}

}  // namespace

RequestParser::RequestParser(uint32_t header_limit) : impl_(std::make_unique<Impl>()) {
    impl_->header_limit(header_limit);
    // The caller checks Content-Length against the route's limit, which it knows only once the
    // header is parsed; a chunked body gets its limit through set_body_limit(). Not boost::none:
    // Beast 1.74 compares the Content-Length with `len > body_limit_`, and any value is greater
    // than an empty optional, so "no limit" would reject every body.
    impl_->body_limit(std::numeric_limits<std::uint64_t>::max());
    impl_->eager(false);
}

RequestParser::~RequestParser() = default;

ParseStep RequestParser::put_header(std::string_view input) {
    if (impl_->is_header_done()) {
        return {.status = ParseStatus::kOk};
    }
    beast::error_code ec;
    const size_t consumed = impl_->put(boost::asio::const_buffer(input.data(), input.size()), ec);
    ParseStep step = step_from(ec, consumed, 0);
    if (step.status == ParseStatus::kOk && impl_->is_header_done()) {
        ParsedHead& head = impl_->head;
        head.keep_alive = impl_->keep_alive();
        head.chunked = impl_->chunked();
        if (const auto length = impl_->content_length()) {
            head.content_length = *length;
        }
        // From here on, put() decodes as much body as `out` holds in one call.
        impl_->eager(true);
    }
    return step;
}

bool RequestParser::header_done() const {
    return impl_->is_header_done();
}

ParsedHead& RequestParser::head() {
    return impl_->head;
}

void RequestParser::set_body_limit(std::optional<uint64_t> limit) {
    impl_->body_limit(limit.value_or(std::numeric_limits<std::uint64_t>::max()));
}

ParseStep RequestParser::put_body(std::string_view input, std::span<char> out) {
    if (impl_->is_done()) {
        return {.status = ParseStatus::kOk};
    }
    impl_->out = out;
    impl_->produced = 0;
    beast::error_code ec;
    const size_t consumed = impl_->put(boost::asio::const_buffer(input.data(), input.size()), ec);
    const size_t produced = impl_->produced;
    impl_->out = {};
    return step_from(ec, consumed, produced);
}

bool RequestParser::complete() const {
    return impl_->is_done();
}

}  // namespace grove::http::detail
