#pragma once

// RegistryFixture is the GoogleTest fixture of tests against the local registry: it skips, with
// the reason, when the registry's tools are missing, and loads the test images.

#include <optional>

#include <gtest/gtest.h>

#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {

class RegistryFixture : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo", "htpasswd"}));
        auto loaded = TestImages::load();
        ASSERT_TRUE(loaded) << loaded.error().to_string();
        images_.emplace(std::move(loaded).value());
    }

    static LocalRegistry start_registry(RegistryOptions options = {}) {
        auto registry = LocalRegistry::start(std::move(options));
        EXPECT_TRUE(registry) << registry.error().to_string();
        return std::move(registry).value();
    }

    const TestImages& images() const { return *images_; }

private:
    std::optional<TestImages> images_;
};

}  // namespace grove::testing
