#pragma once

// Test gates (Mesos' test filters, containerd's RequiresRoot): a test that needs something this
// host lacks skips with the reason instead of failing. Each check returns the reason it is
// missing, or nullopt when the requirement is met:
//
//   GROVE_REQUIRE(missing_root());
//   GROVE_REQUIRE(missing_program("skopeo"));
//
// Tests that need root are named ROOT_*; CTest gives them the `root` label.

#include <initializer_list>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace grove::testing {

std::optional<std::string> missing_root();
std::optional<std::string> missing_program(const std::string& name);
// The first of `names` that is missing.
std::optional<std::string> missing_programs(std::initializer_list<const char*> names);
// overlayfs is registered in /proc/filesystems.
std::optional<std::string> missing_overlay();
// The cgroup controller `name` (memory, pids, cpu, ...) is enabled on v2 or mounted on v1.
std::optional<std::string> missing_cgroup_controller(const std::string& name);

}  // namespace grove::testing

#define GROVE_REQUIRE(check)                                \
    do {                                                    \
        if (const auto grove_missing_ = (check)) {          \
            GTEST_SKIP() << "skipped: " << *grove_missing_; \
        }                                                   \
    } while (false)
