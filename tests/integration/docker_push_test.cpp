// `docker push` through groved to a real registry (Debian's docker-registry), read back with
// skopeo and with a fresh grove store: an imported image keeps its manifest digest, a committed
// container's image is flattened into one layer, a re-push finds its layers there, an unknown
// name gets dockerd's error, and docker-py's streamed push sees the aux digest.

#include <filesystem>

#include "docker_fixture.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

using std::chrono::seconds;

class DockerPushTest : public DockerFixture {
protected:
    // `grove --root <fresh store> args...`; its stdout, which must come with success.
    std::string fresh_grove(const std::vector<std::string>& args) {
        std::vector<std::string> argv{GROVE_BINARY, "--root", (dir_->path() / "fresh").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = base::run_command({.argv = argv}, seconds(120));
        EXPECT_TRUE(out);
        if (!out) {
            return {};
        }
        EXPECT_TRUE(out->status.success())
            << fmt::format("{}", fmt::join(args, " ")) << ": " << out->out << out->err;
        return out->out;
    }

    // The manifest digest skopeo sees for `repo_tag` in `registry`.
    static std::string registry_digest(const LocalRegistry& registry, const std::string& repo_tag) {
        auto inspected = registry.skopeo({"inspect", registry.docker_ref(repo_tag)});
        EXPECT_TRUE(inspected && inspected->status.success())
            << (inspected ? inspected->err : inspected.error().to_string());
        if (!inspected) {
            return {};
        }
        auto json = base::parse_json(inspected->out);
        return json ? json->value("Digest", "") : "";
    }
};

TEST_F(DockerPushTest, ROOT_PushToARegistryAndReadItBack) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    const std::string repo = registry->host() + "/team/box";

    // An imported image goes as it was fetched: the same manifest, so the same digest.
    docker_ok({"tag", "busybox", repo});
    const std::string pushed = docker_ok({"push", repo});
    EXPECT_NE(pushed.find("The push refers to repository [" + repo + "]"), std::string::npos)
        << pushed;
    EXPECT_NE(pushed.find(": Pushed"), std::string::npos) << pushed;
    EXPECT_NE(pushed.find("latest: digest: sha256:"), std::string::npos) << pushed;
    const std::string digest = registry_digest(*registry, "team/box:latest");
    ASSERT_TRUE(digest.starts_with("sha256:")) << digest;
    EXPECT_NE(pushed.find("latest: digest: " + digest), std::string::npos) << pushed;

    // Pushed again, every layer is there already.
    const std::string again = docker_ok({"push", repo + ":latest"});
    EXPECT_NE(again.find("Layer already exists"), std::string::npos) << again;
    EXPECT_EQ(again.find(": Pushed"), std::string::npos) << again;

    // A committed container: its image is a run's, flattened into one gzip layer.
    docker_ok({"run", "--name", "pushed-box", "busybox", "sh", "-c",
               "mkdir /data && echo committed > /data/file && rm /etc/group"});
    docker_ok({"commit", "--change", "ENV MARK=pushed", "pushed-box", repo + ":run"});
    const std::string run_push = docker_ok({"push", repo + ":run"});
    EXPECT_NE(run_push.find("run: digest: sha256:"), std::string::npos) << run_push;
    const std::string rerun_push = docker_ok({"push", repo + ":run"});
    EXPECT_NE(rerun_push.find("Layer already exists"), std::string::npos) << rerun_push;
    EXPECT_EQ(registry_digest(*registry, "team/box:run"),
              rerun_push.substr(rerun_push.find("sha256:"), 71));

    // A fresh store pulls both back with the same files.
    fresh_grove({"images", "import", "-q", "docker://" + repo + ":latest", "--tag", "box"});
    fresh_grove({"images", "import", "-q", "docker://" + repo + ":run", "--tag", "run"});
    const std::string passwd = docker_ok({"run", "--rm", "busybox", "cat", "/etc/passwd"});
    EXPECT_EQ(fresh_grove({"cat", "box", "/etc/passwd"}), passwd);
    EXPECT_EQ(fresh_grove({"cat", "run", "/etc/passwd"}), passwd);
    EXPECT_EQ(fresh_grove({"cat", "run", "/data/file"}), "committed\n");
    EXPECT_FALSE(fresh_grove({"ls", "run", "/bin"}).empty());
    auto group =
        base::run_command({.argv = {GROVE_BINARY, "--root", (dir_->path() / "fresh").string(),
                                    "cat", "run", "/etc/group"}},
                          seconds(60));
    ASSERT_TRUE(group);
    EXPECT_FALSE(group->status.success()) << "the deleted file came back: " << group->out;
    auto config = registry->skopeo({"inspect", "--config", registry->docker_ref("team/box:run")});
    ASSERT_TRUE(config && config->status.success());
    EXPECT_NE(config->out.find("MARK=pushed"), std::string::npos) << config->out;

    // skopeo copies it out whole (every blob verified against the manifest's digests).
    auto copied = registry->skopeo({"copy", registry->docker_ref("team/box:run"),
                                    "oci:" + (dir_->path() / "copied").string() + ":run"});
    ASSERT_TRUE(copied);
    EXPECT_TRUE(copied->status.success()) << copied->err;

    // An unknown name: dockerd's words, and a failed command.
    const auto missing = docker({"push", registry->host() + "/team/none"});
    EXPECT_FALSE(missing.status.success());
    EXPECT_NE(missing.err.find("An image does not exist locally with the tag: " + registry->host() +
                               "/team/none"),
              std::string::npos)
        << missing.out << missing.err;
}

TEST_F(DockerPushTest, ROOT_DockerPyStreamsThePush) {
    GROVE_REQUIRE(missing_python_clients());
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    // A registry with bearer tokens that only credentials may push to: X-Registry-Auth's.
    auto registry = LocalRegistry::start({.auth = RegistryOptions::Auth::kToken});
    ASSERT_TRUE(registry) << registry.error().to_string();
    const std::string repo = registry->host() + "/py/box";
    const std::string script = R"(
import sys, docker
client = docker.DockerClient(base_url="unix://" + sys.argv[1])
auth = {"username": sys.argv[3], "password": sys.argv[4]}
client.images.get("busybox").tag(sys.argv[2], tag="v1")
anonymous = list(client.images.push(sys.argv[2], tag="v1", stream=True, decode=True))
assert "error" in anonymous[-1], anonymous
lines = list(client.images.push(sys.argv[2], tag="v1", stream=True, decode=True,
                                auth_config=auth))
aux = [l["aux"] for l in lines if "aux" in l]
assert aux and aux[0]["Tag"] == "v1" and aux[0]["Digest"].startswith("sha256:"), lines
assert any(l.get("status") == "Pushed" for l in lines), lines
assert not any("error" in l for l in lines), lines
again = list(client.images.push(sys.argv[2], tag="v1", stream=True, decode=True,
                                auth_config=auth))
assert any(l.get("status") == "Layer already exists" for l in again), again
bad = list(client.images.push(sys.argv[2] + "-none", tag="v1", stream=True, decode=True))
assert "An image does not exist locally" in bad[-1]["error"], bad
print(aux[0]["Digest"])
print("the push flow passed")
)";
    auto out =
        base::run_command({.argv = {kDebianPython, "-c", script, docker_socket().string(), repo,
                                    registry->options().user, registry->options().password}},
                          seconds(120));
    ASSERT_TRUE(out);
    EXPECT_TRUE(out->status.success()) << out->out << out->err << "\ngroved's log:\n" << log();
    EXPECT_NE(out->out.find("the push flow passed"), std::string::npos) << out->out;
    EXPECT_NE(out->out.find(registry_digest(*registry, "py/box:v1")), std::string::npos)
        << out->out;
}

}  // namespace
}  // namespace grove::testing
