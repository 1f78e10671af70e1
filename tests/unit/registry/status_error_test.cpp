#include "registry/status_error.hpp"

#include <gtest/gtest.h>

namespace grove::registry {
namespace {

HttpResponse response(long status, std::string body = {}, std::vector<HttpHeader> headers = {}) {
    return HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

TEST(StatusError, CodesForStatuses) {
    EXPECT_EQ(code_for_status(401), Code::kUnauthenticated);
    EXPECT_EQ(code_for_status(403), Code::kPermissionDenied);
    EXPECT_EQ(code_for_status(404), Code::kNotFound);
    EXPECT_EQ(code_for_status(400), Code::kInvalidArgument);
    EXPECT_EQ(code_for_status(501), Code::kUnimplemented);
    EXPECT_EQ(code_for_status(507), Code::kInternal);
    for (long status : {429, 500, 502, 503, 504}) {
        EXPECT_EQ(code_for_status(status), Code::kUnavailable) << status;
        EXPECT_TRUE(is_retryable_status(status)) << status;
    }
    EXPECT_FALSE(is_retryable_status(404));
    EXPECT_FALSE(is_retryable_status(501));
}

TEST(StatusError, DescribesSpecErrorBodies) {
    EXPECT_EQ(describe_response(response(
                  404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown",)"
                       R"("detail":{"Tag":"nope"}},{"code":"X","message":7}]})")),
              "MANIFEST_UNKNOWN: manifest unknown; X");
    EXPECT_EQ(describe_response(response(502, "Bad Gateway\n<html>")), "Bad Gateway");
    EXPECT_EQ(describe_response(response(503)), "HTTP 503");
}

TEST(StatusError, MessagesNameWhatWasFetched) {
    const Error missing = status_error(
        response(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"),
        "manifest 'r/x:nope'");
    EXPECT_EQ(missing.code(), Code::kNotFound);
    EXPECT_EQ(missing.message(),
              "manifest 'r/x:nope' not found: MANIFEST_UNKNOWN: manifest unknown");
    const Error denied = status_error(response(401), "manifest 'r/private/x:1'");
    EXPECT_EQ(denied.code(), Code::kUnauthenticated);
    EXPECT_NE(denied.message().find("needs credentials"), std::string::npos);
}

TEST(StatusError, RetryAfterSecondsOnly) {
    EXPECT_EQ(retry_after(response(429, "", {{"retry-after", "3"}})), std::chrono::seconds(3));
    EXPECT_EQ(retry_after(response(503, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}})),
              std::nullopt);
    EXPECT_EQ(retry_after(response(503, "", {{"retry-after", "-1"}})), std::nullopt);
    EXPECT_EQ(retry_after(response(503)), std::nullopt);
}

TEST(StatusError, HeaderLookupIsLastValueAndAllValues) {
    const HttpResponse r = response(
        401, "", {{"www-authenticate", "Basic realm=a"}, {"www-authenticate", "Bearer realm=b"}});
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=b");
    EXPECT_EQ(r.header_values("www-authenticate").size(), 2u);
    EXPECT_EQ(r.header("content-type"), std::nullopt);
}

}  // namespace
}  // namespace grove::registry
