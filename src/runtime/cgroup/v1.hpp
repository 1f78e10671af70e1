#pragma once

// Legacy and hybrid cgroup v1: one hierarchy per controller (or per mounted set such as
// "cpu,cpuacct"), so a group is one directory in each hierarchy it uses.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "fs.hpp"

namespace grove::runtime::cgroup {

// The controllers grove uses, mapped to the hierarchy directory that carries each.
using V1Hierarchies = std::map<std::string, std::filesystem::path, std::less<>>;

// Finds the hierarchies under `root`: a directory whose comma-separated name includes the
// controller ("memory", "cpu,cpuacct"); symlinks such as cpu -> cpu,cpuacct are followed.
Result<V1Hierarchies> find_v1_hierarchies(const std::filesystem::path& root);

class V1Manager final : public Manager {
public:
    V1Manager(V1Hierarchies hierarchies, FsHooks hooks)
        : hierarchies_(std::move(hierarchies)), hooks_(std::move(hooks)) {}

    Result<std::unique_ptr<Cgroup>> create(std::string_view name, const Limits& limits) override;
    Result<std::unique_ptr<Cgroup>> open(std::string_view name) override;
    std::string_view version() const override { return "v1"; }

private:
    V1Hierarchies hierarchies_;
    FsHooks hooks_;
};

class V1Cgroup final : public Cgroup {
public:
    // `dirs`: controller -> the group's directory in that controller's hierarchy.
    V1Cgroup(V1Hierarchies dirs, FsHooks hooks);
    ~V1Cgroup() override;

    Result<void> add_process(pid_t pid) override;
    std::optional<int> dir_fd() const override { return std::nullopt; }
    Result<std::vector<base::UniqueFd>> open_procs() const override;
    Result<Stats> stats() const override;
    Result<void> update(const Limits& limits) override { return apply(limits); }
    Result<void> freeze(bool frozen) override;
    Result<void> kill_all() override;
    Result<void> close() override;

    Result<void> apply(const Limits& limits);

private:
    // The group's directory for `controller`, or nullptr when that hierarchy is missing.
    const std::filesystem::path* dir(std::string_view controller) const;
    Result<void> set_frozen(bool frozen);
    Result<void> kill_once();

    V1Hierarchies dirs_;
    // Distinct directories: joined hierarchies (cpu,cpuacct) share one.
    std::vector<std::filesystem::path> unique_dirs_;
    FsHooks hooks_;
    bool closed_ = false;
};

}  // namespace grove::runtime::cgroup
