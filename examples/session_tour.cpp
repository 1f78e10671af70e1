// A tour of grove's client library: import an image, run a command, then a session with a branch
// and a rollback. Embedded by default (GROVE_ROOT picks the store); with GROVE_HOST set (and
// GROVE_TOKEN for TCP) the same program drives a groved.
//
//   grove_example <image source>      e.g. busybox, oci:/path/to/layout:latest

#include <cstdio>
#include <string>

#include <grove/client.hpp>

namespace {

int fail(const char* what, const grove::Error& error) {
    std::fprintf(stderr, "grove_example: %s: %s\n", what, error.to_string().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: grove_example <image source>\n");
        return 2;
    }
    auto client = grove::Client::from_environment();
    if (!client) {
        return fail("connect", client.error());
    }
    auto images = (*client)->images();
    auto image = images.import_from(argv[1], {.tag = "example/base"});
    if (!image) {
        return fail("import", image.error());
    }
    auto hello = image->popen({"echo", "hello from grove"}, {.check = true});
    if (!hello) {
        return fail("popen", hello.error());
    }
    std::printf("popen: %s", hello->stdout_data.c_str());

    auto sessions = (*client)->sessions();
    (void)sessions.remove("example");  // from an earlier tour, if any
    auto session = sessions.create("example", image->uuid());
    if (!session) {
        return fail("session", session.error());
    }
    for (const char* step : {"echo one > /state", "echo two > /state"}) {
        if (auto ran = session->run({.shell = step}); !ran) {
            return fail("run", ran.error());
        }
    }
    (void)session->branch("experiment");
    (void)session->run({.shell = "echo three > /state"});
    (void)session->checkout("main");
    (void)session->rollback(1);
    auto head = session->head();
    if (!head) {
        return fail("head", head.error());
    }
    std::printf("main after rollback: %s", head->read("/state").value_or("?").c_str());
    auto history = session->history();
    if (!history) {
        return fail("history", history.error());
    }
    for (const auto& run : *history) {
        std::printf("history: #%lld %s\n", static_cast<long long>(run.id),
                    run.command.empty() ? "(base)" : run.command.c_str());
    }
    (void)sessions.remove("example");
    return 0;
}
