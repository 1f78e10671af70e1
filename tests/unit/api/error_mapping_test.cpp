#include "api/error_mapping.hpp"

#include <cerrno>

#include <gtest/gtest.h>

#include "base/json.hpp"

namespace grove::api {
namespace {

TEST(ErrorMapping, EveryCodeHasItsStatus) {
    EXPECT_EQ(http_status(Error(Code::kInvalidArgument, "x")), 400);
    EXPECT_EQ(http_status(Error(Code::kOutOfRange, "x")), 400);
    EXPECT_EQ(http_status(Error(Code::kUnauthenticated, "x")), 401);
    EXPECT_EQ(http_status(Error(Code::kPermissionDenied, "x")), 403);
    EXPECT_EQ(http_status(Error(Code::kNotFound, "x")), 404);
    EXPECT_EQ(http_status(Error(Code::kAlreadyExists, "x")), 409);
    EXPECT_EQ(http_status(Error(Code::kAborted, "x")), 409);
    EXPECT_EQ(http_status(Error(Code::kFailedPrecondition, "x")), 409);
    EXPECT_EQ(http_status(Error(Code::kResourceExhausted, "x")), 429);
    EXPECT_EQ(http_status(Error(Code::kResourceExhausted, "disk full", ENOSPC)), 507);
    EXPECT_EQ(http_status(Error(Code::kCancelled, "x")), 499);
    EXPECT_EQ(http_status(Error(Code::kUnimplemented, "x")), 501);
    EXPECT_EQ(http_status(Error(Code::kUnavailable, "x")), 503);
    EXPECT_EQ(http_status(Error(Code::kDeadlineExceeded, "x")), 504);
    EXPECT_EQ(http_status(Error(Code::kInternal, "x")), 500);
    EXPECT_EQ(http_status(Error(Code::kDataLoss, "x")), 500);
}

TEST(ErrorMapping, TheBodyIsConTreesPlusTheCodeName) {
    const auto response = error_response(Error(Code::kFailedPrecondition, "not cancellable"));
    EXPECT_EQ(response.status, 409);
    auto body = base::parse_json(response.body);
    ASSERT_TRUE(body);
    EXPECT_EQ((*body)["error"], "not cancellable");
    EXPECT_EQ((*body)["status"], 409);
    EXPECT_EQ((*body)["code"], "failed_precondition");
    EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
    EXPECT_FALSE(response.headers.contains("Retry-After"));
}

TEST(ErrorMapping, RetryableStatusesSayWhenToRetry) {
    EXPECT_EQ(
        error_response(Error(Code::kResourceExhausted, "queue full")).headers.get("Retry-After"),
        "1");
    EXPECT_EQ(error_response(Error(Code::kUnavailable, "stopping")).headers.get("Retry-After"),
              "1");
}

TEST(ErrorMapping, PathsOfTheWrongKindAre422) {
    EXPECT_EQ(path_error_response(Error(Code::kFailedPrecondition, "a directory")).status, 422);
    EXPECT_EQ(path_error_response(Error(Code::kNotFound, "missing")).status, 404);
}

TEST(ErrorMapping, ServerStatusesKeepTheirStatus) {
    const auto response = status_response(413, "body too large");
    EXPECT_EQ(response.status, 413);
    auto body = base::parse_json(response.body);
    EXPECT_EQ((*body)["status"], 413);
    EXPECT_EQ((*body)["code"], "invalid_argument");
}

}  // namespace
}  // namespace grove::api
