// groved's Docker Engine API end to end: the real groved (GrovedFixture, which serves the Docker
// API on a unix socket of its own) driven by libcurl for the wire details, by Debian's docker CLI
// (/usr/bin/docker, never dockerd), and by docker-py 5.0.3 and aiohttp from Debian's python3
// (tests/docker_api_flow.py).

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/child_process.hpp"
#include "docker_fixture.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

using std::chrono::seconds;

class DockerApiTest : public DockerFixture {
protected:
    // A busybox container that ran `script` to a clean exit; its id.
    std::string ran(const std::string& script) {
        std::string id = docker_ok({"create", "busybox", "sh", "-c", script});
        while (!id.empty() && id.back() == '\n') {
            id.pop_back();
        }
        docker_ok({"start", "-a", id});
        return id;
    }
};

TEST_F(DockerApiTest, ROOT_PingAndVersionHeaders) {
    for (const char* method : {"GET", "HEAD"}) {
        const auto ping = docker_call({.method = method, .path = "/_ping"});
        EXPECT_EQ(ping.status, 200) << method;
        EXPECT_EQ(ping.body, std::string(method) == "GET" ? "OK" : "");
        EXPECT_EQ(ping.header("api-version"), "1.41");
        EXPECT_EQ(ping.header("ostype"), "linux");
        EXPECT_EQ(ping.header("docker-experimental"), "false");
        EXPECT_EQ(ping.header("cache-control"), "no-cache, no-store, must-revalidate");
        EXPECT_NE(ping.header("server").find("Docker/"), std::string::npos);
        EXPECT_FALSE(ping.header("builder-version").empty());
    }
    for (const char* path : {"/version", "/v1.41/version", "/v1.24/version"}) {
        const auto version = docker_call({.path = path});
        EXPECT_EQ(version.status, 200) << path;
        const auto body = json(version);
        EXPECT_EQ(body.value("ApiVersion", ""), "1.41");
        EXPECT_EQ(body.value("Os", ""), "linux");
        EXPECT_EQ(body["Components"][0].value("Name", ""), "Engine");
        EXPECT_EQ(version.header("api-version"), "1.41");
    }
}

TEST_F(DockerApiTest, ROOT_ErrorsAreDockers) {
    const auto too_new = docker_call({.path = "/v1.99/version"});
    EXPECT_EQ(too_new.status, 400);
    EXPECT_EQ(json(too_new).value("message", ""),
              "client version 1.99 is too new. Maximum supported API version is 1.41");
    const auto too_old = docker_call({.path = "/v1.11/info"});
    EXPECT_EQ(too_old.status, 400);
    EXPECT_NE(json(too_old).value("message", "").find("is too old"), std::string::npos);

    const auto missing = docker_call({.path = "/v1.41/images/nosuch/json"});
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("content-type"), "application/json");
    EXPECT_EQ(json(missing), base::Json({{"message", "No such image: nosuch:latest"}}));
    const auto by_id = docker_call({.method = "DELETE", .path = "/images/sha256:0123456789ab"});
    EXPECT_EQ(by_id.status, 404);
    EXPECT_EQ(json(by_id).value("message", ""), "No such image: sha256:0123456789ab");

    const auto unknown = docker_call({.path = "/v1.41/nothing/here"});
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(json(unknown), base::Json({{"message", "page not found"}}));

    const auto bad_filter = docker_call({.path = "/images/json?filters=%7B%22nope%22%3A%5B%5D%7D"});
    EXPECT_EQ(bad_filter.status, 400) << bad_filter.body;
}

// Root on the unix socket (0660) is trusted; TCP needs the bearer token, as on ConTree's
// listeners, and a refusal is Docker's {"message"} 401.
TEST_F(DockerApiTest, ROOT_UnixTrustsRootTcpNeedsAToken) {
    struct stat st {};
    ASSERT_EQ(::stat(docker_socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);

    stop_daemon(SIGTERM);
    start_daemon({"--docker-listen", "tcp://127.0.0.1:0"});
    std::optional<uint16_t> port;
    std::istringstream lines(log());
    for (std::string line; std::getline(lines, line);) {
        const auto entry = base::parse_json(line);
        if (entry && entry->value("msg", "") == "serving the Docker API" &&
            entry->value("address", "").starts_with("127.0.0.1:")) {
            port = static_cast<uint16_t>(std::stoi(entry->value("address", "").substr(10)));
        }
    }
    ASSERT_TRUE(port) << log();
    http::testing::CurlClient client({.port = *port});
    const auto refused = client.request({.path = "/v1.41/images/json"});
    EXPECT_EQ(refused.status, 401);
    EXPECT_TRUE(json(refused).contains("message")) << refused.body;
    const auto allowed =
        client.request({.path = "/v1.41/images/json",
                        .headers = {std::string("Authorization: Bearer ") + kTestToken}});
    EXPECT_EQ(allowed.status, 200) << allowed.body;
    EXPECT_EQ(json(allowed).size(), 1u);
}

// grove's tree is not Docker's: a run's result has a parent and no tag, which dockerd would call
// dangling, and its parent is an image of its own. Removing a child or pruning keeps both.
TEST_F(DockerApiTest, ROOT_RemoveAndPruneKeepTheTreesImages) {
    const auto run_on = [&](const std::string& image) {
        const auto uuid =
            spawn(R"({"command": "date > /stamp", "shell": true, "image": ")" + image + R"("})");
        follow(uuid);
        return operation(uuid)["result_image_uuid"].get<std::string>();
    };
    const std::string first = run_on("tag:busybox");
    const std::string second = run_on(first);
    // A Docker ID starts with the UUID's hex digits, so they are an ID prefix.
    const auto short_id = [](std::string uuid) {
        std::erase(uuid, '-');
        return uuid.substr(0, 12);
    };
    const auto exists = [&](const std::string& uuid) {
        return docker_call({.path = "/images/" + short_id(uuid) + "/json"}).status == 200;
    };
    ASSERT_TRUE(exists(first) && exists(second));

    const auto removed = docker_call({.method = "DELETE", .path = "/images/" + short_id(second)});
    ASSERT_EQ(removed.status, 200) << removed.body;
    EXPECT_EQ(json(removed).size(), 1u) << "only the image named: " << removed.body;
    EXPECT_FALSE(exists(second));
    EXPECT_TRUE(exists(first)) << "its parent, untagged and childless now, stays";

    const auto pruned = docker_call({.method = "POST", .path = "/images/prune"});
    ASSERT_EQ(pruned.status, 200) << pruned.body;
    EXPECT_TRUE(exists(first)) << "a run's result is not dangling: " << pruned.body;
    EXPECT_TRUE(exists(busybox_));
}

// The ID mapping: an image's Docker ID, any prefix of it, and its names all reach it; a child
// image (derived by a second tag) makes a removal by ID a 409.
TEST_F(DockerApiTest, ROOT_ImageIdsNamesAndConflicts) {
    const auto inspect = docker_call({.path = "/images/busybox/json"});
    ASSERT_EQ(inspect.status, 200) << inspect.body;
    const auto image = json(inspect);
    const std::string id = image.value("Id", "");
    ASSERT_TRUE(id.starts_with("sha256:")) << id;
    EXPECT_EQ(id.size(), 71u);
    EXPECT_EQ(image["RepoTags"], base::Json::array({"busybox:latest"}));
    EXPECT_FALSE(image["RootFS"]["Layers"].empty());
    for (const std::string& name :
         {id, id.substr(7), id.substr(7, 12), std::string("busybox:latest"),
          std::string("docker.io/library/busybox:latest")}) {
        const auto found = docker_call({.path = "/images/" + name + "/json"});
        EXPECT_EQ(found.status, 200) << name;
        EXPECT_EQ(json(found).value("Id", ""), id) << name;
    }
    // A wrong second half is not this image.
    const std::string wrong = id.substr(0, 70) + (id.back() == '0' ? "1" : "0");
    EXPECT_EQ(docker_call({.path = "/images/" + wrong + "/json"}).status, 404);

    const auto tagged =
        docker_call({.method = "POST", .path = "/images/busybox/tag?repo=extra&tag=1"});
    EXPECT_EQ(tagged.status, 201) << tagged.body;
    const auto extra = json(docker_call({.path = "/images/extra:1/json"}));
    EXPECT_EQ(extra.value("Parent", ""), id);
    EXPECT_EQ(json(docker_call({.path = "/images/busybox/json"}))["RepoTags"],
              base::Json::array({"busybox:latest"}));

    const auto conflict = docker_call({.method = "DELETE", .path = "/images/" + id.substr(7, 12)});
    EXPECT_EQ(conflict.status, 409);
    EXPECT_NE(json(conflict).value("message", "").find("image has dependent child images"),
              std::string::npos);
    const auto removed = docker_call({.method = "DELETE", .path = "/images/extra:1"});
    EXPECT_EQ(removed.status, 200);
    const auto items = json(removed);
    ASSERT_EQ(items.size(), 2u) << items;
    EXPECT_EQ(items[0], base::Json({{"Untagged", "extra:1"}}));
    EXPECT_EQ(items[1], base::Json({{"Deleted", extra.value("Id", "")}}));
}

// Events of images arrive as JSON lines, filtered; `until` ends the stream.
TEST_F(DockerApiTest, ROOT_EventsStreamImageEvents) {
    ASSERT_EQ(docker_call({.method = "POST", .path = "/images/busybox/tag?repo=ev&tag=1"}).status,
              201);
    ASSERT_EQ(docker_call({.method = "DELETE", .path = "/images/ev:1"}).status, 200);
    const auto events =
        docker_call({.path = "/events?since=0&until=" + std::to_string(time(nullptr) + 1) +
                             "&filters=%7B%22type%22%3A%5B%22image%22%5D%7D"});
    ASSERT_EQ(events.status, 200);
    EXPECT_EQ(events.header("transfer-encoding"), "chunked");
    std::vector<std::string> actions;
    std::istringstream lines(events.body);
    for (std::string line; std::getline(lines, line);) {
        const auto event = base::parse_json(line);
        ASSERT_TRUE(event) << line;
        EXPECT_EQ(event->value("Type", ""), "image");
        EXPECT_EQ(event->value("scope", ""), "local");
        actions.push_back(event->value("Action", ""));
    }
    EXPECT_EQ(actions, (std::vector<std::string>{"tag", "untag", "delete"}));
}

// The docker CLI against groved: system commands, the image commands, and their errors.
TEST_F(DockerApiTest, ROOT_DockerCli) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    auto images = TestImages::load();
    ASSERT_TRUE(images);
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    // A multi-platform index, whose amd64 image stands on busybox's layer: small and quick.
    ASSERT_TRUE(registry->push(images->oci_ref("multiarch"), "team/multi:1",
                               {"--all", "--preserve-digests"}));

    EXPECT_NE(docker_ok({"version", "--format", "{{.Server.APIVersion}}"}).find("1.41"),
              std::string::npos);
    EXPECT_NE(docker_ok({"info", "--format", "{{.Images}} {{.OSType}}"}).find("1 linux"),
              std::string::npos);

    const std::string ref = registry->host() + "/team/multi:1";
    const std::string pulled = docker_ok({"pull", ref});
    EXPECT_NE(pulled.find("Status: Downloaded newer image for " + ref), std::string::npos)
        << pulled;
    EXPECT_NE(docker_ok({"pull", ref}).find("Image is up to date"), std::string::npos);
    docker_ok({"tag", ref, "mine:2"});
    const std::string listed = docker_ok({"images", "--format", "{{.Repository}}:{{.Tag}}"});
    for (const std::string& name : {ref, std::string("mine:2"), std::string("busybox:latest")}) {
        EXPECT_NE(listed.find(name), std::string::npos) << listed;
    }
    EXPECT_EQ(docker_ok({"images", "-q", "--filter", "reference=mine"}).size(), 13u);
    EXPECT_NE(docker_ok({"image", "inspect", "--format", "{{.Os}}", "mine:2"}).find("linux"),
              std::string::npos);
    EXPECT_FALSE(docker_ok({"history", "-q", "mine:2"}).empty());
    EXPECT_NE(docker_ok({"system", "df"}).find("Images"), std::string::npos);

    // save | load | rmi, and grove's own docker-archive import reads the same tar.
    const auto tar = dir_->path() / "saved.tar";
    docker_ok({"save", "-o", tar.string(), "mine:2", "busybox"});
    docker_ok({"rmi", "mine:2"});
    EXPECT_EQ(docker({"image", "inspect", "mine:2"}).status.code, 1);
    const std::string loaded = docker_ok({"load", "-i", tar.string()});
    EXPECT_NE(loaded.find("Loaded image: mine:2"), std::string::npos) << loaded;
    EXPECT_NE(loaded.find("Loaded image: busybox:latest"), std::string::npos) << loaded;
    auto imported = base::run_command(
        {.argv = {GROVE_BINARY, "--root", (dir_->path() / "other-root").string(), "images",
                  "import", "docker-archive:" + tar.string() + ":mine:2"}},
        seconds(120));
    ASSERT_TRUE(imported);
    EXPECT_TRUE(imported->status.success()) << imported->out << imported->err;

    // import of a rootfs tarball, then prune of what nothing names.
    const auto rootfs = dir_->path() / "rootfs.tar";
    std::filesystem::create_directories(dir_->path() / "rootfs");
    std::ofstream(dir_->path() / "rootfs" / "hello") << "hello\n";
    {
        auto packed = base::run_command({.argv = {"tar", "-C", (dir_->path() / "rootfs").string(),
                                                  "-cf", rootfs.string(), "hello"}},
                                        seconds(30));
        ASSERT_TRUE(packed && packed->status.success());
    }
    const std::string id = docker_ok({"import", rootfs.string(), "empty:1"});
    EXPECT_TRUE(id.starts_with("sha256:")) << id;
    docker_ok({"rmi", "empty:1"});
    docker_ok({"image", "prune", "-f"});

    const auto missing = docker({"image", "inspect", "nosuch"});
    EXPECT_EQ(missing.status.code, 1);
    EXPECT_NE(missing.err.find("No such image: nosuch"), std::string::npos) << missing.err;
    const auto pull_missing = docker({"pull", registry->host() + "/team/none:1"});
    EXPECT_FALSE(pull_missing.status.success());

    // Another platform of the index.
    docker_ok({"pull", "--platform", "linux/arm64", ref});
    EXPECT_EQ(docker_ok({"image", "inspect", "--format", "{{.Architecture}}", ref}), "arm64\n");
}

// docker-py 5.0.3 (Debian's python3-docker) and aiohttp run tests/docker_api_flow.py.
TEST_F(DockerApiTest, ROOT_PythonClients) {
    GROVE_REQUIRE(missing_python_clients());
    GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
    auto images = TestImages::load();
    ASSERT_TRUE(images);
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    ASSERT_TRUE(registry->push(images->oci_ref("busybox"), "library/busybox:py"));

    expect_flow(
        {kDebianPython, GROVE_TESTS_DIR "/docker_api_flow.py", "--socket", docker_socket().string(),
         "--registry", registry->host(), "--repository", "library/busybox", "--tag", "py"},
        "the Docker API flow passed");
}

// docker cp both ways, diff, export and commit.
TEST_F(DockerApiTest, ROOT_ContainerFilesWithTheDockerCli) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    const std::string id =
        ran("mkdir /data; echo one > /data/a; ln -s /../../../../etc /esc; rm /etc/group");
    const auto out = dir_->path() / "out";
    std::filesystem::create_directories(out);

    docker_ok({"cp", id + ":/data/a", (out / "a").string()});
    EXPECT_EQ(read_text(out / "a"), "one\n");
    docker_ok({"cp", id + ":/data", (out / "data").string()});
    EXPECT_EQ(read_text(out / "data" / "a"), "one\n");
    const auto missing = docker({"cp", id + ":/nope", (out / "nope").string()});
    EXPECT_FALSE(missing.status.success());
    EXPECT_NE(missing.err.find("No such"), std::string::npos) << missing.err;

    // Into it, also through a symlink that points at the host's /etc: it lands in the
    // container's /etc, never the host's.
    const std::string name = "grove-cp-" + id.substr(0, 12);
    std::ofstream(out / name) << "two\n";
    docker_ok({"cp", (out / name).string(), id + ":/data/"});
    docker_ok({"cp", (out / name).string(), id + ":/esc/"});
    EXPECT_FALSE(std::filesystem::exists("/etc/" + name));

    const std::string diff = docker_ok({"diff", id});
    for (const std::string& line :
         std::vector<std::string>{"C /etc", "D /etc/group", "A /data", "A /data/a", "A /esc",
                                  "A /data/" + name, "A /etc/" + name}) {
        EXPECT_NE(diff.find(line + "\n"), std::string::npos) << diff;
    }

    docker_ok({"export", "-o", (out / "export.tar").string(), id});
    auto listed =
        base::run_command({.argv = {"tar", "-tf", (out / "export.tar").string()}}, seconds(30));
    ASSERT_TRUE(listed && listed->status.success());
    EXPECT_NE(listed->out.find("bin/busybox\n"), std::string::npos);
    EXPECT_NE(listed->out.find("data/a\n"), std::string::npos);
    EXPECT_EQ(listed->out.find("etc/group\n"), std::string::npos);

    const std::string committed =
        docker_ok({"commit", "--change", "CMD [\"cat\", \"/data/a\"]", "--change", "ENV MARK=1",
                   "-a", "me", "-m", "files", id, "committed:1"});
    EXPECT_TRUE(committed.starts_with("sha256:")) << committed;
    EXPECT_EQ(docker_ok({"image", "inspect", "--format", "{{json .Config.Cmd}} {{.Author}}",
                         "committed:1"}),
              "[\"cat\",\"/data/a\"] me\n");
    EXPECT_EQ(docker_ok({"run", "--name", "grove-child", "committed:1"}), "one\n");
    // The image of a container is in use.
    const auto rmi = docker({"rmi", "committed:1"});
    EXPECT_FALSE(rmi.status.success());
    EXPECT_NE(rmi.err.find("is using its referenced image"), std::string::npos) << rmi.err;
    docker_ok({"rm", "grove-child", id});
    docker_ok({"rmi", "committed:1"});
}

// docker-py's get_archive, put_archive, diff, export and commit (tests/
// docker_container_files_flow.py).
TEST_F(DockerApiTest, ROOT_ContainerFilesWithDockerPy) {
    GROVE_REQUIRE(missing_file(kDebianPython, "python3"));
    auto probe = base::run_command({.argv = {kDebianPython, "-c", "import docker"}}, seconds(30));
    ASSERT_TRUE(probe);
    GROVE_REQUIRE(probe->status.success() ? std::nullopt
                                          : std::optional<std::string>("python3-docker missing"));
    const std::string id = ran("mkdir /data; echo one > /data/a");
    expect_flow({kDebianPython, GROVE_TESTS_DIR "/docker_container_files_flow.py", "--socket",
                 docker_socket().string(), "--container", id},
                "the container files flow passed");
    docker_ok({"rm", id});
}

}  // namespace
}  // namespace grove::testing
