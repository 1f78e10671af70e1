#pragma once

// A fake cgroupfs in a temp dir, in the manner of youki's libcgroups tests: mkdir fills a new
// group with the control files the kernel would create (with the kernel's defaults), rmdir
// removes them, and "kill" records the signal and drops the pid from every cgroup.procs, as if
// the process had exited.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/cgroup/fs.hpp"

namespace grove::runtime::cgroup::testing {

class FakeCgroupfs {
public:
    enum class Layout { kV2, kV1 };

    struct Options {
        bool has_kill = true;     // v2 cgroup.kill (kernel >= 5.14)
        bool has_peak = true;     // v2 memory.peak (kernel >= 5.19)
        bool has_swap = true;     // memory.swap.max / memory.memsw.*
        bool joined_cpu = false;  // v1 "cpu,cpuacct" with cpu and cpuacct symlinks
        std::string offered = "cpuset cpu io memory hugetlb pids rdma misc";  // v2 root
        std::vector<std::string> v1_controllers = {"memory",  "pids",   "cpu",    "cpuacct",
                                                   "freezer", "cpuset", "devices"};
    };

    FakeCgroupfs(Layout layout, Options options)
        : layout_(layout), options_(std::move(options)), dir_(*base::TempDir::create("fakecg-")) {
        if (layout_ == Layout::kV2) {
            put("cgroup.controllers", options_.offered + "\n");
            put("cgroup.subtree_control", "\n");
            put("cgroup.procs", "1\n");
            put("cgroup.stat", "nr_descendants 0\n");
            return;
        }
        // A hybrid host: v1 hierarchies plus a controller-less cgroup2 at unified/.
        std::filesystem::create_directories(root() / "unified");
        put("unified/cgroup.controllers", "\n");
        put("unified/cgroup.procs", "1\n");
        for (const auto& controller : options_.v1_controllers) {
            std::string name = controller;
            if (options_.joined_cpu && (controller == "cpu" || controller == "cpuacct")) {
                name = "cpu,cpuacct";
            }
            std::filesystem::create_directories(root() / name);
            fill_v1(root() / name, name);
        }
        if (options_.joined_cpu) {
            std::filesystem::create_directory_symlink("cpu,cpuacct", root() / "cpu");
            std::filesystem::create_directory_symlink("cpu,cpuacct", root() / "cpuacct");
        }
    }
    FakeCgroupfs(const FakeCgroupfs&) = delete;
    FakeCgroupfs& operator=(const FakeCgroupfs&) = delete;

    const std::filesystem::path& root() const { return dir_.path(); }

    FsHooks hooks() {
        return FsHooks{
            .make_dir = [this](const std::filesystem::path& p) { return make_dir(p); },
            .remove_dir =
                [this](const std::filesystem::path& p) {
                    std::error_code ec;
                    if (!std::filesystem::exists(p, ec)) {
                        return ENOENT;
                    }
                    std::filesystem::remove_all(p, ec);
                    return ec ? ec.value() : 0;
                },
            .send_signal =
                [this](pid_t pid, int sig) {
                    signals.emplace_back(pid, sig);
                    drop_pid(pid);
                    return 0;
                },
        };
    }

    std::string read(const std::filesystem::path& rel) const {
        std::ifstream in(root() / rel);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    void put(const std::filesystem::path& rel, const std::string& text) const {
        std::ofstream(root() / rel, std::ios::trunc) << text;
    }
    bool exists(const std::filesystem::path& rel) const {
        return std::filesystem::exists(root() / rel);
    }

    std::vector<std::pair<pid_t, int>> signals;

private:
    int make_dir(const std::filesystem::path& p) {
        std::error_code ec;
        if (std::filesystem::exists(p, ec)) {
            return EEXIST;
        }
        if (!std::filesystem::create_directory(p, ec)) {
            return ec ? ec.value() : EEXIST;
        }
        if (layout_ == Layout::kV2) {
            fill_v2(p);
        } else {
            const auto rel = std::filesystem::relative(p, root());
            fill_v1(p, rel.begin()->string());
        }
        return 0;
    }

    static void write(const std::filesystem::path& p, const std::string& text) {
        std::ofstream(p, std::ios::trunc) << text;
    }

    void fill_v2(const std::filesystem::path& p) const {
        // A child is offered what its parent enabled: the last "+a +b" write, in the fake.
        std::string offered;
        std::istringstream enabled(
            read(std::filesystem::relative(p.parent_path(), root()) / "cgroup.subtree_control"));
        for (std::string word; enabled >> word;) {
            offered += (offered.empty() ? "" : " ") + (word[0] == '+' ? word.substr(1) : word);
        }
        write(p / "cgroup.controllers", offered + "\n");
        write(p / "cgroup.subtree_control", "\n");
        write(p / "cgroup.procs", "");
        write(p / "cgroup.events", "populated 0\nfrozen 0\n");
        write(p / "cgroup.freeze", "0\n");
        write(p / "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
        if (options_.has_kill) {
            write(p / "cgroup.kill", "");
        }
        if (offered.find("memory") != std::string::npos) {
            write(p / "memory.max", "max\n");
            write(p / "memory.current", "0\n");
            write(p / "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
            if (options_.has_peak) {
                write(p / "memory.peak", "0\n");
            }
            if (options_.has_swap) {
                write(p / "memory.swap.max", "max\n");
            }
        }
        if (offered.find("pids") != std::string::npos) {
            write(p / "pids.max", "max\n");
            write(p / "pids.current", "0\n");
        }
        if (offered.find("cpu ") != std::string::npos || offered.ends_with("cpu")) {
            write(p / "cpu.max", "max 100000\n");
        }
    }

    void fill_v1(const std::filesystem::path& p, const std::string& hierarchy) const {
        write(p / "cgroup.procs", "");
        write(p / "tasks", "");
        auto has = [&](const char* c) {
            return hierarchy == c ||
                   (hierarchy == "cpu,cpuacct" && std::string_view(c).starts_with("cpu"));
        };
        if (has("memory")) {
            write(p / "memory.limit_in_bytes", "9223372036854771712\n");
            write(p / "memory.max_usage_in_bytes", "0\n");
            write(p / "memory.failcnt", "0\n");
            write(p / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
            if (options_.has_swap) {
                write(p / "memory.memsw.limit_in_bytes", "9223372036854771712\n");
            }
        }
        if (has("pids")) {
            write(p / "pids.max", "max\n");
            write(p / "pids.current", "0\n");
        }
        if (has("cpu")) {
            write(p / "cpu.cfs_period_us", "100000\n");
            write(p / "cpu.cfs_quota_us", "-1\n");
        }
        if (has("cpuacct")) {
            write(p / "cpuacct.usage", "0\n");
        }
        if (has("freezer")) {
            write(p / "freezer.state", "THAWED\n");
        }
    }

    void drop_pid(pid_t pid) const {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root())) {
            if (entry.path().filename() != "cgroup.procs") {
                continue;
            }
            std::ifstream in(entry.path());
            std::string kept;
            for (std::string line; std::getline(in, line);) {
                if (!line.empty() && line != std::to_string(pid)) {
                    kept += line + "\n";
                }
            }
            in.close();
            write(entry.path(), kept);
        }
    }

    Layout layout_;
    Options options_;
    base::TempDir dir_;
};

// Creates group `name` in a child that exits without running destructors, as a process killed
// with -9 leaves its group behind. True when the child made it.
inline bool leave_behind(Manager& manager, std::string_view name, const Limits& limits) {
    const pid_t child = ::fork();
    if (child == 0) {
        ::_exit(manager.create(name, limits).has_value() ? 0 : 1);
    }
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && status == 0;
}

}  // namespace grove::runtime::cgroup::testing
