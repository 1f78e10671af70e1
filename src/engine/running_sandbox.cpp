#include "engine/running_sandbox.hpp"

#include <algorithm>
#include <chrono>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::engine {

RunningSandbox::RunningSandbox(const runtime::process::ProcessSpec& spec,
                               int init_pidfd,
                               runtime::cgroup::Cgroup* cgroup,
                               std::string runtime)
    : defaults_(runtime::process::exec_spec(spec)),
      runtime_(std::move(runtime)),
      init_pidfd_(init_pidfd),
      cgroup_(cgroup) {}

std::vector<std::string> RunningSandbox::env_of(const ExecRequest& request) const {
    std::vector<std::string> env = defaults_.env;
    for (const auto& entry : request.env) {
        const std::string_view key = std::string_view(entry).substr(0, entry.find('='));
        const auto same = std::find_if(env.begin(), env.end(), [&](const std::string& var) {
            return var.size() > key.size() && var.starts_with(key) && var[key.size()] == '=';
        });
        if (same != env.end()) {
            *same = entry;
        } else {
            env.push_back(entry);
        }
    }
    return env;
}

std::string RunningSandbox::cwd_of(const ExecRequest& request) const {
    return request.cwd.empty() ? defaults_.cwd : request.cwd;
}

Result<runtime::process::SandboxExec> RunningSandbox::exec(const ExecRequest& request) {
    if (request.argv.empty()) {
        return base::make_error(Code::kInvalidArgument, "a process needs a command");
    }
    std::lock_guard lock(mutex_);
    if (ended_) {
        return base::make_error(Code::kFailedPrecondition, "the run has ended");
    }
    if (init_pidfd_ < 0) {
        return base::make_error(Code::kUnimplemented,
                                "starting processes in a running sandbox needs grove's own "
                                "runtime; this run uses '{}'",
                                runtime_);
    }
    GROVE_ASSIGN_OR_RETURN(const bool init_exited,
                           base::wait_readable(init_pidfd_, std::chrono::milliseconds(0)));
    if (init_exited) {
        return base::make_error(Code::kFailedPrecondition, "the run's command has exited");
    }
    runtime::process::ExecSpec spec = defaults_;
    spec.argv = request.argv;
    spec.env = env_of(request);
    spec.cwd = cwd_of(request);
    spec.stdin_fd = request.stdin_fd;
    spec.stdout_fd = request.stdout_fd;
    spec.stderr_fd = request.stderr_fd;
    std::vector<base::UniqueFd> procs;  // v1: the helper joins each (v2 is cloned into it)
    if (cgroup_ != nullptr && !spec.cgroup_fd) {
        GROVE_ASSIGN_OR_RETURN(procs, cgroup_->open_procs());
        for (const auto& file : procs) {
            spec.cgroup_procs.push_back(file.get());
        }
    }
    return runtime::process::SandboxExec::start(init_pidfd_, spec);
}

void RunningSandbox::end() {
    std::lock_guard lock(mutex_);
    ended_ = true;
    init_pidfd_ = -1;
    cgroup_ = nullptr;
}

bool RunningSandbox::ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
}

}  // namespace grove::engine
