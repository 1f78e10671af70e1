#pragma once

// The unified hierarchy (cgroup v2): one directory per group, fd for CLONE_INTO_CGROUP.

#include <filesystem>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "cgroup.hpp"
#include "fs.hpp"

namespace grove::runtime::cgroup {

class V2Manager final : public Manager {
public:
    V2Manager(std::filesystem::path root, FsHooks hooks)
        : root_(std::move(root)), hooks_(std::move(hooks)) {}

    Result<std::unique_ptr<Cgroup>> create(std::string_view name, const Limits& limits) override;
    Result<std::unique_ptr<Cgroup>> open(std::string_view name) override;
    std::string_view version() const override { return "v2"; }

private:
    // Creates the parent group with our controllers enabled for its children; returns the
    // controllers the children get.
    Result<std::vector<std::string>> prepare_parent();

    std::filesystem::path root_;
    FsHooks hooks_;
};

class V2Cgroup final : public Cgroup {
public:
    V2Cgroup(std::filesystem::path path, base::UniqueFd dir, FsHooks hooks)
        : path_(std::move(path)), dir_(std::move(dir)), hooks_(std::move(hooks)) {}
    ~V2Cgroup() override;

    Result<void> add_process(pid_t pid) override;
    std::optional<int> dir_fd() const override {
        return dir_.valid() ? std::optional<int>(dir_.get()) : std::nullopt;
    }
    Result<std::vector<base::UniqueFd>> open_procs() const override;
    Result<Stats> stats() const override;
    Result<void> update(const Limits& limits) override { return apply(limits, controllers_); }
    Result<void> freeze(bool frozen) override { return set_frozen(frozen); }
    Result<void> kill_all() override;
    Result<void> close() override;

    Result<void> apply(const Limits& limits, const std::vector<std::string>& controllers);

private:
    Result<void> set_frozen(bool frozen);

    std::filesystem::path path_;
    base::UniqueFd dir_;
    FsHooks hooks_;
    std::vector<std::string> controllers_;  // enabled for the group, as apply() was given
    // Kernels before 5.19 have no memory.peak: stats() then reports the highest
    // memory.current it has seen, so it is mutable.
    mutable uint64_t peak_seen_ = 0;
    bool closed_ = false;
};

}  // namespace grove::runtime::cgroup
