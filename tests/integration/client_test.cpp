// grove::Client's one suite, run against each implementation: the embedded engine on the
// fixture's store, and a remote client on the fixture's groved over its unix socket and over TCP
// with a token. groved and the embedded client share the store, so sessions made through one are
// seen by the other.

#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <thread>

#include <grove/client.hpp>

#include "base/child_process.hpp"
#include "base/scope_exit.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "groved_fixture.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

enum class Mode { kEmbedded, kUnixSocket, kTcp };

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
    switch (info.param) {
        case Mode::kEmbedded:
            return "Embedded";
        case Mode::kUnixSocket:
            return "UnixSocket";
        case Mode::kTcp:
            return "Tcp";
    }
    return "";
}

class ClientTest : public GrovedFixture, public ::testing::WithParamInterface<Mode> {
protected:
    void SetUp() override {
        GrovedFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        connect();
    }

    void connect(const std::vector<std::string>& mirrors = {}) {
        client_.reset();
        auto client =
            GetParam() == Mode::kEmbedded
                ? Client::embedded(
                      {.root = root(), .registry_mirrors = mirrors, .shim = GROVE_SHIM_BINARY})
            : GetParam() == Mode::kUnixSocket
                ? Client::remote({.host = "unix://" + socket().string()})
                : Client::remote(
                      {.host = "http://127.0.0.1:" + std::to_string(port_), .token = kTestToken});
        ASSERT_TRUE(client) << client.error().to_string();
        client_ = std::move(client).value();
    }

    Image busybox() {
        auto image = client_->images().use("busybox", true);
        EXPECT_TRUE(image) << image.error().to_string();
        return std::move(image).value();
    }

    std::unique_ptr<Client> client_;
};

TEST_P(ClientTest, ROOT_ImagesListUseTagAndLineage) {
    auto images = client_->images();
    auto all = images.list();
    ASSERT_TRUE(all) << all.error().to_string();
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ(all->front().uuid(), busybox_);
    EXPECT_EQ(all->front().info().tag, "busybox");
    EXPECT_EQ(all->front().info().kind, "imported");

    auto image = busybox();
    EXPECT_EQ(image.uuid(), busybox_);
    auto ran = image.run({.shell = "echo one > /one", .tag = "busybox-one"});
    ASSERT_TRUE(ran) << ran.error().to_string();
    ASSERT_TRUE(ran->image);
    const std::string child = *ran->image;
    EXPECT_NE(child, busybox_);

    EXPECT_EQ(images.list({.number = 1})->size(), 1u);
    EXPECT_EQ(images.list({.number = 1})->front().uuid(), child) << "newest first";
    EXPECT_EQ(images.list({.tagged = true})->size(), 2u);
    auto prefixed = images.list({.tag_prefix = "busybox-"});
    ASSERT_EQ(prefixed->size(), 1u);
    EXPECT_EQ(prefixed->front().uuid(), child);
    EXPECT_EQ(images.list({.since = Clock::now() + std::chrono::hours(1)})->size(), 0u);
    EXPECT_EQ(images.list({.until = Clock::now() + std::chrono::hours(1)})->size(), 2u);
    EXPECT_EQ(images.list({.until = Clock::now() - std::chrono::hours(1)})->size(), 0u);

    // Strict looks up; lenient takes a full UUID as it is, a tag or prefix is looked up anyway.
    const std::string missing = "00000000-0000-4000-8000-000000000000";
    auto strict = images.use(missing, true);
    ASSERT_FALSE(strict);
    EXPECT_EQ(strict.error().code(), Code::kNotFound) << strict.error().to_string();
    EXPECT_TRUE(images.use(missing, false));
    EXPECT_EQ(images.use(child.substr(0, 8))->uuid(), child);
    EXPECT_EQ(images.use("no-such-tag").error().code(), Code::kNotFound);
    // pull finds the tag without importing.
    EXPECT_EQ(images.pull("busybox")->uuid(), busybox_);

    auto child_image = images.use(child, true);
    ASSERT_TRUE(child_image);
    EXPECT_EQ(child_image->info().parent, busybox_);
    auto retagged = child_image->tag("retagged");
    ASSERT_TRUE(retagged) << retagged.error().to_string();
    EXPECT_EQ(retagged->info().tag, "retagged");
    auto lineage = child_image->lineage();
    ASSERT_TRUE(lineage) << lineage.error().to_string();
    ASSERT_EQ(lineage->size(), 1u);
    EXPECT_EQ(lineage->front().uuid, busybox_);
}

TEST_P(ClientTest, ROOT_ImagesGrepArchiveRemoveUntagAndPrune) {
    auto images = client_->images();
    auto image = busybox();
    auto found = image.grep({.patterns = {"^root:"}, .paths = {"/etc/passwd"}});
    ASSERT_TRUE(found) << found.error().to_string();
    ASSERT_EQ(found->matches.size(), 1u);
    EXPECT_EQ(found->matches[0].path, "/etc/passwd");
    EXPECT_EQ(found->matches[0].line, 1u);
    EXPECT_EQ(found->matches[0].text, "root:x:0:0:root:/root:/bin/sh");
    EXPECT_EQ(image.grep({}).error().code(), Code::kInvalidArgument) << "no pattern";

    const auto tar = dir_->path() / "etc.tar";
    {
        auto out = base::UniqueFd::open(tar.string(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT_TRUE(out);
        auto written = image.archive("/etc", out->get());
        ASSERT_TRUE(written) << written.error().to_string();
    }
    std::ifstream in(tar, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(bytes.find("etc/passwd"), std::string::npos);
    auto null = base::UniqueFd::open("/dev/null", O_WRONLY);
    ASSERT_TRUE(null);
    EXPECT_FALSE(image.archive("/no/such", null->get()));

    auto ran = image.run({.shell = "echo x > /x", .tag = "x"});
    ASSERT_TRUE(ran && ran->image);
    EXPECT_FALSE(images.remove("x")) << "tagged: needs force";
    ASSERT_TRUE(images.untag("x"));
    EXPECT_EQ(images.untag("x").error().code(), Code::kNotFound);
    auto pruned = images.prune();
    ASSERT_TRUE(pruned) << pruned.error().to_string();
    EXPECT_EQ(pruned->removed, std::vector<std::string>{*ran->image});
    auto removed = images.remove("busybox", true);
    ASSERT_TRUE(removed) << removed.error().to_string();
    EXPECT_EQ(*removed, busybox_);
    EXPECT_EQ(images.remove("busybox").error().code(), Code::kNotFound);
    EXPECT_EQ(images.list()->size(), 0u);
}

TEST_P(ClientTest, ROOT_ARunTakesEveryField) {
    auto image = busybox();
    auto dir = base::TempDir::create("grove-client-");
    ASSERT_TRUE(dir);
    std::ofstream(dir->path() / "stdin") << "from a file\n";
    std::ofstream(dir->path() / "script.sh") << "echo uploaded\n";
    auto script = FileUpload::from_local(dir->path() / "script.sh", "/bin/script.sh");
    ASSERT_TRUE(script) << script.error().to_string();
    script->mode = 0755;

    std::string streamed_err;
    auto ran = image.run({.shell = "cat; echo \"$GREETING $(pwd) $(hostname)\"; script.sh; "
                                   "cat /etc/data; echo oops >&2; echo kept > /kept; exit 3",
                          .env = {{"GREETING", "hello"}},
                          .cwd = "/tmp",
                          .hostname = "box",
                          .stdin_file = dir->path() / "stdin",
                          .stdout_to = {.file = dir->path() / "out"},
                          .stderr_to = {.callback =
                                            [&](std::string_view chunk) {
                                                streamed_err += chunk;
                                            }},
                          .files = {*script, {.path = "/etc/data", .content = "bytes\n"}},
                          .tag = "every-field"});
    ASSERT_TRUE(ran) << ran.error().to_string();
    const std::string expected = "from a file\nhello /tmp box\nuploaded\nbytes\n";
    EXPECT_EQ(ran->exit_code, 3);
    EXPECT_EQ(ran->stdout_data, expected);
    EXPECT_EQ(ran->stderr_data, "oops\n");
    EXPECT_EQ(streamed_err, "oops\n");
    std::ifstream out(dir->path() / "out");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(out), {}), expected);
    EXPECT_GT(ran->elapsed.count(), 0);
    ASSERT_TRUE(ran->image);

    auto result = client_->images().result_of(*ran);
    ASSERT_TRUE(result) << result.error().to_string();
    EXPECT_EQ(result->info().tag, "every-field");
    EXPECT_EQ(result->read("/kept").value_or(""), "kept\n");
    EXPECT_EQ(result->read("/bin/script.sh").value_or(""), "echo uploaded\n");
    auto entries = result->ls("/etc");
    ASSERT_TRUE(entries) << entries.error().to_string();
    const auto data = std::ranges::find(*entries, "data", &FileEntry::name);
    ASSERT_NE(data, entries->end());
    EXPECT_EQ(data->size, 6u);
    EXPECT_FALSE(data->is_dir);
    ASSERT_TRUE(result->download("/kept", dir->path() / "kept"));
    std::ifstream kept(dir->path() / "kept");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "kept\n");
    EXPECT_EQ(result->read("/missing").error().code(), Code::kNotFound);

    // Input as bytes; a disposable run leaves no image, and asking for it is a typed error.
    auto disposable = image.run({.command = {"cat"}, .stdin_data = "bytes in", .disposable = true});
    ASSERT_TRUE(disposable) << disposable.error().to_string();
    EXPECT_EQ(disposable->stdout_data, "bytes in");
    EXPECT_FALSE(disposable->image);
    auto disposed = client_->images().result_of(*disposable);
    ASSERT_FALSE(disposed);
    EXPECT_EQ(disposed.error().code(), Code::kFailedPrecondition);

    auto slow = image.run({.command = {"sleep", "30"},
                           .timeout = std::chrono::milliseconds(300),
                           .disposable = true});
    ASSERT_TRUE(slow) << slow.error().to_string();
    EXPECT_TRUE(slow->timed_out);
}

TEST_P(ClientTest, ROOT_PopenChecksTheExitAndTheText) {
    auto image = busybox();
    auto echoed = image.popen({"cat"}, {.input = "piped", .check = true, .text = true});
    ASSERT_TRUE(echoed) << echoed.error().to_string();
    EXPECT_EQ(echoed->stdout_data, "piped");
    EXPECT_EQ(echoed->exit_code, 0);

    auto unchecked = image.popen({"sh", "-c", "echo bad >&2; exit 4"});
    ASSERT_TRUE(unchecked);
    EXPECT_EQ(unchecked->exit_code, 4);
    auto checked = image.popen({"sh", "-c", "echo bad >&2; exit 4"}, {.check = true});
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(checked.error().message().find("status 4: bad"), std::string::npos)
        << checked.error().message();

    auto binary = image.popen({"printf", "\\377"}, {.text = true});
    ASSERT_FALSE(binary);
    EXPECT_EQ(binary.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(image.popen({"printf", "\\377"})->stdout_data, "\xff");

    auto late =
        image.popen({"sleep", "30"}, {.check = true, .timeout = std::chrono::milliseconds(300)});
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code(), Code::kDeadlineExceeded);
}

std::string head_file(const Session& session, const std::string& path) {
    auto head = session.head();
    EXPECT_TRUE(head) << head.error().to_string();
    return head ? head->read(path).value_or("<missing>") : "";
}

TEST_P(ClientTest, ROOT_SessionsBranchCheckoutAndRollBack) {
    auto sessions = client_->sessions();
    auto session = sessions.create("work", "busybox");
    ASSERT_TRUE(session) << session.error().to_string();
    EXPECT_EQ(sessions.create("work", "busybox").error().code(), Code::kAlreadyExists);
    EXPECT_EQ(session->info()->image, busybox_);

    ASSERT_TRUE(session->run({.shell = "echo 1 > /n"}));
    ASSERT_TRUE(session->run({.shell = "echo 2 > /n; echo two"}));
    EXPECT_EQ(head_file(*session, "/n"), "2\n");
    // A disposable run leaves the session where it was.
    ASSERT_TRUE(session->run({.shell = "echo 9 > /n", .disposable = true}));
    EXPECT_EQ(head_file(*session, "/n"), "2\n");

    auto history = session->history();
    ASSERT_TRUE(history) << history.error().to_string();
    ASSERT_EQ(history->size(), 3u) << "two runs and the base";
    EXPECT_EQ((*history)[0].command, "echo 2 > /n; echo two");
    EXPECT_EQ((*history)[0].stdout_data, "two\n");
    EXPECT_EQ((*history)[0].exit_code, 0);
    EXPECT_EQ((*history)[0].parent, (*history)[1].id);
    EXPECT_EQ((*history)[2].command, "");
    EXPECT_EQ((*history)[2].image, busybox_);

    auto branched = session->branch("try");
    ASSERT_TRUE(branched) << branched.error().to_string();
    EXPECT_EQ(branched->branch, "try");
    ASSERT_TRUE(session->run({.shell = "echo 3 > /n; exit 5"}));
    EXPECT_EQ(head_file(*session, "/n"), "3\n");
    EXPECT_EQ(session->history()->front().exit_code, 5);
    EXPECT_EQ(session->branch("try").error().code(), Code::kAlreadyExists);

    ASSERT_TRUE(session->checkout("main"));
    EXPECT_EQ(head_file(*session, "/n"), "2\n");
    EXPECT_EQ(session->checkout("nope").error().code(), Code::kNotFound);
    auto rolled = session->rollback(1);
    ASSERT_TRUE(rolled) << rolled.error().to_string();
    EXPECT_EQ(head_file(*session, "/n"), "1\n");
    EXPECT_EQ(session->history()->size(), 2u);
    EXPECT_EQ(session->rollback(5).error().code(), Code::kOutOfRange);
    // The branch keeps its own head.
    ASSERT_TRUE(session->checkout("try"));
    EXPECT_EQ(head_file(*session, "/n"), "3\n");
    EXPECT_EQ(session->history()->size(), 4u);

    // A client of the other kind sees the same session: the branches live in the store.
    auto other = GetParam() == Mode::kEmbedded
                     ? Client::remote({.host = "unix://" + socket().string()})
                     : Client::embedded({.root = root()});
    ASSERT_TRUE(other) << other.error().to_string();
    auto seen = (*other)->sessions().get("work");
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->info()->branch, "try");
    EXPECT_EQ(seen->info()->branches.size(), 2u);

    auto listed = sessions.list();
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().name, "work");
    ASSERT_TRUE(sessions.remove("work"));
    EXPECT_EQ(sessions.get("work").error().code(), Code::kNotFound);
}

// Remote only: an embedded run takes a thread of the pool while it lasts, a remote one nothing.
using RemoteAsyncTest = ClientTest;

TEST_P(RemoteAsyncTest, ROOT_TwoHundredRunsInFlightFromOneThread) {
    auto image = busybox();
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::future<Result<RunResult>>> runs;
    for (int i = 0; i < 200; ++i) {
        runs.push_back(image.run_async({.command = {"/bin/true"}, .disposable = true}));
    }
    for (auto& run : runs) {
        auto result = run.get();
        ASSERT_TRUE(result) << result.error().to_string();
        EXPECT_EQ(result->exit_code, 0);
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    std::cout << "200 runs in " << std::chrono::duration<double>(elapsed).count() << " s\n";
}

TEST_P(ClientTest, ROOT_RunsOnTheHostNetworkOrThroughAnOciRuntime) {
    auto image = busybox();
    // Interface names only: the counters move while the test runs.
    const std::string names = "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '";
    const auto host_names =
        base::run_command({.argv = {"/bin/sh", "-c", names}}, std::chrono::seconds(10));
    ASSERT_TRUE(host_names);
    auto none = image.run({.shell = names, .disposable = true});
    ASSERT_TRUE(none) << none.error().to_string();
    EXPECT_EQ(none->stdout_data, "lo\n");
    auto host = image.run({.shell = names, .disposable = true, .network = "host"});
    ASSERT_TRUE(host) << host.error().to_string();
    EXPECT_EQ(host->stdout_data, host_names->out);
    EXPECT_EQ(image.run({.command = {"true"}, .network = "wifi"}).error().code(),
              Code::kInvalidArgument);
    if (base::find_program("crun").has_value()) {
        auto crun = image.run({.command = {"echo", "hi"}, .disposable = true, .runtime = "crun"});
        ASSERT_TRUE(crun) << crun.error().to_string();
        EXPECT_EQ(crun->stdout_data, "hi\n");
    }
    if (GetParam() != Mode::kEmbedded) {
        auto refused = call(
            {.method = "POST",
             .path = "/v1/instances",
             .body = R"({"image": ")" + busybox_ + R"(", "command": "true", "network": "wifi"})"});
        EXPECT_EQ(refused.status, 400) << refused.body;
    }
}

// (`sleep 600`, not 1000: RunTest.ROOT_TimeoutsKillTheWholeTree looks for any `sleep 1000`.)
TEST_P(ClientTest, ROOT_ContainersCreateStartExecLogsAndRemove) {
    auto containers = client_->containers();
    auto created =
        containers.create({.image = "busybox",
                           .name = "box",
                           .command = {"sh", "-c", "echo up $K; echo oops >&2; exec sleep 600"},
                           .env = {"K=v"}});
    ASSERT_TRUE(created) << created.error().to_string();
    // A failed assertion leaves no container running (its shim outlives the test).
    base::ScopeExit cleanup([&] { (void)containers.remove(created->id, true); });
    EXPECT_EQ(created->status, "created");
    EXPECT_EQ(created->image_uuid, busybox_);
    EXPECT_FALSE(created->started);
    EXPECT_EQ(containers.create({.image = "busybox", .name = "box"}).error().code(),
              Code::kAlreadyExists);
    auto started = containers.start("box");
    ASSERT_TRUE(started) << started.error().to_string();
    EXPECT_TRUE(*started);
    EXPECT_FALSE(*containers.start(created->id.substr(0, 12))) << "running already";

    auto listed = containers.list();
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().id, created->id);
    EXPECT_EQ(listed->front().status, "running");
    EXPECT_TRUE(listed->front().started);

    std::string out, err;
    const auto collect = [&](OutputStream stream, std::string_view bytes) {
        (stream == OutputStream::kStderr ? err : out).append(bytes);
    };
    auto code = containers.exec(
        "box", {.command = {"sh", "-c", "echo $K; echo e >&2; exit 3"}, .on_output = collect});
    ASSERT_TRUE(code) << code.error().to_string();
    EXPECT_EQ(*code, 3);
    EXPECT_EQ(out, "v\n");
    EXPECT_EQ(err, "e\n");
    out.clear();
    // Many frames, reassembled from reads and HTTP chunks cut anywhere. (Within what a socket
    // buffers: the shim drops an exec reader that falls behind, which then gets an error.)
    code = containers.exec("box",
                           {.command = {"sh", "-c", "dd if=/dev/zero bs=4096 count=20 2>/dev/null"},
                            .on_output = collect});
    ASSERT_TRUE(code) << code.error().to_string();
    EXPECT_EQ(*code, 0);
    EXPECT_EQ(out, std::string(81'920, '\0'));

    auto stopped = containers.stop("box", std::chrono::seconds(1));
    ASSERT_TRUE(stopped) << stopped.error().to_string();
    EXPECT_TRUE(*stopped);
    EXPECT_FALSE(*containers.stop("box")) << "not running";
    out.clear();
    err.clear();
    ASSERT_TRUE(containers.logs("box", {.on_output = collect}));
    EXPECT_EQ(out, "up v\n");
    EXPECT_EQ(err, "oops\n");
    out.clear();
    err.clear();
    ASSERT_TRUE(containers.logs("box", {.follow = true, .tail = 1, .on_output = collect}))
        << "a follow of a stopped container ends at once";
    EXPECT_EQ(out + err, "oops\n");
    auto inspected = containers.inspect("box");
    ASSERT_TRUE(inspected) << inspected.error().to_string();
    EXPECT_EQ(inspected->status, "exited");
    EXPECT_TRUE(inspected->finished);

    EXPECT_EQ(containers.exec("box", {.command = {"true"}}).error().code(),
              Code::kFailedPrecondition);
    EXPECT_EQ(containers.kill("box").error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(containers.inspect("nope").error().code(), Code::kNotFound);
    EXPECT_EQ(containers.logs("nope", {}).error().code(), Code::kNotFound);
    EXPECT_EQ(containers.list()->size(), 0u);
    EXPECT_EQ(containers.list(true)->size(), 1u);
    ASSERT_TRUE(containers.start("box"));
    EXPECT_EQ(containers.remove("box").error().code(), Code::kFailedPrecondition);
    ASSERT_TRUE(containers.remove("box", true));
    cleanup.dismiss();
    EXPECT_EQ(containers.list(true)->size(), 0u);
}

TEST_P(ClientTest, ROOT_ImportFromARegistry) {
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    auto images = TestImages::load();
    ASSERT_TRUE(images);
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    ASSERT_TRUE(registry->push(images->oci_ref("busybox"), "library/busybox:mirrored"));
    const std::string mirror = "docker.io=http://" + registry->host();
    if (GetParam() != Mode::kEmbedded) {
        client_.reset();
        stop_daemon(SIGTERM);
        start_daemon({"--registry-mirror", mirror});
    }
    connect({mirror});

    bool finished = false;
    auto imported =
        client_->images().import_from("docker.io/library/busybox:mirrored",
                                      {.tag = "mirrored", .progress = [&](const ImportProgress& p) {
                                           finished |= p.finished;
                                       }});
    ASSERT_TRUE(imported) << imported.error().to_string();
    EXPECT_EQ(imported->info().tag, "mirrored");
    EXPECT_TRUE(finished);
    auto pulled = client_->images().pull("mirrored");
    ASSERT_TRUE(pulled);
    EXPECT_EQ(pulled->uuid(), imported->uuid());
    auto missing = client_->images().import_from("docker.io/library/missing:latest");
    EXPECT_FALSE(missing);
}

INSTANTIATE_TEST_SUITE_P(Clients,
                         ClientTest,
                         ::testing::Values(Mode::kEmbedded, Mode::kUnixSocket, Mode::kTcp),
                         mode_name);
INSTANTIATE_TEST_SUITE_P(Clients, RemoteAsyncTest, ::testing::Values(Mode::kUnixSocket), mode_name);

// The remote client's own failures: a refused token, a daemon that is not there.
using RemoteClientTest = GrovedFixture;

TEST_F(RemoteClientTest, ROOT_ErrorsAreTyped) {
    auto refused = Client::remote(
        {.host = "http://127.0.0.1:" + std::to_string(port_), .token = "wrong-token"});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Code::kUnauthenticated) << refused.error().to_string();
    stop_daemon(SIGTERM);
    auto absent = Client::remote({.host = socket().string()});
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code(), Code::kUnavailable);
    EXPECT_NE(
        absent.error().message().find("is it running? start it with `groved --listen unix://"),
        std::string::npos);
    EXPECT_EQ(Client::remote({.host = "ftp://x"}).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace grove::testing
