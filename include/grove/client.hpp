#pragma once

// grove's client library. One interface, `grove::Client`, with two implementations:
// - embedded (the default): the engine in this process, on a local store at a root directory;
//   no daemon. The process needs what runs need (root, overlayfs, cgroups).
// - remote: HTTP to a `groved` (its ConTree API, docs/api.md), over its unix socket or a URL
//   with a token.
// The same calls behave the same on both (one test suite runs against each).
//
//   auto client = grove::Client::from_environment();       // GROVE_HOST / GROVE_TOKEN, or local
//   auto busybox = (*client)->images().pull("busybox");
//   auto out = busybox->popen({"echo", "hi"}, {.check = true});
//   auto session = (*client)->sessions().create("work", "busybox");
//   session->run({.shell = "echo 1 > /n"});                 // runs on the head, advances it
//   session->branch("try");  session->rollback(1);  session->history();
//
// Errors are grove::Error (error.hpp), the server's message kept. Their Code says the kind:
//   not found                  kNotFound (an image, a tag, a path, a session, a branch)
//   conflict                   kAlreadyExists (a session or branch name), kAborted (a session's
//                              branch moved under a run: re-read and retry)
//   timeout                    kDeadlineExceeded (popen with check, when the command timed out)
//   disposed image             kFailedPrecondition (the image of a disposable run)
//   auth                       kUnauthenticated (bad or missing token), kPermissionDenied
//   a failing command          kFailedPrecondition (popen with check: non-zero exit)
//   daemon unreachable         kUnavailable
// No call throws; the public headers use only std and grove types.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

namespace grove {

using Clock = std::chrono::system_clock;

struct ImageInfo {
    std::string uuid;
    std::optional<std::string> tag;
    std::optional<std::string> parent;  // the image it was run from; none for an import
    std::string kind;                   // "imported" or "run"; empty when not looked up
    Clock::time_point created;
    uint64_t size = 0;  // logical bytes
};

// ConTree's images.list filters; all narrow the list, which is newest first.
struct ImageListOptions {
    std::optional<size_t> number;           // at most this many
    bool tagged = false;                    // only tagged images
    std::optional<std::string> tag_prefix;  // only tags starting so (implies tagged)
    std::optional<Clock::time_point> since;
    std::optional<Clock::time_point> until;
};

struct Credentials {
    std::string username;
    std::string password;
};

// Per layer as it goes, on both (groved sends its import's progress as events), then once with
// `finished` at the end.
struct ImportProgress {
    size_t layer = 0;    // bottom first
    size_t layers = 0;   // 0 when unknown
    std::string digest;  // "sha256:..."
    std::string phase;   // "cached", "downloading", "unpacking" or "done"
    uint64_t done = 0;   // bytes downloaded
    uint64_t total = 0;
    bool finished = false;  // the whole import
};

struct ImportOptions {
    std::optional<std::string> tag;  // moved onto the imported image
    std::optional<Credentials> credentials;
    std::optional<std::string> platform;  // "os/arch[/variant]" from an index; the host's if unset
    std::chrono::seconds timeout{300};    // groved's import timeout (an import in-process runs out)
    std::function<void(const ImportProgress&)> progress;
};

// What Images::prune removed.
struct PruneResult {
    std::vector<std::string> removed;  // image UUIDs, leaves first
    size_t layers_removed = 0;
    size_t blobs_removed = 0;
    uint64_t bytes_freed = 0;
};

// A search of an image's files (Image::grep); a line matches any pattern.
struct GrepOptions {
    std::vector<std::string> patterns;       // extended regular expressions, or plain strings
    std::vector<std::string> paths;          // where to search; "/" when empty
    std::vector<std::string> include_globs;  // only files whose name matches one
    bool ignore_case = false;                // ASCII
    bool fixed_strings = false;
    size_t max_matches = 1000;
};

struct GrepMatch {
    std::string path;
    uint64_t line = 0;  // from 1
    std::string text;
};

struct GrepResult {
    std::vector<GrepMatch> matches;
    bool truncated = false;  // stopped at max_matches
    uint64_t files_searched = 0;
};

// Where a stream of a run goes. The bytes are kept in RunResult either way (up to 1 MiB).
struct Output {
    std::optional<std::filesystem::path> file;       // written (created, truncated) as it comes
    std::function<void(std::string_view)> callback;  // called with each chunk as it comes
};

// A file put into the sandbox before the command starts.
struct FileUpload {
    std::string path;  // absolute, in the sandbox
    std::string content;
    uint32_t mode = 0644;
    // `local`'s bytes and permissions at `path`.
    static Result<FileUpload> from_local(const std::filesystem::path& local, std::string path);
};

// Caps on one run's resources; unset: none (a groved may have its own).
struct RunLimits {
    std::optional<uint64_t> memory_bytes;
    std::optional<uint64_t> pids;
    std::optional<double> cpus;  // CPUs' worth of time, e.g. 0.5
    // A run whose changes outgrow it is stopped and keeps nothing (an error).
    std::optional<uint64_t> max_layer_bytes;
};

struct RunOptions {
    std::vector<std::string> command;        // the program and its args; or:
    std::optional<std::string> shell;        // run with /bin/sh -c
    std::map<std::string, std::string> env;  // over the image's
    std::string cwd;                         // empty: the image's WorkingDir, else /
    std::string hostname = "sandbox";
    std::string stdin_data;                           // the command's stdin, then closed; or:
    std::optional<std::filesystem::path> stdin_file;  // this file's bytes
    Output stdout_to;
    Output stderr_to;
    std::vector<FileUpload> files;
    std::optional<std::chrono::milliseconds> timeout;  // the run is killed past it
    bool disposable = false;                           // keep no image
    std::optional<std::string> tag;                    // tag the result image
    std::optional<uint32_t> uid;                       // unset: the image's User, else 0
    std::optional<uint32_t> gid;
    RunLimits limits;
    std::string network = "none";  // "none" (loopback only) or "host" (the host's network)
    std::string runtime;           // empty: grove's own; or an OCI runtime: crun, runc, runsc
};

struct RunResult {
    int exit_code = 0;  // 128 + signal when killed
    bool timed_out = false;
    std::string stdout_data;
    std::string stderr_data;
    std::chrono::nanoseconds elapsed{0};
    // The image the run left: new, or the input image when nothing changed; none if disposable.
    std::optional<std::string> image;
};

struct PopenOptions {
    std::string input;   // stdin
    bool check = false;  // a non-zero exit (or a timeout) is an error
    bool text = false;   // the output must be UTF-8 (InvalidArgument otherwise)
    std::optional<std::chrono::milliseconds> timeout;
};

struct PopenResult {
    int exit_code = 0;
    std::string stdout_data;
    std::string stderr_data;
};

struct FileEntry {
    std::string name;
    uint64_t size = 0;
    uint32_t mode = 0;  // st_mode
    bool is_dir = false;
    bool is_symlink = false;
    std::string symlink_to;
};

struct SessionBranch {
    std::string name;
    int64_t head = 0;   // a SessionRun id
    std::string image;  // the head's image
};

struct SessionInfo {
    std::string name;
    std::string branch;  // checked out
    int64_t head = 0;
    std::string image;  // the head's: where the next run starts
    std::vector<SessionBranch> branches;
};

// A state of a session: its base (command empty) or a run, which stays inspectable.
struct SessionRun {
    int64_t id = 0;
    std::optional<int64_t> parent;
    std::string image;
    std::string command;
    int exit_code = 0;
    bool timed_out = false;
    std::chrono::nanoseconds elapsed{0};
    std::string stdout_data;
    std::string stderr_data;
};

// An operation of a groved: a run or an import, queued, executing or finished (ConTree's).
struct OperationInfo {
    std::string uuid;
    std::string kind;    // "instance" or "image_import"
    std::string status;  // PENDING, ASSIGNED, EXECUTING, SUCCESS, FAILED, CANCELLED
    std::string error;   // why it failed; empty otherwise
    Clock::time_point created;
    double duration = 0;  // seconds executing (or queued, for one that never ran)
    std::optional<std::string> result_image;
    std::string command;  // an instance's command line, empty for an import
    bool finished() const {
        return status == "SUCCESS" || status == "FAILED" || status == "CANCELLED";
    }
};

struct OperationListOptions {
    std::optional<std::string> status;  // only those in this status
    std::optional<size_t> number;       // at most this many, newest first
};

// A long-lived container (Docker's model): it runs under a grove-shim of its own, so it outlives
// the process that started it (the `grove` command, a groved restart) until stopped or removed.
struct ContainerOptions {
    std::string image;                 // a UUID, a unique UUID prefix or a tag
    std::string name;                  // empty: generated
    std::vector<std::string> command;  // empty: the image's Cmd
    std::vector<std::string> env;      // KEY=VALUE over the image's Env
    std::string workdir;               // empty: the image's WorkingDir, else /
    std::string user;                  // "user[:group]", names or numbers; empty: the image's
    std::string hostname;              // empty: the id's first 12 characters
    std::string network = "none";      // "none" (loopback only) or "host"
    std::optional<uint64_t> memory_bytes;
    std::optional<uint64_t> pids;
};

struct ContainerInfo {
    std::string id;  // 64 hex digits
    std::string name;
    std::string image;  // as ContainerOptions::image named it
    std::string image_uuid;
    std::string status;  // created, running, paused, restarting, exited or dead
    int exit_code = 0;
    int pid = 0;                       // its init on the host while it runs, else 0
    std::vector<std::string> command;  // what it runs, resolved against the image
    Clock::time_point created;
    std::optional<Clock::time_point> started;   // the last start
    std::optional<Clock::time_point> finished;  // the last exit
};

enum class OutputStream { kStdout, kStderr };

// Called with each piece of a container's output as it comes (logs, exec): on the calling
// thread for the embedded client, on the remote client's I/O thread (so it must not block long).
using OutputCallback = std::function<void(OutputStream, std::string_view)>;

struct ContainerLogOptions {
    bool follow = false;         // then what comes next, until the container stops
    std::optional<size_t> tail;  // the last N lines only
    OutputCallback on_output;
};

// A command run in a running container (docker exec), without stdin.
struct ExecOptions {
    std::vector<std::string> command;
    std::vector<std::string> env;  // KEY=VALUE over the container's
    std::string workdir;           // empty: the container's
    std::string user;              // empty: the container's
    OutputCallback on_output;
};

class Client;

class Image {
public:
    const ImageInfo& info() const { return info_; }
    const std::string& uuid() const { return info_.uuid; }

    Result<RunResult> run(const RunOptions& options) const;
    // The run goes on while the caller does other things; hundreds may be in flight at once.
    std::future<Result<RunResult>> run_async(const RunOptions& options) const;
    // subprocess.run: `args` with `options.input` as stdin, output kept, disposable.
    Result<PopenResult> popen(std::vector<std::string> args,
                              const PopenOptions& options = {}) const;
    Result<std::vector<FileEntry>> ls(std::string_view path) const;
    Result<std::string> read(std::string_view path) const;
    Result<void> download(std::string_view path, const std::filesystem::path& local) const;
    // A PAX tar of `path` (a file, a directory and what is under it), names relative to /,
    // written to the file descriptor `fd` as it is produced.
    Result<void> archive(std::string_view path, int fd) const;
    Result<GrepResult> grep(const GrepOptions& options) const;
    // Moves `tag` onto this image.
    Result<Image> tag(std::string_view tag) const;
    // The ancestors: parent first, the imported root last.
    Result<std::vector<ImageInfo>> lineage() const;

private:
    friend class Client;
    friend class Images;
    friend class Session;
    Image(Client& client, ImageInfo info) : client_(&client), info_(std::move(info)) {}
    Client* client_;
    ImageInfo info_;
};

// ConTree's ImagesManager.
class Images {
public:
    Result<std::vector<Image>> list(const ImageListOptions& options = {}) const;
    // From a registry: "busybox", "docker.io/library/busybox:latest", "host:5000/x:tag"; or from
    // a local file or directory: "oci:<dir>[:ref]", "oci-archive:<file>[:ref]",
    // "docker-archive:<file>[:repo:tag]", "rootfs:<dir or tarball>". A remote client uploads a
    // file to groved first; directories import on the embedded engine only.
    Result<Image> import_from(std::string_view reference, const ImportOptions& options = {}) const;
    // The image tagged `tag`, imported from the registry reference `tag` if there is none.
    Result<Image> pull(std::string_view tag, const ImportOptions& options = {}) const;
    // A UUID, a unique UUID prefix or a tag. Not strict, a full UUID is taken without a lookup.
    Result<Image> use(std::string_view ref, bool strict = false) const;
    // The image a run left; FailedPrecondition for a disposable run (a disposed image).
    Result<Image> result_of(const RunResult& run) const;
    // Removes the image `ref` names; returns its UUID. A tagged image needs `force` (it loses its
    // tag); one with children, or pinned by a session or a container, is FailedPrecondition.
    Result<std::string> remove(std::string_view ref, bool force = false) const;
    // The image keeps existing, untagged.
    Result<void> untag(std::string_view tag) const;
    // Removes every untagged image nothing stands on (leaves first, repeatedly) and nothing
    // pins, then the layers and blobs no image uses.
    Result<PruneResult> prune() const;

private:
    friend class Client;
    explicit Images(Client& client) : client_(client) {}
    Client& client_;
};

// A session keeps running on its latest result: each run starts from the checked-out branch's
// head and moves it to the run's image. Branches are stored by the store (groved's, for a remote
// client), so every client sees them.
class Session {
public:
    const std::string& name() const { return name_; }
    // The session as stored now.
    Result<SessionInfo> info() const;
    // A run on the head; a disposable run leaves the session as it was.
    Result<RunResult> run(const RunOptions& options) const;
    Result<Image> head() const;
    Result<SessionInfo> branch(std::string_view name) const;    // at the head, checked out
    Result<SessionInfo> checkout(std::string_view name) const;  // an existing branch
    Result<SessionInfo> rollback(int64_t steps = 1) const;      // the head, `steps` runs back
    // The runs of `branch`'s head (the checked-out one when empty), newest first, down to the
    // base. NotFound for an unknown branch.
    Result<std::vector<SessionRun>> history(size_t limit = 1000,
                                            std::string_view branch = {}) const;

private:
    friend class Sessions;
    Session(Client& client, std::string name) : client_(&client), name_(std::move(name)) {}
    Client* client_;
    std::string name_;
};

class Sessions {
public:
    // A new session on the image `ref` names, with branch "main" checked out.
    Result<Session> create(std::string_view name, std::string_view ref) const;
    Result<Session> get(std::string_view name) const;
    Result<std::vector<SessionInfo>> list() const;
    // Frees the images its history pinned.
    Result<void> remove(std::string_view name) const;

private:
    friend class Client;
    explicit Sessions(Client& client) : client_(client) {}
    Client& client_;
};

// groved's operations. The embedded client has none (its runs happen inside the calling process,
// where their futures are): its calls are Unimplemented, saying so.
class Operations {
public:
    Result<std::vector<OperationInfo>> list(const OperationListOptions& options = {}) const;
    // Blocks until the operation finished; its final state.
    Result<OperationInfo> wait(std::string_view uuid) const;
    // A queued operation is cancelled at once, a running one killed (nothing committed);
    // FailedPrecondition for a finished one.
    Result<void> cancel(std::string_view uuid) const;

private:
    friend class Client;
    explicit Operations(Client& client) : client_(client) {}
    Client& client_;
};

// Long-lived containers: on the embedded engine the local store's (containers::Manager on its
// root, shared with any groved there), on a remote client groved's (the same ones its Docker API
// shows). A container is named by its id, a unique id prefix or its name. Errors: NotFound for no
// such container, AlreadyExists for a name in use, FailedPrecondition for a state that does not
// allow the call (exec or kill on one that does not run, remove of a running one without force).
class Containers {
public:
    Result<ContainerInfo> create(const ContainerOptions& options) const;
    // False when it was running already.
    Result<bool> start(std::string_view ref) const;
    // Its stop signal, then SIGKILL after `timeout` (default: 10 s). False when it did not run.
    Result<bool> stop(std::string_view ref,
                      std::optional<std::chrono::seconds> timeout = std::nullopt) const;
    Result<void> kill(std::string_view ref, int signal = 9) const;
    // A running one needs `force` (which kills it first).
    Result<void> remove(std::string_view ref, bool force = false) const;
    // The running ones (paused too), oldest first; with `all`, every one.
    Result<std::vector<ContainerInfo>> list(bool all = false) const;
    Result<ContainerInfo> inspect(std::string_view ref) const;
    // Its output so far (and with follow, until it stops) to options.on_output.
    Result<void> logs(std::string_view ref, const ContainerLogOptions& options) const;
    // Runs the command to its end, its output to options.on_output; its exit code.
    Result<int> exec(std::string_view ref, const ExecOptions& options) const;

private:
    friend class Client;
    explicit Containers(Client& client) : client_(client) {}
    Client& client_;
};

struct EmbeddedOptions {
    std::filesystem::path root = "/var/lib/grove";
    std::vector<std::string> registry_mirrors;     // "docker.io=http://127.0.0.1:5000"
    std::vector<std::string> insecure_registries;  // "host[:port]"
    // Registry logins: Docker's config.json, containers' auth.json.
    std::vector<std::filesystem::path> auth_files;
    size_t parallel_runs = 0;    // run_async's workers; 0: the number of CPUs
    std::filesystem::path shim;  // grove-shim for containers; empty: next to the program
};

struct RemoteOptions {
    // "unix:///run/grove/grove.sock", "/run/grove/grove.sock", or
    // "http://host:port[/prefix]" (https too).
    std::string host;
    std::string token;  // sent as a bearer token when set
};

class Client {
public:
    static Result<std::unique_ptr<Client>> embedded(const EmbeddedOptions& options = {});
    static Result<std::unique_ptr<Client>> remote(const RemoteOptions& options);
    // Remote when GROVE_HOST is set (with GROVE_TOKEN), else embedded at GROVE_ROOT or the
    // default root.
    static Result<std::unique_ptr<Client>> from_environment();

    Client() = default;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    virtual ~Client() = default;

    Images images() { return Images(*this); }
    Sessions sessions() { return Sessions(*this); }
    Operations operations() { return Operations(*this); }
    Containers containers() { return Containers(*this); }

    // The implementations' side: what Images, Image and Session are built on.
    virtual Result<std::vector<ImageInfo>> list_images(const ImageListOptions& options) = 0;
    virtual Result<ImageInfo> find_image(std::string_view ref, bool strict) = 0;
    virtual Result<ImageInfo> import_image(std::string_view reference,
                                           const ImportOptions& options) = 0;
    virtual Result<ImageInfo> tag_image(const std::string& uuid, std::string_view tag) = 0;
    virtual Result<std::vector<ImageInfo>> lineage(const std::string& uuid) = 0;
    virtual Result<std::vector<FileEntry>> list_files(const std::string& uuid,
                                                      std::string_view path) = 0;
    virtual Result<std::string> read_file(const std::string& uuid, std::string_view path) = 0;
    virtual Result<void> archive_path(const std::string& uuid, std::string_view path, int fd) = 0;
    virtual Result<GrepResult> grep_image(const std::string& uuid, const GrepOptions& options) = 0;
    virtual Result<std::string> remove_image(std::string_view ref, bool force) = 0;
    virtual Result<void> untag_image(std::string_view tag) = 0;
    virtual Result<PruneResult> prune_images() = 0;
    // `options` comes with stdin as bytes and outputs as callbacks (stdin_file and Output::file
    // are resolved before).
    virtual std::future<Result<RunResult>> start_run(const std::string& uuid,
                                                     RunOptions options) = 0;
    virtual Result<SessionInfo> create_session(std::string_view name, std::string_view ref) = 0;
    virtual Result<SessionInfo> get_session(std::string_view name) = 0;
    virtual Result<std::vector<SessionInfo>> list_sessions() = 0;
    virtual Result<void> remove_session(std::string_view name) = 0;
    virtual Result<SessionInfo> branch_session(std::string_view name, std::string_view branch) = 0;
    virtual Result<SessionInfo> checkout_session(std::string_view name,
                                                 std::string_view branch) = 0;
    virtual Result<SessionInfo> rollback_session(std::string_view name, int64_t steps) = 0;
    // Records `run` (its parent: the head it started from) and moves the head to it.
    virtual Result<SessionInfo> record_run(std::string_view name, const SessionRun& run) = 0;
    virtual Result<std::vector<SessionRun>> session_history(std::string_view name,
                                                            size_t limit,
                                                            std::string_view branch) = 0;
    virtual Result<std::vector<OperationInfo>> list_operations(
        const OperationListOptions& options) = 0;
    virtual Result<OperationInfo> wait_operation(std::string_view uuid) = 0;
    virtual Result<void> cancel_operation(std::string_view uuid) = 0;
    virtual Result<ContainerInfo> create_container(const ContainerOptions& options) = 0;
    virtual Result<bool> start_container(std::string_view ref) = 0;
    virtual Result<bool> stop_container(std::string_view ref,
                                        std::optional<std::chrono::seconds> timeout) = 0;
    virtual Result<void> kill_container(std::string_view ref, int signal) = 0;
    virtual Result<void> remove_container(std::string_view ref, bool force) = 0;
    virtual Result<std::vector<ContainerInfo>> list_containers(bool all) = 0;
    virtual Result<ContainerInfo> inspect_container(std::string_view ref) = 0;
    virtual Result<void> container_logs(std::string_view ref,
                                        const ContainerLogOptions& options) = 0;
    virtual Result<int> exec_in_container(std::string_view ref, const ExecOptions& options) = 0;
};

}  // namespace grove
