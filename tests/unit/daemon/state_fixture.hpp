#pragma once

// A fresh daemon state database in a temp dir per test.

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "daemon/records.hpp"
#include "daemon/state_db.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {

class StateTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-daemon-state-");
        ASSERT_TRUE(dir) << dir.error().to_string();
        dir_.emplace(std::move(dir).value());
        reopen();
    }

    // Closes the state (releasing its lock) and opens it again, as a restarted daemon does.
    void reopen() {
        state_.reset();
        auto state = StateDb::open(dir_->path());
        ASSERT_TRUE(state) << state.error().to_string();
        state_ = std::move(state).value();
    }

    static OperationRecord operation(int64_t created_ns,
                                     OperationKind kind = OperationKind::kInstance) {
        return OperationRecord{.uuid = store::new_uuid(),
                               .kind = kind,
                               .created_ns = created_ns,
                               .request_json = R"({"command":"true"})"};
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<StateDb> state_;
};

}  // namespace grove::daemon
