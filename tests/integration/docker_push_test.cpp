// `docker push` through groved to a real registry (Debian's docker-registry), read back with
// skopeo and with a fresh grove store: an imported image keeps its manifest digest, a committed
// container's image goes as its layer chain (the base's layers as fetched, one per run above), a
// re-push finds its layers there, a big layer goes in chunks, a blob pushed to one repository is
// mounted into another, an unknown name gets dockerd's error, and docker-py's streamed push sees
// the aux digest.

#include <algorithm>
#include <filesystem>

#include "base/digest.hpp"
#include "docker_fixture.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

using std::chrono::seconds;

size_t count_of(const std::string& text, const std::string& what) {
    size_t count = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++count;
    }
    return count;
}

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

    // The layer digests of `repo_tag`'s manifest in `registry`, bottom first.
    static std::vector<std::string> registry_layers(const LocalRegistry& registry,
                                                    const std::string& repo_tag) {
        auto inspected = registry.skopeo({"inspect", registry.docker_ref(repo_tag)});
        EXPECT_TRUE(inspected && inspected->status.success());
        if (!inspected) {
            return {};
        }
        auto json = base::parse_json(inspected->out);
        return json ? json->value("Layers", std::vector<std::string>{})
                    : std::vector<std::string>{};
    }
};

TEST_F(DockerPushTest, ROOT_PushToARegistryAndReadItBack) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    auto registry = LocalRegistry::start({.access_log = true});
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

    // A committed container: busybox's layers as fetched (there already), then the run's own.
    docker_ok({"run", "--name", "pushed-box", "busybox", "sh", "-c",
               "mkdir /data && echo committed > /data/file && rm /etc/group"});
    docker_ok({"commit", "--change", "ENV MARK=pushed", "pushed-box", repo + ":run"});
    const std::string run_push = docker_ok({"push", repo + ":run"});
    EXPECT_NE(run_push.find("run: digest: sha256:"), std::string::npos) << run_push;
    EXPECT_NE(run_push.find("Layer already exists"), std::string::npos) << run_push;
    EXPECT_NE(run_push.find(": Pushed"), std::string::npos) << run_push;
    const std::string rerun_push = docker_ok({"push", repo + ":run"});
    EXPECT_NE(rerun_push.find("Layer already exists"), std::string::npos) << rerun_push;
    EXPECT_EQ(rerun_push.find(": Pushed"), std::string::npos) << rerun_push;
    EXPECT_EQ(registry_digest(*registry, "team/box:run"),
              rerun_push.substr(rerun_push.find("sha256:"), 71));
    const auto base_layers = registry_layers(*registry, "team/box:latest");
    const auto run_layers = registry_layers(*registry, "team/box:run");
    ASSERT_FALSE(base_layers.empty());
    ASSERT_EQ(run_layers.size(), base_layers.size() + 1);
    EXPECT_TRUE(std::equal(base_layers.begin(), base_layers.end(), run_layers.begin()));

    // A commit over that one: one layer more, the others unchanged.
    docker_ok({"run", "--name", "second-box", repo + ":run", "sh", "-c",
               "echo two > /data/two && rm /data/file"});
    docker_ok({"commit", "second-box", repo + ":run2"});
    docker_ok({"push", repo + ":run2"});
    const auto run2_layers = registry_layers(*registry, "team/box:run2");
    ASSERT_EQ(run2_layers.size(), run_layers.size() + 1);
    EXPECT_TRUE(std::equal(run_layers.begin(), run_layers.end(), run2_layers.begin()));

    // A big layer goes in chunks (PATCH), and to another repository, whose base layers are
    // mounted from the first one rather than uploaded again.
    docker_ok({"run", "--name", "big-box", "busybox", "sh", "-c",
               "head -c 12000000 /dev/urandom > /big && sha256sum /big > /big.sha"});
    const std::string big_repo = registry->host() + "/team/big";
    docker_ok({"commit", "big-box", big_repo});
    const std::string big_push = docker_ok({"push", big_repo});
    EXPECT_NE(big_push.find("Mounted from team/box"), std::string::npos) << big_push;
    EXPECT_NE(big_push.find(": Pushed"), std::string::npos) << big_push;
    const std::string access = registry->access_log();
    EXPECT_GE(count_of(access, "\"PATCH /v2/team/big/blobs/uploads/"), 2u) << access;
    EXPECT_NE(access.find("\"POST /v2/team/big/blobs/uploads/?mount=sha256%3A"), std::string::npos)
        << access;
    EXPECT_NE(access.find("&from=team%2Fbox HTTP"), std::string::npos) << access;

    // A fresh store pulls both back with the same files.
    fresh_grove({"images", "import", "-q", "docker://" + repo + ":latest", "--tag", "box"});
    fresh_grove({"images", "import", "-q", "docker://" + repo + ":run", "--tag", "run"});
    const std::string passwd = docker_ok({"run", "--rm", "busybox", "cat", "/etc/passwd"});
    EXPECT_EQ(fresh_grove({"cat", "box", "/etc/passwd"}), passwd);
    EXPECT_EQ(fresh_grove({"cat", "run", "/etc/passwd"}), passwd);
    EXPECT_EQ(fresh_grove({"cat", "run", "/data/file"}), "committed\n");
    EXPECT_FALSE(fresh_grove({"ls", "run", "/bin"}).empty());
    fresh_grove({"images", "import", "-q", "docker://" + repo + ":run2", "--tag", "run2"});
    EXPECT_EQ(fresh_grove({"cat", "run2", "/data/two"}), "two\n");
    EXPECT_EQ(fresh_grove({"ls", "run2", "/data"}).find("file"), std::string::npos);
    fresh_grove({"images", "import", "-q", "docker://" + big_repo + ":latest", "--tag", "big"});
    const std::string big = fresh_grove({"cat", "big", "/big"});
    EXPECT_EQ(big.size(), 12000000u);
    EXPECT_EQ(fresh_grove({"cat", "big", "/big.sha"}),
              base::Digest::sha256_of(big).str().substr(7) + "  /big\n");
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
