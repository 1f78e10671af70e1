#include "daemon/instance_request.hpp"

#include <gtest/gtest.h>

#include "daemon/import_request.hpp"
#include "daemon/stream_repr.hpp"

namespace grove::daemon {
namespace {

Result<InstanceRequest> parse(std::string_view text) {
    auto json = base::parse_json(text);
    EXPECT_TRUE(json) << json.error().to_string();
    return parse_instance_request(*json);
}

TEST(InstanceRequest, OnlyCommandAndImageAreRequired) {
    auto r = parse(R"({"command": "ls", "image": "tag:busybox"})");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->command, "ls");
    EXPECT_EQ(r->image, "tag:busybox");
    EXPECT_FALSE(r->shell);
    EXPECT_FALSE(r->disposable);
    EXPECT_EQ(r->truncate_output_at, kDefaultTruncateAt);
    EXPECT_EQ(instance_argv(*r), std::vector<std::string>{"ls"});

    EXPECT_EQ(parse(R"({"image": "x"})").error().code(), Code::kInvalidArgument);
    EXPECT_EQ(parse(R"({"command": "ls"})").error().code(), Code::kInvalidArgument);
    EXPECT_EQ(parse(R"({"command": 1, "image": "x"})").error().code(), Code::kInvalidArgument);
}

TEST(InstanceRequest, NetworkAndRuntimeAreGrovesExtensions) {
    auto plain = parse(R"({"command": "ls", "image": "x"})");
    ASSERT_TRUE(plain) << plain.error().to_string();
    EXPECT_EQ(plain->network, "none");
    EXPECT_EQ(plain->runtime, "");
    auto r = parse(R"({"command": "ls", "image": "x", "network": "host", "runtime": "crun"})");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->network, "host");
    EXPECT_EQ(r->runtime, "crun");
    EXPECT_EQ(instance_request_json(*r)["network"], "host");
    EXPECT_EQ(instance_request_json(*r)["runtime"], "crun");
    EXPECT_EQ(parse(R"({"command": "ls", "image": "x", "network": "bridge"})").error().code(),
              Code::kInvalidArgument);
}

TEST(InstanceRequest, NullMeansDefaultAndExtraFieldsAreIgnored) {
    auto r = parse(R"({"command": "ls", "image": "x", "args": null, "env": null, "cwd": "",
                       "timeout": null, "files": null, "shell": null, "unknown": [1, 2],
                       "stdin": {"value": "hi", "encoding": "ascii", "close": true,
                                 "result": null, "truncated": false}})");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->args.empty());
    EXPECT_TRUE(r->cwd.empty());
    EXPECT_EQ(r->stdin_data, "hi");
}

TEST(InstanceRequest, EveryField) {
    auto r = parse(R"({
        "command": "echo $A", "image": "0b3ba3b5-2bcd-4ab6-8d2a-6a4fd2a4b1ab",
        "args": ["it's", "b"], "shell": true,
        "env": {"A": "1", "API_TOKEN": "s3cret"}, "cwd": "/tmp", "hostname": "box",
        "stdin": {"value": "AAEC", "encoding": "base64"}, "timeout": 10, "disposable": true,
        "files": {"/etc/x": {"uuid": "u1", "mode": "0o755", "uid": 5, "gid": 6},
                  "/etc/y": {"uuid": "u2", "mode": "0600"}},
        "truncate_output_at": 100, "uid": 1000, "gid": 1001,
        "resources_limits": {"max_layer_bytes": 4096, "memory_bytes": 1048576, "pids": 10},
        "preserve_env": true, "tag": "t/1"})");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(instance_argv(*r),
              (std::vector<std::string>{"/bin/sh", "-c", "echo $A 'it'\\''s' b"}));
    ASSERT_EQ(r->env.size(), 2u);
    EXPECT_EQ(r->stdin_data, std::string("\0\1\2", 3));
    EXPECT_EQ(r->timeout_seconds, 10u);
    EXPECT_EQ(r->files.at("/etc/x").mode, 0755u);
    EXPECT_EQ(r->files.at("/etc/x").uid, 5u);
    EXPECT_EQ(r->files.at("/etc/y").mode, 0600u);
    EXPECT_EQ(r->limits.max_layer_bytes, 4096u);
    EXPECT_EQ(r->limits.pids, 10u);
    EXPECT_EQ(r->uid, 1000u);
    EXPECT_EQ(r->tag, "t/1");

    const auto echo = instance_request_json(*r);
    EXPECT_EQ(echo["env"]["A"], "1");
    EXPECT_EQ(echo["env"]["API_TOKEN"], "<MASKED>");
    EXPECT_EQ(echo["files"]["/etc/x"]["mode"], "0755");
    EXPECT_EQ(echo["stdin"]["encoding"], "base64");
    EXPECT_EQ(echo["resources_limits"]["max_layer_bytes"], 4096);
}

TEST(InstanceRequest, RefusesBadFilesAndModes) {
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "files": {"rel": {"uuid": "u"}}})"));
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "files": {"/a": {}}})"));
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "files": {"/a": {"uuid": "u",
                           "mode": "0999"}}})"));
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "timeout": -1})"));
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "env": {"A": 1}})"));
    EXPECT_FALSE(parse(R"({"command": "x", "image": "x", "stdin": {"value": "!",
                           "encoding": "base64"}})"));
    EXPECT_EQ(*parse_mode("644"), 0644u);
    EXPECT_EQ(*parse_mode("0o4755"), 04755u);
    EXPECT_FALSE(parse_mode(""));
    EXPECT_FALSE(parse_mode("0o"));
    EXPECT_FALSE(parse_mode("10000"));
}

TEST(InstanceRequest, SecretKeys) {
    EXPECT_TRUE(is_secret_key("GITHUB_TOKEN"));
    EXPECT_TRUE(is_secret_key("db_password"));
    EXPECT_TRUE(is_secret_key("OPENAI_API_KEY"));
    EXPECT_TRUE(is_secret_key("Authorization"));
    EXPECT_FALSE(is_secret_key("PATH"));
    EXPECT_FALSE(is_secret_key("TOKENS_LEFT"));
}

TEST(StreamRepr, PrintableAsciiTravelsAsIsTheRestAsBase64) {
    EXPECT_EQ(stream_repr("hi\tthere\r\n"),
              (base::Json{{"value", "hi\tthere\r\n"}, {"encoding", "ascii"}}));
    EXPECT_EQ(stream_repr("caf\xc3\xa9")["encoding"], "base64");
    EXPECT_EQ(stream_repr(std::string("\0", 1))["value"], "AA==");
    EXPECT_EQ(*decode_stream_repr(stream_repr("caf\xc3\xa9")), "caf\xc3\xa9");
    EXPECT_EQ(*decode_stream_repr("plain"), "plain");
    EXPECT_FALSE(decode_stream_repr({{"value", "x"}, {"encoding", "rot13"}}));
}

TEST(ImportRequest, ParsesRegistryUrlsAndMasksThePassword) {
    auto body = base::parse_json(R"({"registry": {"url": "docker://docker.io/library/busybox:1",
        "credentials": {"username": "u", "password": "p"}}, "tag": "busybox:1", "timeout": 30})");
    auto r = parse_import_request(*body);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->reference.to_string(), "docker.io/library/busybox:1");
    EXPECT_EQ(r->credentials->password, "p");
    EXPECT_EQ(r->tag, "busybox:1");
    EXPECT_EQ(r->timeout_seconds, 30u);
    const auto echo = import_request_json(*r);
    EXPECT_EQ(echo["registry"]["credentials"]["password"], "<MASKED>");
    EXPECT_EQ(echo["registry"]["url"], "docker://docker.io/library/busybox:1");

    body = base::parse_json(R"({"registry": {"url": "busybox",
        "credentials": {"username": "", "password": ""}}})");
    r = parse_import_request(*body);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->credentials) << "empty credentials are anonymous (contree-mcp)";
    EXPECT_EQ(r->reference.to_string(), "docker.io/library/busybox:latest");

    EXPECT_FALSE(parse_import_request(*base::parse_json(R"({"tag": "x"})")));
    EXPECT_FALSE(parse_import_request(*base::parse_json(R"({"registry": {"url": "UPPER"}})")));
}

TEST(ImportRequest, TakesGrovesPlatform) {
    auto r = parse_import_request(
        *base::parse_json(R"({"registry": {"url": "busybox"}, "platform": "linux/arm64/v8"})"));
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_TRUE(r->platform);
    EXPECT_EQ(r->platform->to_string(), "linux/arm64/v8");
    EXPECT_EQ(import_request_json(*r)["platform"], "linux/arm64/v8");
    auto host = parse_import_request(*base::parse_json(R"({"registry": {"url": "busybox"}})"));
    ASSERT_TRUE(host);
    EXPECT_FALSE(host->platform) << "the host's";
    auto bad = parse_import_request(
        *base::parse_json(R"({"registry": {"url": "busybox"}, "platform": "a//b"})"));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("platform"), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace grove::daemon
