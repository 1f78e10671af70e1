#pragma once

// Subprocesses: the processes a client starts in an instance while its command runs (ConTree's
// subprocesses; docs/api.md). One per instance operation, in its LiveOperation.
//
// Vocabulary: `spid` is a process's number in the operation's log: 0 the sandbox, 1 the main
// command, 2, 3, ... the subprocesses in the order they were created. A subprocess's log is
// `spawn` (with its pid in the sandbox), `stdout`/`stderr` chunks as it writes them (up to the
// instance's truncate_output_at per stream), `truncated`, then `exit`; its folded result is read
// back from those events (process_result.hpp).
//
// Lifecycle: subprocesses can be created once the run's command runs (attach(), from the run's
// thread) until the instance ends (finish(), from the same thread, before the operation's last
// events): a create that comes while the instance is being set up waits for it, one after
// finish() is FailedPrecondition. Each subprocess has a thread of its own that feeds its stdin,
// logs its output and, once it exited, its exit. finish() kills whatever still runs (the sandbox
// has usually taken them with it already) and joins those threads, so every exit is logged
// before the operation completes.
//
// Lock order: mutex_, then a subprocess's own mutex, then the EventLog's.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include <grove/result.hpp>

#include "daemon/event_log.hpp"
#include "daemon/subprocess_request.hpp"
#include "engine/running_sandbox.hpp"

namespace grove::daemon {

class Subprocesses {
public:
    static constexpr int kFirstSpid = 2;
    // Subprocesses running at once in one instance; more is ResourceExhausted.
    static constexpr size_t kMaxRunning = 256;
    // Stdin accepted but not yet read by a subprocess; more is ResourceExhausted.
    static constexpr size_t kMaxPendingStdin = size_t{16} << 20;

    explicit Subprocesses(EventLog& log);
    Subprocesses(const Subprocesses&) = delete;
    Subprocesses& operator=(const Subprocesses&) = delete;
    ~Subprocesses();  // finish()

    // The instance's command runs in `sandbox`: creates may start processes in it. Output is
    // kept up to `truncate_at` bytes per stream, as the command's.
    void attach(std::shared_ptr<engine::RunningSandbox> sandbox, uint64_t truncate_at);
    // The instance is over: no more subprocesses; kills those still running, waits until each
    // is reaped and its exit logged. Idempotent.
    void finish();

    // Starts a subprocess; its spid. While the instance is being set up, waits up to `wait` for
    // its command to run. FailedPrecondition when the instance has not started by then, has
    // finished, or its command has exited; ResourceExhausted past kMaxRunning.
    Result<int> create(const SubprocessRequest& request, std::chrono::milliseconds wait);
    // Queues `data` for the subprocess's stdin, then closes it if `close`. NotFound for an
    // unknown spid; FailedPrecondition once it exited or its stdin was closed.
    Result<void> write_stdin(int spid, std::string_view data, bool close);
    // Sends `sig` to the subprocess. NotFound for an unknown spid; FailedPrecondition once it
    // exited.
    Result<void> kill(int spid, int sig);

private:
    struct Child;
    enum class State { kWaiting, kRunning, kFinished };

    // The body of a subprocess's thread.
    void pump(Child& child);
    // The subprocess `spid` not yet collected, with mutex_ held: NotFound for an unknown spid,
    // FailedPrecondition for one that was collected (it exited) or once finished.
    Result<Child*> running_child(int spid);
    // Takes the subprocesses that have exited out of children_ (with mutex_ held), so that their
    // threads can be joined (without it): a long instance does not pile up exited ones.
    std::vector<std::unique_ptr<Child>> take_exited();

    EventLog& log_;
    std::mutex mutex_;
    std::condition_variable state_changed_;
    State state_ = State::kWaiting;
    // Shared with the run that owns the sandbox (engine::Runner), until finish().
    std::shared_ptr<engine::RunningSandbox> sandbox_;
    uint64_t truncate_at_ = 0;
    int next_spid_ = kFirstSpid;
    std::map<int, std::unique_ptr<Child>> children_;  // not yet collected
    std::set<int> collected_;                         // exited and collected
};

}  // namespace grove::daemon
