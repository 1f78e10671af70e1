#include "http/router.hpp"

#include <gtest/gtest.h>

namespace grove::http {
namespace {

Result<void> ok(Request&, ResponseWriter&) {
    return {};
}

// The pattern of the route `path` selects, or "" when none does.
std::string route_of(const Router& router, std::string_view method, std::string_view path) {
    const Router::Match match = router.match(method, path);
    return match.status == Router::MatchStatus::kFound ? match.pattern : "";
}

TEST(Router, MatchesLiteralsAndParameters) {
    Router router;
    router.get("/v1/operations/{id}/events", ok).get("/v1/operations/{id}", ok);
    ASSERT_TRUE(router.validate().has_value());
    const auto match = router.match("GET", "/v1/operations/abc-1/events");
    ASSERT_EQ(match.status, Router::MatchStatus::kFound);
    EXPECT_EQ(match.pattern, "/v1/operations/{id}/events");
    EXPECT_EQ(match.params.get("id"), "abc-1");
    EXPECT_EQ(route_of(router, "GET", "/v1/operations/x"), "/v1/operations/{id}");
    EXPECT_EQ(route_of(router, "GET", "/v1/operations/"), "");
    EXPECT_EQ(route_of(router, "GET", "/v1/operations/x/events/more"), "");
}

TEST(Router, DecodesPathSegmentsBeforeMatching) {
    Router router;
    router.get("/files/{name}", ok);
    const auto match = router.match("GET", "/files/a%2Fb%20c");
    ASSERT_EQ(match.status, Router::MatchStatus::kFound);
    EXPECT_EQ(match.params.get("name"), "a/b c");
    EXPECT_EQ(router.match("GET", "/files/%zz").status, Router::MatchStatus::kBadPath);
    EXPECT_EQ(router.match("GET", "/files/%00").status, Router::MatchStatus::kBadPath);
}

TEST(Router, MostSpecificRouteWinsWhateverTheOrder) {
    Router router;
    router.get("/containers/{id}", ok)
        .get("/containers/json", ok)
        .get("/images/{name...}", ok)
        .get("/images/{name...}/json", ok)
        .get("/images/json", ok);
    EXPECT_EQ(route_of(router, "GET", "/containers/json"), "/containers/json");
    EXPECT_EQ(route_of(router, "GET", "/containers/abc"), "/containers/{id}");
    EXPECT_EQ(route_of(router, "GET", "/images/json"), "/images/json");
    EXPECT_EQ(route_of(router, "GET", "/images/library/busybox:1/json"), "/images/{name...}/json");
    EXPECT_EQ(route_of(router, "GET", "/images/library/busybox:1"), "/images/{name...}");
    const auto match = router.match("GET", "/images/library/busybox:1/json");
    EXPECT_EQ(match.params.get("name"), "library/busybox:1");
}

TEST(Router, RestParameterTakesTheLongestMatch) {
    Router router;
    router.get("/images/{name...}/json", ok);
    const auto match = router.match("GET", "/images/a/json/json");
    ASSERT_EQ(match.status, Router::MatchStatus::kFound);
    EXPECT_EQ(match.params.get("name"), "a/json");
    EXPECT_EQ(router.match("GET", "/images/json").status, Router::MatchStatus::kNotFound);
}

TEST(Router, WrongMethodIs405WithAllow) {
    Router router;
    router.get("/v1/images", ok).post("/v1/images", ok).del("/v1/images/{id}", ok);
    const auto match = router.match("PUT", "/v1/images");
    EXPECT_EQ(match.status, Router::MatchStatus::kMethodNotAllowed);
    EXPECT_EQ(match.allow, "GET, HEAD, POST");
    EXPECT_EQ(router.match("GET", "/v1/nothing").status, Router::MatchStatus::kNotFound);
}

TEST(Router, HeadFallsBackToGet) {
    Router router;
    router.get("/_ping", ok).get("/x", ok).head("/x", ok);
    const auto ping = router.match("HEAD", "/_ping");
    ASSERT_EQ(ping.status, Router::MatchStatus::kFound);
    const auto x_head = router.match("HEAD", "/x");
    const auto x_get = router.match("GET", "/x");
    EXPECT_NE(x_head.handler, x_get.handler) << "HEAD has its own route for /x";
}

TEST(Router, TrailingSlashIsSignificant) {
    Router router;
    router.get("/v1/inspect/", ok).get("/", ok);
    EXPECT_EQ(route_of(router, "GET", "/v1/inspect/"), "/v1/inspect/");
    EXPECT_EQ(route_of(router, "GET", "/v1/inspect"), "");
    EXPECT_EQ(route_of(router, "GET", "/"), "/");
}

TEST(Router, MountsUnderAPrefixPattern) {
    Router router;
    Router docker;
    docker.get("/containers/{id}/logs", ok, {.max_body_size = 7});
    router.mount("", docker).mount("/v{version}", docker);
    ASSERT_TRUE(router.validate().has_value());
    const auto versioned = router.match("GET", "/v1.41/containers/c1/logs");
    ASSERT_EQ(versioned.status, Router::MatchStatus::kFound);
    EXPECT_EQ(versioned.params.get("version"), "1.41");
    EXPECT_EQ(versioned.params.get("id"), "c1");
    EXPECT_EQ(versioned.pattern, "/v{version}/containers/{id}/logs");
    EXPECT_EQ(versioned.options.max_body_size, 7u);
    const auto bare = router.match("GET", "/containers/c1/logs");
    ASSERT_EQ(bare.status, Router::MatchStatus::kFound);
    EXPECT_FALSE(bare.params.get("version").has_value());
    EXPECT_EQ(route_of(router, "GET", "/x1.41/containers/c1/logs"), "");
    EXPECT_EQ(route_of(router, "GET", "/v/containers/c1/logs"), "");
}

TEST(Router, InvalidPatternsAreReported) {
    EXPECT_FALSE(Router().get("no-slash", ok).validate().has_value());
    EXPECT_FALSE(Router().get("/a/{id", ok).validate().has_value());
    EXPECT_FALSE(Router().get("/a/{}", ok).validate().has_value());
    EXPECT_FALSE(Router().get("/a/{id}/{id}", ok).validate().has_value());
    EXPECT_FALSE(Router().get("/a/x{rest...}", ok).validate().has_value());
    EXPECT_FALSE(Router().mount("/v1/", Router()).validate().has_value());
    EXPECT_TRUE(Router().get("/a/v{version}.json", ok).validate().has_value());
}

}  // namespace
}  // namespace grove::http
