#pragma once

// ScopeExit runs a callable when the scope ends unless dismissed: the C++ form of containerd's
// deferred `if err != nil { rollback }`. Typical use builds a result, guards its cleanup, and
// dismisses the guard once the result is published:
//
//   ScopeExit remove_tmp([&] { remove_all(tmp); });
//   GROVE_TRY(fill(tmp));
//   GROVE_TRY(rename_into_place(tmp, final));
//   remove_tmp.dismiss();

#include <utility>

namespace grove::base {

template <typename F>
class [[nodiscard]] ScopeExit {
public:
    explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    ScopeExit(ScopeExit&&) = delete;
    ScopeExit& operator=(ScopeExit&&) = delete;
    ~ScopeExit() {
        if (armed_) {
            fn_();
        }
    }

    void dismiss() { armed_ = false; }

private:
    F fn_;
    bool armed_ = true;
};

}  // namespace grove::base
