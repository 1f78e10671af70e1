#include "containers/commit_config.hpp"

#include <csignal>

#include <gtest/gtest.h>

#include "base/json.hpp"

namespace grove::containers {
namespace {

using base::Json;

Container busybox_container() {
    Container c;
    c.cmd = {"sh"};
    c.user = "nobody";
    c.labels = {{"a", "1"}};
    c.stop_signal = SIGTERM;
    c.config.env = {"PATH=/bin", "X=1"};
    c.config.cwd = "/srv";
    return c;
}

Json config_of(const CommitSpec& spec) {
    auto text = commit_config(R"({"architecture":"amd64","os":"linux","config":{"Cmd":["old"]},
                                  "rootfs":{"type":"layers","diff_ids":[]}})",
                              busybox_container(), spec, "2026-01-02T03:04:05Z");
    EXPECT_TRUE(text) << text.error().to_string();
    auto json = base::parse_json(text.value_or("{}"));
    return json.value_or(Json::object());
}

TEST(CommitConfigTest, TheContainersSettingsOverTheImage) {
    const Json image = config_of({.author = "me", .comment = "why"});
    const Json& config = image["config"];
    EXPECT_EQ(config["Cmd"], Json({"sh"}));
    EXPECT_TRUE(config["Entrypoint"].is_null());
    EXPECT_EQ(config["Env"], Json({"PATH=/bin", "X=1"}));
    EXPECT_EQ(config["WorkingDir"], "/srv");
    EXPECT_EQ(config["User"], "nobody");
    EXPECT_EQ(config["Labels"]["a"], "1");
    EXPECT_FALSE(config.contains("StopSignal"));
    EXPECT_EQ(image["author"], "me");
    EXPECT_EQ(image["comment"], "why");
    EXPECT_EQ(image["created"], "2026-01-02T03:04:05Z");
    EXPECT_EQ(image["os"], "linux");
}

TEST(CommitConfigTest, DockerfileChanges) {
    const Json config = config_of(
        {.changes = {"CMD echo hi", "ENV X=2 Y=\"a b\"", "env Z some value", "EXPOSE 80 53/udp",
                     "LABEL b=2", "WORKDIR sub", "USER 1000:1000", "STOPSIGNAL SIGINT",
                     "VOLUME [\"/data\"]", "VOLUME /a /b"}})["config"];
    EXPECT_EQ(config["Cmd"], Json({"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(config["Env"], Json({"PATH=/bin", "X=2", "Y=a b", "Z=some value"}));
    EXPECT_TRUE(config["ExposedPorts"].contains("80/tcp"));
    EXPECT_TRUE(config["ExposedPorts"].contains("53/udp"));
    EXPECT_EQ(config["Labels"], Json({{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(config["WorkingDir"], "/srv/sub");
    EXPECT_EQ(config["User"], "1000:1000");
    EXPECT_EQ(config["StopSignal"], "SIGINT");
    EXPECT_EQ(config["Volumes"].size(), 3u);

    const Json entry = config_of({.changes = {"ENTRYPOINT [\"/bin/app\", \"-v\"]"}})["config"];
    EXPECT_EQ(entry["Entrypoint"], Json({"/bin/app", "-v"}));
    EXPECT_TRUE(entry["Cmd"].is_null());
}

TEST(CommitConfigTest, TheClientsConfigMergesOverTheContainers) {
    const Json config = config_of({.config_json = R"({"Env":["X=3","N=1"],"Labels":{"c":"3"},
                                                     "Cmd":["new"],"User":""})"})["config"];
    EXPECT_EQ(config["Env"], Json({"PATH=/bin", "X=3", "N=1"}));
    EXPECT_EQ(config["Labels"], Json({{"a", "1"}, {"c", "3"}}));
    EXPECT_EQ(config["Cmd"], Json({"new"}));
    EXPECT_EQ(config["User"], "nobody");
}

TEST(CommitConfigTest, BadInput) {
    const auto bad = [](CommitSpec spec) {
        auto text = commit_config("{}", busybox_container(), spec, "t");
        EXPECT_FALSE(text);
        return text ? Code::kInternal : text.error().code();
    };
    EXPECT_EQ(bad({.changes = {"FROM busybox"}}), Code::kInvalidArgument);
    EXPECT_EQ(bad({.changes = {"ENV"}}), Code::kInvalidArgument);
    EXPECT_EQ(bad({.changes = {"CMD"}}), Code::kInvalidArgument);
    EXPECT_EQ(bad({.config_json = "[1]"}), Code::kInvalidArgument);
    EXPECT_EQ(bad({.config_json = "{"}), Code::kInvalidArgument);
    EXPECT_EQ(commit_config("[]", busybox_container(), {}, "t").error().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace grove::containers
