#include "daemon/subprocess_request.hpp"

#include <csignal>

#include <gtest/gtest.h>

namespace grove::daemon {
namespace {

base::Json parse(const char* text) {
    auto json = base::parse_json(text);
    EXPECT_TRUE(json) << text;
    return json.value_or(base::Json());
}

TEST(SubprocessRequest, ParsesEveryField) {
    auto request = parse_subprocess_request(parse(R"({
        "command": "cat", "args": ["-n"], "shell": false, "env": {"A": "1", "API_TOKEN": "x"},
        "cwd": "/tmp", "stdin": {"value": "aGk=", "encoding": "base64", "close": true},
        "timeout": 2.5, "unknown": 1})"));
    ASSERT_TRUE(request) << request.error().to_string();
    EXPECT_EQ(request->command, "cat");
    EXPECT_EQ(request->args, std::vector<std::string>{"-n"});
    EXPECT_FALSE(request->shell);
    ASSERT_EQ(request->env.size(), 2u);
    EXPECT_EQ(request->env[0], (std::pair<std::string, std::string>{"A", "1"}));
    EXPECT_EQ(request->cwd, "/tmp");
    EXPECT_EQ(request->stdin_data, "hi");
    EXPECT_TRUE(request->close_stdin);
    EXPECT_EQ(request->timeout_seconds, 2u);
    EXPECT_EQ(subprocess_env_json(*request)["API_TOKEN"], "<MASKED>");
}

TEST(SubprocessRequest, DefaultsKeepStdinOpen) {
    auto request = parse_subprocess_request(parse(R"({"command": "cat", "env": null})"));
    ASSERT_TRUE(request) << request.error().to_string();
    EXPECT_TRUE(request->args.empty());
    EXPECT_TRUE(request->cwd.empty());
    EXPECT_EQ(request->stdin_data, "");
    EXPECT_FALSE(request->close_stdin);
    EXPECT_FALSE(request->timeout_seconds);

    request = parse_subprocess_request(parse(R"({"command": "cat", "stdin": {"value": "x"}})"));
    ASSERT_TRUE(request);
    EXPECT_EQ(request->stdin_data, "x");
    EXPECT_FALSE(request->close_stdin) << "close is what the client says, false when absent";
}

TEST(SubprocessRequest, RejectsBadBodies) {
    for (const char* body :
         {R"([])", R"({})", R"({"command": ""})", R"({"command": 1})",
          R"({"command": "x", "env": []})", R"({"command": "x", "env": {"a=b": "c"}})",
          R"({"command": "x", "timeout": -1})",
          R"({"command": "x", "stdin": {"value": "%", "encoding": "base64"}})"}) {
        auto request = parse_subprocess_request(parse(body));
        ASSERT_FALSE(request) << body;
        EXPECT_EQ(request.error().code(), Code::kInvalidArgument) << body;
    }
}

TEST(SubprocessRequest, StdinBodies) {
    auto input = parse_stdin_request(parse(R"({"value": "hello", "close": true})"));
    ASSERT_TRUE(input);
    EXPECT_EQ(input->data, "hello");
    EXPECT_TRUE(input->close);
    input = parse_stdin_request(parse(R"({"value": "AAE=", "encoding": "base64"})"));
    ASSERT_TRUE(input);
    EXPECT_EQ(input->data, std::string("\0\1", 2));
    EXPECT_FALSE(input->close);
    input = parse_stdin_request(parse(R"({"close": true})"));
    ASSERT_TRUE(input);
    EXPECT_EQ(input->data, "");
    EXPECT_TRUE(input->close);
    EXPECT_FALSE(parse_stdin_request(parse(R"("text")")));
}

TEST(SubprocessRequest, SignalsByNameOrNumber) {
    EXPECT_EQ(signal_number("TERM"), SIGTERM);
    EXPECT_EQ(signal_number("SIGKILL"), SIGKILL);
    EXPECT_EQ(signal_number("hup"), SIGHUP);
    EXPECT_EQ(signal_number("sigusr1"), SIGUSR1);
    EXPECT_EQ(signal_number("9"), SIGKILL);
    EXPECT_FALSE(signal_number("NOPE"));
    EXPECT_FALSE(signal_number("0"));
    EXPECT_FALSE(signal_number("SIG"));
    EXPECT_FALSE(signal_number(""));

    EXPECT_EQ(parse_kill_request(parse(R"({"signal": "TERM"})")).value_or(0), SIGTERM);
    EXPECT_EQ(parse_kill_request(parse(R"({"signal": 2})")).value_or(0), SIGINT);
    EXPECT_EQ(parse_kill_request(parse(R"({})")).value_or(0), SIGTERM) << "the clients' default";
    EXPECT_FALSE(parse_kill_request(parse(R"({"signal": "BOGUS"})")));
    EXPECT_FALSE(parse_kill_request(parse(R"({"signal": 1000})")));
    EXPECT_FALSE(parse_kill_request(parse(R"({"signal": true})")));
}

}  // namespace
}  // namespace grove::daemon
