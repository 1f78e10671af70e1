#include "registry/token_cache.hpp"

#include <gtest/gtest.h>

namespace grove::registry {
namespace {

using std::chrono::seconds;

TEST(TokenCache, EntriesAreKeyedByHostAndScopeAndExpire) {
    TokenCache cache;
    const auto now = TokenCache::Clock::now();
    cache.put("r.io", "repository:a:pull", "Bearer a", now + seconds(60));
    cache.put("r.io", "repository:b:pull", "Bearer b", now + seconds(60));
    EXPECT_EQ(cache.get("r.io", "repository:a:pull", now), "Bearer a");
    EXPECT_EQ(cache.get("r.io", "repository:b:pull", now), "Bearer b");
    EXPECT_EQ(cache.get("mirror.io", "repository:a:pull", now), std::nullopt);
    EXPECT_EQ(cache.get("r.io", "repository:a:pull", now + seconds(60)), std::nullopt);

    // A fresh answer replaces the old one.
    cache.put("r.io", "repository:a:pull", "Bearer a2", now + seconds(120));
    EXPECT_EQ(cache.get("r.io", "repository:a:pull", now + seconds(90)), "Bearer a2");
}

TEST(TokenCache, BasicCredentialsNeverExpire) {
    TokenCache cache;
    cache.put("r.io", "repository:a:pull", "Basic x", TokenCache::Clock::time_point::max());
    EXPECT_EQ(
        cache.get("r.io", "repository:a:pull", TokenCache::Clock::now() + std::chrono::hours(1000)),
        "Basic x");
}

}  // namespace
}  // namespace grove::registry
