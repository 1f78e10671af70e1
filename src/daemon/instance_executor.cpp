#include "daemon/instance_executor.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/output_events.hpp"
#include "daemon/stream_repr.hpp"
#include "daemon/wire_time.hpp"

namespace grove::daemon {
namespace {

base::Json spawn_event_data(const InstanceRequest& request, const std::vector<std::string>& argv) {
    base::Json env = base::Json::object();
    for (const auto& [key, value] : request.env) {
        env[key] = is_secret_key(key) ? "<MASKED>" : value;
    }
    const auto id = [](const std::optional<uint32_t>& v) {
        return v ? base::Json(*v) : base::Json();
    };
    return {{"pid", kCommandPid},
            {"command", argv.front()},
            {"args", std::vector<std::string>(argv.begin() + 1, argv.end())},
            {"shell", request.shell},
            {"cwd", request.cwd},
            {"uid", id(request.uid)},
            {"gid", id(request.gid)},
            {"timeout", id(request.timeout_seconds)},
            {"truncate_at", request.truncate_output_at},
            {"env", std::move(env)}};
}

base::Json output_repr(const std::string& data, bool truncated) {
    base::Json repr = stream_repr(data);
    repr["truncated"] = truncated;
    return repr;
}

ProcessExit process_exit(const engine::RunResult& r) {
    return ProcessExit{.code = r.signal != 0 ? -1 : r.exit_code,
                       .signal = r.signal != 0 ? r.signal : -1,
                       .timed_out = r.timed_out,
                       .duration_ns = r.elapsed.count(),
                       .usage = r.usage};
}

// ConTree's InstanceResult.
base::Json instance_result(const engine::RunResult& r, const ProcessExit& exit) {
    return {{"state",
             {{"exit_code", exit.code},
              {"pid", kCommandPid},
              {"signal", exit.signal},
              {"timed_out", r.timed_out},
              {"oom_killed", r.oom_killed},
              {"continued", false},
              {"core_dump", false},
              {"stopped", false}}},
            {"stdout", output_repr(r.stdout_data, r.stdout_truncated)},
            {"stderr", output_repr(r.stderr_data, r.stderr_truncated)},
            {"resources", instance_resources(exit)}};
}

}  // namespace

OperationOutcome InstanceExecutor::run(LiveOperation& operation, const MarkExecuting& executing) {
    auto outcome = execute(operation, executing);
    operation.subprocesses.finish();  // also when the run never started: creates stop waiting
    if (outcome) {
        return *std::move(outcome);
    }
    if (outcome.error().code() == Code::kCancelled) {
        return {.status = OperationStatus::kCancelled, .error = outcome.error().message()};
    }
    return {.status = OperationStatus::kFailed, .error = outcome.error().message()};
}

Result<engine::RunRequest> InstanceExecutor::run_request(const LiveOperation& operation) {
    const auto& request = std::get<InstanceRequest>(operation.request);
    engine::RunRequest run{
        .image = operation.record.image_uuid.value_or(request.image),
        .argv = instance_argv(request),
        .cwd = request.cwd,
        .uid = request.uid,
        .gid = request.gid,
        .stdin_data = request.stdin_data,
        .output_limit = static_cast<size_t>(request.truncate_output_at),
        .network = request.network == "host" ? engine::Network::kHost : engine::Network::kNone,
        .runtime = request.runtime,
        .max_layer_bytes = request.limits.max_layer_bytes,
        .disposable = request.disposable,
        .tag = request.tag,
        .preserve_env = request.preserve_env,
        .operation = operation.record.uuid,
        .cancel = operation.cancel};
    if (!request.hostname.empty()) {
        run.hostname = request.hostname;
    }
    for (const auto& [key, value] : request.env) {
        run.env.push_back(key + "=" + value);
    }
    for (const auto& [path, spec] : request.files) {
        GROVE_ASSIGN_OR_RETURN(std::string content, files_.read(spec.uuid, kMaxInjectedFile));
        run.files.push_back(engine::InjectedFile{.path = path,
                                                 .content = std::move(content),
                                                 .mode = spec.mode,
                                                 .uid = spec.uid,
                                                 .gid = spec.gid});
    }
    if (request.timeout_seconds) {
        run.timeout = std::chrono::seconds(*request.timeout_seconds);
    }
    run.limits = {.memory_bytes = request.limits.memory_bytes,
                  .pids = request.limits.pids,
                  .cpus = request.limits.cpus};
    return run;
}

Result<OperationOutcome> InstanceExecutor::execute(LiveOperation& operation,
                                                   const MarkExecuting& executing) {
    const auto& request = std::get<InstanceRequest>(operation.request);
    EventLog& log = operation.log;
    GROVE_ASSIGN_OR_RETURN(engine::RunRequest run, run_request(operation));

    OutputEvents output(log, request.truncate_output_at);
    run.on_output = [&](engine::Stream stream, std::string_view chunk) {
        output.add(stream, chunk);
    };
    run.on_started = [&operation, &request](std::shared_ptr<engine::RunningSandbox> sandbox) {
        operation.subprocesses.attach(std::move(sandbox), request.truncate_output_at);
    };

    log.append(kSandboxSpid, kInitEvent, init_event_data(now_ns()));
    log.append(kMainSpid, kSpawnEvent, spawn_event_data(request, run.argv));
    executing();
    auto ran = runner_.run(run);
    // Every subprocess died with the sandbox: their exits are logged before the command's.
    operation.subprocesses.finish();
    output.finish();
    GROVE_ASSIGN_OR_RETURN(const engine::RunResult result, std::move(ran));
    if (result.layer_too_large && request.limits.max_layer_bytes) {
        log.append(kMainSpid, kSizeCapEvent, size_cap_event_data(*request.limits.max_layer_bytes));
    }
    const ProcessExit exit = process_exit(result);
    log.append(kMainSpid, kExitEvent, exit_event_data(exit));

    OperationOutcome outcome{.status = OperationStatus::kSuccess,
                             .result_json = base::dump_json(instance_result(result, exit))};
    if (result.cancelled) {
        outcome.status = OperationStatus::kCancelled;
        outcome.error = "cancelled";
    } else if (result.layer_too_large) {
        outcome.status = OperationStatus::kFailed;
        outcome.error =
            fmt::format("the run's changes outgrew max_layer_bytes ({}); nothing was kept",
                        request.limits.max_layer_bytes.value_or(0));
    }
    if (result.result_image) {
        outcome.result_image_uuid = result.result_image->uuid;
        outcome.result_tag = result.result_image->tag;
        outcome.image_size = result.result_image->size_logical;
    }
    return outcome;
}

}  // namespace grove::daemon
