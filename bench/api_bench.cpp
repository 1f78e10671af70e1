// What the ConTree API costs over the library (issue 5), through a real groved started on a
// temporary root and reached over its unix socket (root is trusted there without a token):
// - BM_ApiRoundTrip: pairs of runs of /bin/true on busybox, snapshot commit included, one
//   through engine::Runner in this process (as grove_bench_run does) and one through groved:
//   POST /v1/instances, then GET /v1/operations/{id}/events?follow=1 until the `completion`
//   event. The client is one libcurl easy handle, reused, so every request after the first goes
//   over the same keep-alive connection and no connection setup is timed (the benchmark checks
//   that no request opened a new one). The two runs of a pair alternate their order, so load
//   from elsewhere weighs on both sides alike. Prints both medians, the difference (the goal:
//   the API adds under 2 ms at the median) and the ratio api/library; also the median time to
//   the spawn's 201 and to the end of the event stream (groved closes it once the operation is
//   recorded finished in daemon.db).
// - BM_ApiConcurrentSpawns/workers:N: 100 clients (threads, each on a connection of its own
//   opened beforehand) spawn /bin/true at once and follow their events to completion, on a groved
//   started with --workers N: 100 lets every run execute at once, 4 is groved's default (the rest
//   wait PENDING). Fails if any operation does not end SUCCESS. Prints spawns per second, the
//   most operations groved reported executing and pending at once (GET /v1/whoami, sampled), and
//   groved's RSS: idle (after its start and one request, then after one run) and during the burst
//   (the highest VmRSS sampled every 2 ms, and VmHWM).
// No peer: the library is the baseline. Benchmarks never gate CI.
//
// Needs root and the test images ($GROVE_TEST_IMAGES, default ~/.cache/grove-tests/bench-images;
// `scripts/test-images.sh DIR` builds them). $GROVE_BENCH_GROVED names another groved binary to
// measure (another build, for a before/after comparison); default: this build's.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <thread>

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <fmt/format.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "bench_store.hpp"
#include "engine/host_cgroups.hpp"
#include "engine/runner.hpp"

namespace grove::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kConcurrentSpawns = 100;

double to_ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string loadavg() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    std::string five;
    std::string fifteen;
    in >> one >> five >> fifteen;
    return fmt::format("{} {} {}", one, five, fifteen);
}

// A process's resident set and its high-water mark, from /proc/<pid>/status, in MiB.
struct Rss {
    double rss_mib = 0;
    double hwm_mib = 0;
};

Rss read_rss(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    Rss out;
    std::string line;
    while (std::getline(in, line)) {
        const auto kib = [&] {
            return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
        };
        if (line.starts_with("VmRSS:")) {
            out.rss_mib = kib();
        } else if (line.starts_with("VmHWM:")) {
            out.hwm_mib = kib();
        }
    }
    return out;
}

// One libcurl easy handle on groved's unix socket: its requests share one keep-alive connection.
class ApiClient {
public:
    explicit ApiClient(std::string socket) : socket_(std::move(socket)), curl_(curl_easy_init()) {}
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;
    ~ApiClient() { curl_easy_cleanup(curl_); }

    struct Response {
        long status = 0;
        std::string body;
    };

    Result<Response> get(const std::string& path) { return perform("GET", path, nullptr, {}); }

    // POST /v1/instances: the operation's uuid.
    Result<std::string> spawn(const std::string& body) {
        GROVE_ASSIGN_OR_RETURN(auto response, perform("POST", "/v1/instances", &body, {}));
        if (response.status != 201) {
            return base::make_error(Code::kInternal, "spawn: {} {}", response.status,
                                    response.body);
        }
        GROVE_ASSIGN_OR_RETURN(auto json, base::parse_json(response.body));
        return json.value("uuid", "");
    }

    struct Completion {
        std::string status;      // the completion event's: SUCCESS, FAILED, CANCELLED
        std::string error;       // and its error, if any
        Clock::time_point seen;  // when its frame arrived
        Clock::time_point ended;
        std::map<std::string, int64_t> stamps;  // each event type's `ts`, unix ns (the last one)
    };

    // Follows the operation's events until the completion event, then reads the stream to its
    // end (which keeps the connection reusable).
    Result<Completion> follow(const std::string& uuid) {
        SseScan scan;
        GROVE_ASSIGN_OR_RETURN(
            auto response, perform("GET", "/v1/operations/" + uuid + "/events?follow=1", nullptr,
                                   [&scan](std::string_view data) { scan.add(data); }));
        Completion out{.ended = Clock::now()};
        if (response.status != 200 || !scan.seen) {
            return base::make_error(Code::kInternal, "events of '{}': {}, no completion event",
                                    uuid, response.status);
        }
        GROVE_ASSIGN_OR_RETURN(auto event, base::parse_json(scan.completion));
        out.status = event["data"].value("status", "");
        out.error = event["data"]["error"].is_string() ? event["data"]["error"].get<std::string>()
                                                       : std::string();
        out.seen = *scan.seen;
        for (const auto& frame_data : scan.frames) {
            auto frame = base::parse_json(frame_data);
            if (frame && frame->is_object() && (*frame)["ts"].is_string()) {
                out.stamps[frame->value("type", "")] = unix_ns((*frame)["ts"].get<std::string>());
            }
        }
        return out;
    }

    // Connections this handle opened so far (1 while keep-alive holds).
    long connections() const { return connections_; }

private:
    // Finds the completion event in an SSE body as it arrives, and stamps when it came.
    struct SseScan {
        std::string pending;  // the unfinished frame
        std::optional<Clock::time_point> seen;
        std::string completion;           // its data line
        std::vector<std::string> frames;  // every frame's data line

        void add(std::string_view data) {
            pending.append(data);
            size_t end = 0;
            while ((end = pending.find("\n\n")) != std::string::npos) {
                const std::string frame = pending.substr(0, end);
                pending.erase(0, end + 2);
                const size_t data_at = frame.find("\ndata: ");
                if (data_at == std::string::npos) {
                    continue;  // a comment (keep-alive)
                }
                frames.push_back(frame.substr(data_at + 7));
                if (!seen && frame.find("\nevent: completion\n") != std::string::npos) {
                    seen = Clock::now();
                    completion = frames.back();
                }
            }
        }
    };

    // An event's `ts` ("2026-06-08T20:00:00.000000123Z") in unix nanoseconds; 0 if malformed.
    static int64_t unix_ns(const std::string& ts) {
        std::tm tm{};
        long nanos = 0;
        if (std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%d.%9ldZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &nanos) != 7) {
            return 0;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return static_cast<int64_t>(::timegm(&tm)) * 1'000'000'000 + nanos;
    }

    using Sink = std::function<void(std::string_view)>;

    static size_t write_body(char* data, size_t size, size_t count, void* user) {
        auto* sink = static_cast<Sink*>(user);
        (*sink)(std::string_view(data, size * count));
        return size * count;
    }

    Result<Response> perform(const char* method,
                             const std::string& path,
                             const std::string* body,
                             Sink on_data) {
        Response response;
        Sink sink = on_data ? std::move(on_data)
                            : Sink([&response](std::string_view d) { response.body.append(d); });
        curl_slist* headers = nullptr;
        headers = curl_slist_append(headers, "Expect:");
        if (body != nullptr) {
            headers = curl_slist_append(headers, "Content-Type: application/json");
        }
        curl_easy_setopt(curl_, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
        curl_easy_setopt(curl_, CURLOPT_URL, ("http://grove" + path).c_str());
        curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
        if (body != nullptr) {
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->c_str());
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
        } else {
            curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
        }
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &ApiClient::write_body);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 120'000L);
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        const CURLcode code = curl_easy_perform(curl_);
        curl_slist_free_all(headers);
        if (code != CURLE_OK) {
            return base::make_error(Code::kUnavailable, "{} {}: {}", method, path,
                                    curl_easy_strerror(code));
        }
        long connects = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
        curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects);
        connections_ += connects;
        return response;
    }

    std::string socket_;
    CURL* curl_;
    long connections_ = 0;
};

// A store under /var/tmp with busybox imported, and a Runner on it for the library's side.
struct Fixture : BenchStore {
    std::optional<engine::Runner> runner;
    std::string image;
};

Fixture& fixture() {
    static Fixture f = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Fixture out{open_bench_store("grove-bench-api-", "busybox", "busybox")};
        if (!out.error.empty()) {
            return out;
        }
        out.image = out.base.uuid;
        const auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
        // As groved sets up its own runner: the host's cgroups, tuned (favordynmods).
        out.runner.emplace(*out.store, engine::host_cgroups(log, true), log);
        return out;
    }();
    return f;
}

std::string groved_binary() {
    const char* other = std::getenv("GROVE_BENCH_GROVED");
    return other != nullptr && *other != '\0' ? other : GROVED_BINARY;
}

// groved on the fixture's root, listening on a unix socket in the fixture's directory, its JSON
// log in groved.log there; stopped with SIGTERM.
class Groved {
public:
    static Result<std::unique_ptr<Groved>> start(const Fixture& f, size_t workers) {
        const fs::path socket = f.dir->path() / "grove.sock";
        GROVE_ASSIGN_OR_RETURN(
            auto log, base::UniqueFd::open(f.dir->path() / "groved.log",
                                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        GROVE_ASSIGN_OR_RETURN(
            auto process, base::ChildProcess::spawn(
                              {.argv = {groved_binary(), "--root", f.root().string(), "--listen",
                                        "unix://" + socket.string(), "--workers",
                                        std::to_string(workers), "--shutdown-grace", "5"},
                               .stdout_fd = log.get(),
                               .stderr_fd = log.get(),
                               .parent_death_signal = SIGTERM}));
        auto groved = std::unique_ptr<Groved>(new Groved(std::move(process), socket.string()));
        // Ready once it answers; this first request is also the warm-up the idle RSS follows.
        ApiClient client(groved->socket());
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        for (;;) {
            auto whoami = client.get("/v1/whoami");
            if (whoami && whoami->status == 200) {
                return groved;
            }
            auto exited = groved->process_->wait_for(std::chrono::milliseconds(20));
            if ((exited && *exited) || Clock::now() > deadline) {
                return base::make_error(Code::kUnavailable, "groved did not start (see {})",
                                        (f.dir->path() / "groved.log").string());
            }
        }
    }

    Groved(const Groved&) = delete;
    Groved& operator=(const Groved&) = delete;
    ~Groved() {
        (void)process_->signal(SIGTERM);
        auto stopped = process_->wait_for(std::chrono::seconds(30));
        if (!stopped || !*stopped) {
            (void)process_->signal(SIGKILL);
            (void)process_->wait();
        }
    }

    pid_t pid() const { return process_->pid(); }
    const std::string& socket() const { return socket_; }

private:
    Groved(base::ChildProcess process, std::string socket)
        : process_(std::move(process)), socket_(std::move(socket)) {}

    std::optional<base::ChildProcess> process_;
    std::string socket_;
};

std::string spawn_body(const std::string& image) {
    return base::dump_json(base::Json{{"command", "/bin/true"}, {"image", image}});
}

// The same run groved makes of spawn_body(): not disposable, the default instance timeout.
engine::RunRequest library_request(const std::string& image) {
    return {.image = image,
            .argv = {"/bin/true"},
            .timeout = std::chrono::hours(1),
            .disposable = false};
}

void BM_ApiRoundTrip(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    auto groved = Groved::start(f, 4);
    if (!groved) {
        state.SkipWithError(groved.error().message().c_str());
        return;
    }
    ApiClient client((*groved)->socket());
    const std::string body = spawn_body(f.image);
    std::vector<double> library_ms;
    std::vector<double> api_ms;      // to the completion event
    std::vector<double> created_ms;  // to the spawn's 201
    std::vector<double> stream_ms;   // to the end of the event stream
    // Where the time goes in groved, from the events' stamps (the same host clock): from the
    // POST to the init event (queued, taken by a worker, ASSIGNED recorded), from spawn to exit
    // (EXECUTING recorded, then the run itself: the library's part), from exit to completion,
    // and from the completion's stamp to its frame reaching the client (the end recorded, the
    // log closed, the frame written and read).
    std::vector<double> to_init_ms;
    std::vector<double> run_ms;
    std::vector<double> exit_to_completion_ms;
    std::vector<double> delivery_ms;
    std::string failure;
    const auto library_run = [&] {
        const auto start = Clock::now();
        auto result = f.runner->run(library_request(f.image));
        library_ms.push_back(to_ms(Clock::now() - start));
        if (!result || result->exit_code != 0) {
            failure = result ? "the library run failed" : result.error().message();
        }
    };
    const auto api_run = [&] {
        const int64_t wall_start = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
        const auto start = Clock::now();
        auto uuid = client.spawn(body);
        const auto created = Clock::now();
        auto done = uuid ? client.follow(*uuid) : Result<ApiClient::Completion>(uuid.error());
        if (!done || done->status != "SUCCESS") {
            failure = done ? "the API run ended " + done->status + ": " + done->error
                           : done.error().message();
            return;
        }
        created_ms.push_back(to_ms(created - start));
        api_ms.push_back(to_ms(done->seen - start));
        stream_ms.push_back(to_ms(done->ended - start));
        auto& at = done->stamps;
        const auto ns_to_ms = [](int64_t ns) {
            return static_cast<double>(ns) / 1e6;
        };
        const int64_t seen_wall =
            wall_start +
            std::chrono::duration_cast<std::chrono::nanoseconds>(done->seen - start).count();
        to_init_ms.push_back(ns_to_ms(at["init"] - wall_start));
        run_ms.push_back(ns_to_ms(at["exit"] - at["spawn"]));
        exit_to_completion_ms.push_back(ns_to_ms(at["completion"] - at["exit"]));
        delivery_ms.push_back(ns_to_ms(seen_wall - at["completion"]));
    };
    // Warm-up, not counted: each side's first run pays for first-use costs.
    library_run();
    api_run();
    library_ms.clear();
    api_ms.clear();
    created_ms.clear();
    stream_ms.clear();
    to_init_ms.clear();
    run_ms.clear();
    exit_to_completion_ms.clear();
    delivery_ms.clear();
    const std::string load_before = loadavg();
    bool library_first = true;
    for (auto _ : state) {
        if (library_first) {
            library_run();
            api_run();
        } else {
            api_run();
            library_run();
        }
        library_first = !library_first;
        if (!failure.empty()) {
            state.SkipWithError(failure.c_str());
            return;
        }
        state.SetIterationTime(api_ms.back() / 1e3);
    }
    if (client.connections() != 1) {
        state.SkipWithError(
            fmt::format("keep-alive broke: {} connections", client.connections()).c_str());
        return;
    }
    const double library = median(library_ms);
    const double api = median(api_ms);
    state.counters["library_ms"] = library;
    state.counters["api_ms"] = api;
    state.counters["added_ms"] = api - library;
    fmt::print(
        "api round trip of /bin/true on busybox, {} pairs over one keep-alive connection (libcurl, "
        "unix socket): median {:.3f} ms through groved (to the completion event) vs {:.3f} ms "
        "through the library: the API adds {:.3f} ms (goal: under 2 ms)\n",
        library_ms.size(), api, library, api - library);
    std::vector<double> differences;  // within each pair
    for (size_t i = 0; i < api_ms.size(); ++i) {
        differences.push_back(api_ms[i] - library_ms[i]);
    }
    fmt::print(
        "  through groved, medians: {:.3f} ms to the spawn's 201, {:.3f} ms to the end of the "
        "event stream; median of the per-pair differences {:.3f} ms; loadavg {} before, {} "
        "after\n",
        median(created_ms), median(stream_ms), median(differences), load_before, loadavg());
    fmt::print(
        "  in groved, medians from the events' stamps: POST to init {:.3f} ms, spawn to exit "
        "{:.3f} ms (the run; the library's took {:.3f} ms), exit to completion {:.3f} ms, "
        "completion to the client {:.3f} ms\n",
        median(to_init_ms), median(run_ms), library, median(exit_to_completion_ms),
        median(delivery_ms));
    if (groved_binary() != GROVED_BINARY) {
        fmt::print("  groved: {} ($GROVE_BENCH_GROVED)\n", groved_binary());
    }
    fmt::print(
        "ratio api/library: {:.2f}x ({:.3f} ms vs {:.3f} ms median; 1 means the API adds "
        "nothing)\n",
        api / library, api, library);
}
BENCHMARK(BM_ApiRoundTrip)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(200);

// What one client does in the burst: spawn, follow, and when its completion came.
struct SpawnOutcome {
    std::string failure;  // empty: SUCCESS
    Clock::time_point completed;
};

void BM_ApiConcurrentSpawns(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    const auto workers = static_cast<size_t>(state.range(0));
    auto groved = Groved::start(f, workers);
    if (!groved) {
        state.SkipWithError(groved.error().message().c_str());
        return;
    }
    const pid_t pid = (*groved)->pid();
    const std::string socket = (*groved)->socket();
    const std::string body = spawn_body(f.image);
    const Rss idle = read_rss(pid);  // after its start and one request (Groved::start's whoami)
    {
        ApiClient warm(socket);
        auto uuid = warm.spawn(body);
        auto done = uuid ? warm.follow(*uuid) : Result<ApiClient::Completion>(uuid.error());
        if (!done || done->status != "SUCCESS") {
            state.SkipWithError("the warm-up run failed");
            return;
        }
    }
    const Rss after_one = read_rss(pid);

    // Every client's connection is open before the burst starts.
    std::vector<std::unique_ptr<ApiClient>> clients;
    for (int i = 0; i < kConcurrentSpawns; ++i) {
        clients.push_back(std::make_unique<ApiClient>(socket));
        auto whoami = clients.back()->get("/v1/whoami");
        if (!whoami || whoami->status != 200) {
            state.SkipWithError("cannot connect a client");
            return;
        }
    }
    ApiClient monitor(socket);
    double rss_peak = 0;
    double rss_at_most_executing = 0;
    int most_executing = 0;
    int most_pending = 0;
    std::vector<double> seconds;
    std::string load_before = loadavg();
    for (auto _ : state) {
        std::vector<SpawnOutcome> outcomes(kConcurrentSpawns);
        std::latch go(1);
        std::atomic<int> running{kConcurrentSpawns};
        Clock::time_point start;
        {
            std::vector<std::jthread> threads;
            for (int i = 0; i < kConcurrentSpawns; ++i) {
                threads.emplace_back([&, i] {
                    go.wait();
                    ApiClient& client = *clients[static_cast<size_t>(i)];
                    auto uuid = client.spawn(body);
                    auto done =
                        uuid ? client.follow(*uuid) : Result<ApiClient::Completion>(uuid.error());
                    SpawnOutcome& out = outcomes[static_cast<size_t>(i)];
                    out.completed = Clock::now();
                    if (!done) {
                        out.failure = done.error().message();
                    } else if (done->status != "SUCCESS") {
                        out.failure = done->status + ": " + done->error;
                    } else {
                        out.completed = done->seen;
                    }
                    --running;
                });
            }
            start = Clock::now();
            go.count_down();
            // Sample groved while the burst lasts: its RSS every 2 ms, its counts every 10.
            auto next_count = Clock::now();
            while (running.load() > 0) {
                const Rss now = read_rss(pid);
                rss_peak = std::max(rss_peak, now.rss_mib);
                if (Clock::now() >= next_count) {
                    next_count += std::chrono::milliseconds(10);
                    auto whoami = monitor.get("/v1/whoami");
                    auto json = whoami ? base::parse_json(whoami->body)
                                       : Result<base::Json>(whoami.error());
                    if (json) {
                        const auto& stat = (*json)["operations_stat"];
                        const int executing = stat.value("executing", 0);
                        most_pending = std::max(most_pending, stat.value("pending", 0));
                        if (executing > most_executing) {
                            most_executing = executing;
                            rss_at_most_executing = now.rss_mib;
                        } else if (executing == most_executing) {
                            rss_at_most_executing = std::max(rss_at_most_executing, now.rss_mib);
                        }
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
        Clock::time_point last = start;
        int failed = 0;
        std::string first_failure;
        for (const auto& outcome : outcomes) {
            last = std::max(last, outcome.completed);
            if (!outcome.failure.empty()) {
                first_failure = first_failure.empty() ? outcome.failure : first_failure;
                ++failed;
            }
        }
        if (failed > 0) {
            state.SkipWithError(
                fmt::format("{} of {} spawns failed: {}", failed, kConcurrentSpawns, first_failure)
                    .c_str());
            return;
        }
        const double elapsed = std::chrono::duration<double>(last - start).count();
        seconds.push_back(elapsed);
        state.SetIterationTime(elapsed);
    }
    const Rss after = read_rss(pid);
    const double spawns_per_second = kConcurrentSpawns / median(seconds);
    state.SetItemsProcessed(state.iterations() * kConcurrentSpawns);
    state.counters["spawns_per_s"] = spawns_per_second;
    state.counters["idle_rss_mib"] = idle.rss_mib;
    state.counters["peak_rss_mib"] = rss_peak;
    fmt::print(
        "{} concurrent spawns of /bin/true through groved --workers {} (each burst: every client "
        "spawns and follows its events to completion): {:.1f} spawns/s at the median of {} "
        "bursts, none failed; at most {} executing and {} pending at once; loadavg {} before, {} "
        "after\n",
        kConcurrentSpawns, workers, spawns_per_second, seconds.size(), most_executing, most_pending,
        load_before, loadavg());
    fmt::print(
        "  groved RSS: idle {:.1f} MiB (after start and one request), {:.1f} MiB after one run; "
        "during the bursts: peak sampled VmRSS {:.1f} MiB ({:.1f} MiB when most were executing), "
        "VmHWM {:.1f} MiB; {:.1f} MiB after\n",
        idle.rss_mib, after_one.rss_mib, rss_peak, rss_at_most_executing, after.hwm_mib,
        after.rss_mib);
}
BENCHMARK(BM_ApiConcurrentSpawns)
    ->ArgName("workers")
    ->Arg(kConcurrentSpawns)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);

}  // namespace
}  // namespace grove::bench
