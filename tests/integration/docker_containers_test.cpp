// groved's Docker container endpoints end to end: Debian's docker CLI (docker run, ps, logs,
// exec, stop/start/restart/kill, pause, wait, rename, inspect, top, stats, rm, prune), a daemon
// killed and restarted under a running container, and docker-py 5.0.3 with aiohttp
// (tests/docker_containers_flow.py).

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include "docker_fixture.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/requirements.hpp"

namespace grove::testing {
namespace {

namespace fs = std::filesystem;

// The processes named `comm` whose parent is `parent`.
std::vector<pid_t> children_named(pid_t parent, const std::string& comm) {
    std::vector<pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid > 0 && parent_of(pid) == parent && comm_of(pid) == comm) {
            found.push_back(pid);
        }
    }
    return found;
}

class DockerContainersTest : public DockerFixture {
protected:
    void SetUp() override {
        DockerFixture::SetUp();
        if (!IsSkipped()) {
            GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
        }
    }

    // `docker inspect --format <format> <name>`, without the newline.
    std::string inspect(const std::string& name, const std::string& format) {
        std::string out = docker_ok({"inspect", "--format", format, name});
        while (!out.empty() && out.back() == '\n') {
            out.pop_back();
        }
        return out;
    }

    // Polls `docker logs` until it holds `count` lines or more.
    std::string logs_with(const std::string& name, size_t count) {
        std::string out;
        for (int i = 0; i < 100; ++i) {
            out = docker_ok({"logs", name});
            if (static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >= count) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return out;
    }
};

TEST_F(DockerContainersTest, ROOT_RunPrintsOutputAndExitCodes) {
    GROVE_REQUIRE(missing_root());
    EXPECT_EQ(docker_ok({"run", "--rm", "busybox", "echo", "hi"}), "hi\n");
    EXPECT_EQ(docker({"run", "--rm", "busybox", "sh", "-c", "exit 3"}).status.code, 3);
    const auto failed = docker({"run", "--name", "three", "busybox", "sh", "-c", "exit 3"});
    EXPECT_EQ(failed.status.code, 3) << failed.err;
    EXPECT_EQ(inspect("three", "{{.State.Status}} {{.State.ExitCode}}"), "exited 3");
    docker_ok({"rm", "three"});
    EXPECT_EQ(docker_ok({"run", "-i", "--rm", "busybox", "cat"}, "data\nmore\n"), "data\nmore\n");
    const auto both = docker({"run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"});
    EXPECT_EQ(both.out, "out\n");
    EXPECT_EQ(both.err, "err\n");
    // --rm removed each one.
    EXPECT_EQ(docker_ok({"ps", "-aq"}), "");
}

TEST_F(DockerContainersTest, ROOT_Lifecycle) {
    GROVE_REQUIRE(missing_root());
    const std::string id = docker_ok({"run", "-d", "--name", "loop", "--label", "team=a", "busybox",
                                      "sh", "-c", "while :; do echo tick; sleep 0.1; done"});
    ASSERT_EQ(id.size(), 65u) << id;
    EXPECT_EQ(docker_ok({"ps", "-q", "--no-trunc"}), id);
    EXPECT_EQ(docker_ok({"ps", "--filter", "label=team=a", "--format", "{{.Names}} {{.Image}}"}),
              "loop busybox\n");
    EXPECT_EQ(docker_ok({"ps", "--filter", "label=team=b", "-q"}), "");
    EXPECT_NE(logs_with("loop", 2).find("tick\ntick\n"), std::string::npos);
    EXPECT_EQ(docker_ok({"exec", "loop", "sh", "-c", "echo in $(hostname)"}),
              "in " + id.substr(0, 12) + "\n");
    EXPECT_EQ(docker({"exec", "loop", "sh", "-c", "exit 9"}).status.code, 9);

    const std::string top = docker_ok({"top", "loop"});
    EXPECT_NE(top.find("PID"), std::string::npos) << top;
    EXPECT_NE(top.find("while :"), std::string::npos) << top;
    const std::string stats =
        docker_ok({"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "loop"});
    EXPECT_TRUE(stats.starts_with("loop ")) << stats;

    docker_ok({"pause", "loop"});
    EXPECT_EQ(inspect("loop", "{{.State.Status}} {{.State.Paused}}"), "paused true");
    docker_ok({"unpause", "loop"});
    EXPECT_EQ(inspect("loop", "{{.State.Status}}"), "running");

    docker_ok({"stop", "-t", "1", "loop"});
    // As under dockerd, sh stands as the PID namespace's init: TERM, which it has no handler
    // for, does nothing, and the KILL after the grace period ends it.
    EXPECT_EQ(inspect("loop", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    EXPECT_EQ(docker_ok({"ps", "-q"}), "");
    docker_ok({"start", "loop"});
    EXPECT_EQ(inspect("loop", "{{.State.Running}}"), "true");
    const std::string started = inspect("loop", "{{.State.StartedAt}}");
    docker_ok({"restart", "-t", "0", "loop"});
    EXPECT_NE(inspect("loop", "{{.State.StartedAt}}"), started);
    docker_ok({"kill", "--signal", "KILL", "loop"});
    EXPECT_EQ(docker_ok({"wait", "loop"}), "137\n");

    docker_ok({"rename", "loop", "loop2"});
    EXPECT_EQ(inspect(id.substr(0, 12), "{{.Name}} {{.Config.Image}} {{.Config.Tty}}"),
              "/loop2 busybox false");
    EXPECT_EQ(docker({"inspect", "loop"}).status.code, 1);

    docker_ok({"run", "-d", "--name", "runner", "busybox", "sleep", "30"});
    const auto refused = docker({"rm", "runner"});
    EXPECT_NE(refused.status.code, 0);
    EXPECT_NE(refused.err.find("cannot remove a running container"), std::string::npos)
        << refused.err;
    docker_ok({"rm", "-f", "runner"});

    const std::string pruned = docker_ok({"container", "prune", "-f"});
    EXPECT_NE(pruned.find(id.substr(0, 64)), std::string::npos) << pruned;
    EXPECT_EQ(docker_ok({"ps", "-aq"}), "");
}

// docker stop as dockerd does it: without --init the command is the PID namespace's init, so a
// signal it has no handler for is dropped and the grace period ends in SIGKILL (137, after -t);
// with --init a real init passes TERM on and the shell dies of it (143, at once); a handler
// still gets its signal.
TEST_F(DockerContainersTest, ROOT_StopFollowsTheInitRules) {
    GROVE_REQUIRE(missing_root());
    const auto timed_stop = [&](const std::string& name, const std::string& grace) {
        const auto start = std::chrono::steady_clock::now();
        docker_ok({"stop", "-t", grace, name});
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const std::string loop = "while :; do sleep 1; done";
    docker_ok({"run", "-d", "--name", "plain", "busybox", "sh", "-c", loop});
    docker_ok({"run", "-d", "--init", "--name", "tini", "busybox", "sh", "-c", loop});
    docker_ok({"run", "-d", "--name", "trapper", "busybox", "sh", "-c",
               "trap 'exit 3' TERM; echo armed; while :; do sleep 0.1; done"});
    EXPECT_EQ(logs_with("trapper", 1), "armed\n");
    // pid 1 is the command itself, or the init with --init; State.Pid is that process.
    EXPECT_EQ(docker_ok({"exec", "plain", "cat", "/proc/1/comm"}), "sh\n");
    EXPECT_EQ(docker_ok({"exec", "tini", "cat", "/proc/1/comm"}), "grove-init\n");
    for (const auto& [name, comm] : {std::pair{"plain", "sh\n"}, {"tini", "grove-init\n"}}) {
        const std::string pid = inspect(name, "{{.State.Pid}}");
        std::ifstream in("/proc/" + pid + "/comm");
        EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), comm) << name << " " << pid;
    }
    EXPECT_EQ(docker_ok({"run", "--rm", "busybox", "sh", "-c", "echo $$"}), "1\n");

    const double plain = timed_stop("plain", "1");
    EXPECT_EQ(inspect("plain", "{{.State.ExitCode}} {{.HostConfig.Init}}"), "137 <nil>");
    EXPECT_GE(plain, 0.9);
    EXPECT_LT(plain, 5.0);

    const double tini = timed_stop("tini", "10");
    EXPECT_EQ(inspect("tini", "{{.State.ExitCode}} {{.HostConfig.Init}}"), "143 true");
    EXPECT_LT(tini, 5.0);

    const double trapped = timed_stop("trapper", "10");
    EXPECT_EQ(inspect("trapper", "{{.State.ExitCode}}"), "3");
    EXPECT_LT(trapped, 5.0);
    docker_ok({"rm", "plain", "tini", "trapper"});
}

// Containers outlive groved: a kill -9 and a restart in the middle lose no log line, and the
// container is stopped afterwards with the right exit code.
TEST_F(DockerContainersTest, ROOT_RestartPolicyAndHealthcheck) {
    GROVE_REQUIRE(missing_root());
    // Polls `format` of `name` until it reads `want`, for up to 15 s.
    const auto becomes = [&](const std::string& name, const std::string& format,
                             const std::string& want) {
        for (int i = 0; i < 150 && inspect(name, format) != want; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return inspect(name, format);
    };
    docker_ok({"run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c",
               "exit 1"});
    EXPECT_EQ(inspect("flaky",
                      "{{.HostConfig.RestartPolicy.Name}} "
                      "{{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
              "on-failure 2");
    EXPECT_EQ(becomes("flaky", "{{.RestartCount}} {{.State.Status}}", "2 exited"), "2 exited");

    docker_ok({"run", "-d", "--name", "probed", "--health-cmd", "test -e /ready",
               "--health-interval", "200ms", "--health-retries", "1", "busybox", "sh", "-c",
               "sleep 0.5; touch /ready; sleep 100"});
    EXPECT_EQ(becomes("probed", "{{.State.Health.Status}}", "healthy"), "healthy");
    // Each change was an event (unhealthy first, when a probe came before /ready), which
    // `event=health_status` finds as dockerd does.
    // The event follows the new status by a moment, as in dockerd.
    std::string changes;
    for (int i = 0; i < 50; ++i) {
        changes =
            docker_ok({"events", "--since", "0", "--until", "0s", "--filter", "event=health_status",
                       "--format", "{{.Status}} {{.Actor.Attributes.name}}"});
        if (changes.ends_with(": healthy probed\n")) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(changes == "health_status: healthy probed\n" ||
                changes == "health_status: unhealthy probed\nhealth_status: healthy probed\n")
        << changes;
    EXPECT_EQ(inspect("probed", "{{json .Config.Healthcheck.Test}}"),
              R"(["CMD-SHELL","test -e /ready"])");
    docker_ok({"rm", "-f", "flaky", "probed"});
}

TEST_F(DockerContainersTest, ROOT_DaemonRestartKeepsContainers) {
    GROVE_REQUIRE(missing_root());
    docker_ok({"run", "-d", "--name", "ticker", "busybox", "sh", "-c",
               "trap 'exit 42' TERM; while :; do echo tick; sleep 0.2; done"});
    const std::string ticks = logs_with("ticker", 2);
    const auto before = static_cast<size_t>(std::count(ticks.begin(), ticks.end(), '\n'));
    stop_daemon(SIGKILL);
    start_daemon();
    EXPECT_EQ(inspect("ticker", "{{.State.Status}}"), "running");
    const std::string after = logs_with("ticker", before + 3);
    EXPECT_GE(static_cast<size_t>(std::count(after.begin(), after.end(), '\n')), before + 3);
    docker_ok({"stop", "ticker"});
    EXPECT_EQ(inspect("ticker", "{{.State.Status}} {{.State.ExitCode}}"), "exited 42");
    docker_ok({"rm", "ticker"});
}

// An exec's output has no log behind it: the shim waits for a slow reader (the docker CLI,
// through groved) instead of dropping it, so megabytes come through whole, stderr too.
TEST_F(DockerContainersTest, ROOT_ExecOutputComesThroughWhole) {
    GROVE_REQUIRE(missing_root());
    docker_ok({"run", "-d", "--name", "talker", "busybox", "sleep", "600"});
    const auto out = docker({"exec", "talker", "sh", "-c", "seq 1 400000; seq 1 50000 >&2"});
    EXPECT_EQ(out.status.code, 0);
    EXPECT_EQ(std::count(out.out.begin(), out.out.end(), '\n'), 400000);
    EXPECT_TRUE(out.out.ends_with("\n399999\n400000\n"));
    EXPECT_EQ(std::count(out.err.begin(), out.err.end(), '\n'), 50000);
    docker_ok({"rm", "-f", "talker"});
}

// groved forks shims from its fork server (containers/shim/fork_server.hpp) rather than
// executing grove-shim; the server dies with groved and the shims outlive both; without it,
// starts fall back to the binary.
TEST_F(DockerContainersTest, ROOT_ShimsForkFromAServerThatDiesWithGroved) {
    GROVE_REQUIRE(missing_root());
    const pid_t groved = daemon_->pid();
    const auto servers = children_named(groved, "grove-shim-fork");
    ASSERT_EQ(servers.size(), 1U);
    const auto shim_of = [&](const std::string& name) {
        return parent_of(std::stoi(inspect(name, "{{.State.Pid}}")));
    };
    const auto exe_of = [](pid_t pid) {
        return fs::read_symlink(fmt::format("/proc/{}/exe", pid));
    };

    // One shim waits forked ahead; a launch takes it, and the server forks the next.
    const auto spare_of = [&](pid_t server) {
        for (int i = 0; i < 200; ++i) {
            if (const auto spares = children_named(server, "grove-shim-fork"); !spares.empty()) {
                EXPECT_EQ(spares.size(), 1U);
                return spares.front();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "the server " << server << " keeps no spare shim";
        return pid_t{-1};
    };
    const pid_t spare = spare_of(servers.front());
    docker_ok({"run", "-d", "--name", "forked", "busybox", "sleep", "600"});
    const pid_t forked = shim_of("forked");
    EXPECT_EQ(forked, spare);
    EXPECT_EQ(parent_of(forked), servers.front()) << "the server reaps its shims";
    EXPECT_NE(spare_of(servers.front()), spare);
    EXPECT_EQ(comm_of(forked), "grove-shim");
    EXPECT_EQ(exe_of(forked), exe_of(groved)) << "not forked from groved's server";
    // What ps and pkill -f see: not groved's command line (pkill -f groved spares the shims).
    const std::string shim_cmdline = read_text(fmt::format("/proc/{}/cmdline", forked));
    EXPECT_TRUE(shim_cmdline.starts_with(std::string("grove-shim\0", 11) + root().string()))
        << shim_cmdline;
    EXPECT_EQ(shim_cmdline.find("--root"), std::string::npos) << shim_cmdline;
    const std::string server_cmdline = read_text(fmt::format("/proc/{}/cmdline", servers.front()));
    EXPECT_TRUE(server_cmdline.starts_with(std::string("grove-shim-fork\0", 16))) << server_cmdline;
    EXPECT_EQ(server_cmdline.find("--root"), std::string::npos) << server_cmdline;

    ASSERT_EQ(::kill(servers.front(), SIGKILL), 0);
    docker_ok({"run", "-d", "--name", "executed", "busybox", "sleep", "600"});
    const pid_t executed = shim_of("executed");
    EXPECT_EQ(exe_of(executed).filename(), "grove-shim");

    stop_daemon(SIGTERM);
    start_daemon();  // a fresh groved with a server of its own
    const auto restarted = children_named(daemon_->pid(), "grove-shim-fork");
    ASSERT_EQ(restarted.size(), 1U);
    const pid_t server = restarted.front();
    const pid_t idle = spare_of(server);
    stop_daemon(SIGKILL);
    const auto still_serving = [](pid_t pid) {
        return running(pid) && comm_of(pid) == "grove-shim-fork";
    };
    for (const pid_t pid : {server, idle}) {
        for (int i = 0; i < 100 && still_serving(pid); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        EXPECT_FALSE(still_serving(pid)) << pid << " outlived groved";
    }
    start_daemon();
    EXPECT_EQ(inspect("forked", "{{.State.Status}}"), "running");
    EXPECT_EQ(inspect("executed", "{{.State.Status}}"), "running");
    EXPECT_EQ(shim_of("forked"), forked);
    docker_ok({"rm", "-f", "forked", "executed"});
}

TEST_F(DockerContainersTest, ROOT_PythonClients) {
    GROVE_REQUIRE(missing_root());
    GROVE_REQUIRE(missing_python_clients());
    expect_flow({kDebianPython, GROVE_TESTS_DIR "/docker_containers_flow.py", "--socket",
                 docker_socket().string()},
                "the container flow passed");
}

}  // namespace
}  // namespace grove::testing
