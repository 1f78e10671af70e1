// grove's registry client against a real docker-registry fed by skopeo: content verified against
// MANIFEST.json, the three auth variants, mirrors, concurrent use, and the failures a pull must
// survive or report precisely (dropped connections, ignored Range, corrupt or missing content).

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "base/digest.hpp"
#include "helpers/flaky_proxy.hpp"
#include "helpers/registry_fixture.hpp"
#include "oci/media_types.hpp"
#include "registry/client.hpp"

namespace grove::testing {
namespace {

using registry::Client;
using registry::RegistryConfig;

oci::Reference parse_ref(const std::string& text) {
    return oci::Reference::parse(text).value();
}

RegistryConfig fast_retries() {
    RegistryConfig config;
    config.backoff = std::chrono::milliseconds(10);
    return config;
}

template <typename T>
void expect_error(const Result<T>& result, Code code) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), code) << result.error().to_string();
}

// A sink that hashes and counts what it is given, as a content store ingest would.
struct HashingSink {
    base::Sha256 hasher;
    uint64_t bytes = 0;

    registry::BlobSink sink() {
        return [this](std::span<const std::byte> chunk) -> Result<void> {
            hasher.update(chunk);
            bytes += chunk.size();
            return {};
        };
    }
};

class RegistryClientTest : public RegistryFixture {
protected:
    void push(const LocalRegistry& registry,
              const std::string& name,
              const std::string& repo_tag,
              std::vector<std::string> flags = {"--all", "--preserve-digests"}) const {
        auto pushed = registry.push(images().oci_ref(name), repo_tag, std::move(flags));
        ASSERT_TRUE(pushed) << pushed.error().to_string();
    }

    // A fetch of `ref` by a client holding `credentials` for the registry.
    static Result<registry::FetchedManifest> fetch_as(
        const LocalRegistry& registry,
        const oci::Reference& ref,
        std::optional<registry::Credentials> credentials) {
        RegistryConfig config = fast_retries();
        config.hosts[registry.host()].credentials = std::move(credentials);
        return Client(config).fetch_manifest(ref);
    }

    std::string manifest_digest(const std::string& name) const {
        return images().image(name).at("manifest_digest").get<std::string>();
    }
    oci::Descriptor layer(const std::string& name, size_t index) const {
        return oci::Descriptor::from_json(images().image(name).at("layers").at(index)).value();
    }
    // The 64 MiB gzip layer of `layers`.
    oci::Descriptor big_layer() const { return layer("layers", 1); }
};

TEST_F(RegistryClientTest, FetchesManifestsByTagOrDigestAndReportsWhatIsMissing) {
    const LocalRegistry registry = start_registry();
    Client client(fast_retries());
    for (const std::string name : {"busybox", "layers", "multiarch"}) {
        SCOPED_TRACE(name);
        push(registry, name, name + ":latest");
        auto by_tag = client.fetch_manifest(parse_ref(registry.host() + "/" + name + ":latest"));
        ASSERT_TRUE(by_tag) << by_tag.error().to_string();
        EXPECT_EQ(by_tag->digest.str(), manifest_digest(name));
        EXPECT_EQ(by_tag->media_type,
                  name == "multiarch" ? oci::media_type::kOciIndex : oci::media_type::kOciManifest);
        auto by_digest =
            client.fetch_manifest(parse_ref(registry.host() + "/" + name), by_tag->digest);
        ASSERT_TRUE(by_digest) << by_digest.error().to_string();
        EXPECT_EQ(by_digest->bytes, by_tag->bytes);
    }
    // A platform manifest of the index, by digest only.
    const std::string arm = images().image("multiarch").at("platforms")[1].at("manifest_digest");
    auto child = client.fetch_manifest(parse_ref(registry.host() + "/multiarch@" + arm));
    ASSERT_TRUE(child) << child.error().to_string();
    EXPECT_EQ(child->media_type, oci::media_type::kOciManifest);
    // Docker schema 2 keeps its own media type.
    push(registry, "busybox", "busybox:v2s2", {"--format=v2s2"});
    auto v2s2 = client.fetch_manifest(parse_ref(registry.host() + "/busybox:v2s2"));
    ASSERT_TRUE(v2s2) << v2s2.error().to_string();
    EXPECT_EQ(v2s2->media_type, oci::media_type::kDockerManifest);

    for (const std::string missing : {"/busybox:nope", "/nothing/here:latest"}) {
        auto manifest = client.fetch_manifest(parse_ref(registry.host() + missing));
        expect_error(manifest, Code::kNotFound);
        EXPECT_TRUE(manifest.error().message().starts_with("manifest '")) << missing;
    }
    HashingSink sink;
    auto blob =
        client.fetch_blob(parse_ref(registry.host() + "/busybox"), big_layer(), sink.sink());
    expect_error(blob, Code::kNotFound);
    EXPECT_EQ(sink.bytes, 0u);
}

TEST_F(RegistryClientTest, FetchesLayersVerifiedFastAndFromManyThreads) {
    const LocalRegistry registry = start_registry();
    push(registry, "layers", "layers:latest");
    Client client(fast_retries());
    const oci::Reference repo = parse_ref(registry.host() + "/layers:latest");
    for (size_t i = 0; i < images().image("layers").at("layers").size(); ++i) {
        const oci::Descriptor blob = layer("layers", i);
        SCOPED_TRACE(blob.digest.str());
        HashingSink sink;
        std::pair<uint64_t, uint64_t> last;  // the last progress report: (done, total)
        const auto progress = [&](uint64_t done, uint64_t total) {
            EXPECT_GE(done, last.first);
            last = {done, total};
        };
        const auto t0 = std::chrono::steady_clock::now();
        const auto fetched = client.fetch_blob(repo, blob, sink.sink(), progress);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        ASSERT_TRUE(fetched) << fetched.error().to_string();
        EXPECT_EQ(sink.hasher.finish(), blob.digest);
        EXPECT_EQ(sink.bytes, static_cast<uint64_t>(blob.size));
        EXPECT_EQ(last, std::pair(sink.bytes, sink.bytes));
        if (blob.digest == big_layer().digest) {
            std::printf("64 MiB layer: %.0f MB/s\n",
                        static_cast<double>(blob.size) / 1e6 / took.count());
        }
    }
    // Re-importing an unchanged image costs one manifest fetch on a warm connection.
    std::vector<double> millis;
    for (int i = 0; i < 21; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(client.fetch_manifest(repo));
        millis.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(millis.begin(), millis.end());
    std::printf("warm manifest fetch: %.2f ms (median of 21)\n", millis[10]);
    EXPECT_LT(millis[10], 20.0);

    // 20 fetches from 8 threads at once share one client (run under ASan/TSan to mean much).
    std::atomic<int> next{0};
    std::atomic<int> verified{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i; (i = next++) < 20;) {
                // The small layers: busybox's 1 MiB one, the zstd and the uncompressed one.
                const oci::Descriptor blob = layer("layers", std::array{0, 2, 3}[i % 3]);
                HashingSink sink;
                if (client.fetch_blob(repo, blob, sink.sink()) &&
                    sink.hasher.finish() == blob.digest && client.fetch_manifest(repo)) {
                    ++verified;
                }
            }
        });
    }
    threads.clear();
    EXPECT_EQ(verified.load(), 20);
}

TEST_F(RegistryClientTest, BasicAuthNeedsTheRightCredentials) {
    const LocalRegistry registry = start_registry(
        {.auth = RegistryOptions::Auth::kBasic, .user = "agent", .password = "s3cret"});
    push(registry, "busybox", "busybox:latest");
    const oci::Reference busybox = parse_ref(registry.host() + "/busybox:latest");

    auto ok = fetch_as(registry, busybox, registry::Credentials{"agent", "s3cret"});
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(ok->digest.str(), manifest_digest("busybox"));
    expect_error(fetch_as(registry, busybox, std::nullopt), Code::kUnauthenticated);
    expect_error(fetch_as(registry, busybox, registry::Credentials{"agent", "wrong"}),
                 Code::kUnauthenticated);
}

// The token server logs one line per token it issues.
size_t token_requests(const LocalRegistry& registry) {
    std::ifstream log(registry.storage_dir().parent_path() / "registry.log");
    size_t count = 0;
    for (std::string line; std::getline(log, line);) {
        count += line.find("GET /token") != std::string::npos ? 1 : 0;
    }
    return count;
}

TEST_F(RegistryClientTest, BearerTokensByScopeAndReused) {
    GROVE_REQUIRE(missing_program("openssl"));
    const LocalRegistry registry = start_registry(
        {.auth = RegistryOptions::Auth::kToken, .user = "agent", .password = "t0ken"});
    push(registry, "busybox", "busybox:latest");
    push(registry, "busybox", "private/busybox:latest");
    const oci::Reference open = parse_ref(registry.host() + "/busybox:latest");
    const oci::Reference closed = parse_ref(registry.host() + "/private/busybox:latest");

    // Anonymous clients get pull tokens for public repositories, and the token is reused.
    Client anonymous(fast_retries());
    const size_t before = token_requests(registry);
    for (int i = 0; i < 20; ++i) {
        auto manifest = anonymous.fetch_manifest(open);
        ASSERT_TRUE(manifest) << manifest.error().to_string();
    }
    HashingSink sink;
    ASSERT_TRUE(anonymous.fetch_blob(open, layer("busybox", 0), sink.sink()));
    EXPECT_EQ(token_requests(registry) - before, 1u);

    // Anonymous clients get no action on private repositories, so the registry answers 401 again:
    // Unauthenticated (credentials would help), not PermissionDenied (a known caller refused).
    auto denied = anonymous.fetch_manifest(closed);
    expect_error(denied, Code::kUnauthenticated);

    auto granted = fetch_as(registry, closed, registry::Credentials{"agent", "t0ken"});
    ASSERT_TRUE(granted) << granted.error().to_string();

    // The token server itself refuses wrong credentials, and says so.
    auto refused = fetch_as(registry, open, registry::Credentials{"agent", "wrong"});
    expect_error(refused, Code::kUnauthenticated);
    EXPECT_NE(refused.error().message().find("wrong credentials"), std::string::npos)
        << refused.error().to_string();
}

TEST_F(RegistryClientTest, CorruptStorageIsDataLoss) {
    const LocalRegistry registry = start_registry();
    push(registry, "busybox", "busybox:latest");
    const oci::Descriptor blob = layer("busybox", 0);
    const auto blob_file = [&](const std::string& digest) {
        const std::string hex = digest.substr(7);
        return registry.storage_dir() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex /
               "data";
    };
    const auto path = blob_file(blob.digest.str());
    ASSERT_EQ(std::filesystem::file_size(path), static_cast<uintmax_t>(blob.size));
    Client client(fast_retries());

    // Same size, other bytes: the sink got them all, and DataLoss tells it to drop them.
    std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(blob.size, 'x');
    HashingSink garbage;
    auto corrupt = client.fetch_blob(parse_ref(registry.host() + "/busybox"), blob, garbage.sink());
    expect_error(corrupt, Code::kDataLoss);
    EXPECT_TRUE(corrupt.error().message().starts_with("blob '" + blob.digest.str() +
                                                      "' failed verification: "));
    EXPECT_NE(garbage.hasher.finish(), blob.digest);

    // Truncated: fewer bytes than the descriptor says.
    std::filesystem::resize_file(path, blob.size / 2);
    HashingSink truncated;
    auto short_blob =
        client.fetch_blob(parse_ref(registry.host() + "/busybox"), blob, truncated.sink());
    expect_error(short_blob, Code::kDataLoss);
    EXPECT_LT(truncated.bytes, static_cast<uint64_t>(blob.size));

    // A manifest whose stored bytes changed no longer matches the digest the registry names.
    std::ofstream(blob_file(manifest_digest("busybox")), std::ios::app) << "\n";
    auto manifest = client.fetch_manifest(parse_ref(registry.host() + "/busybox:latest"));
    expect_error(manifest, Code::kDataLoss);
}

// The 64 MiB layer of `layers` fetched through `proxy`: the sink must see each byte once.
void fetch_through(const FlakyProxy& proxy, const oci::Descriptor& blob) {
    HashingSink sink;
    auto fetched =
        Client(fast_retries()).fetch_blob(parse_ref(proxy.host() + "/layers"), blob, sink.sink());
    ASSERT_TRUE(fetched) << fetched.error().to_string();
    EXPECT_EQ(sink.bytes, static_cast<uint64_t>(blob.size));
    EXPECT_EQ(sink.hasher.finish(), blob.digest);
}

TEST_F(RegistryClientTest, DroppedConnectionsResumeUntilAttemptsStopProgressing) {
    const LocalRegistry registry = start_registry();
    push(registry, "layers", "layers:latest");
    auto proxy = FlakyProxy::start(
        {.upstream = registry.host(), .flaky_connections = 2, .drop_after_bytes = 8 << 20});
    ASSERT_TRUE(proxy) << proxy.error().to_string();
    fetch_through(**proxy, big_layer());
    const auto heads = (*proxy)->request_heads();
    ASSERT_EQ(heads.size(), 3u);
    EXPECT_EQ(heads[0].find("Range:"), std::string::npos);
    EXPECT_NE(heads[1].find("Range: bytes="), std::string::npos) << heads[1];

    // A server that ignores Range answers 200 with the whole blob again.
    auto no_range = FlakyProxy::start({.upstream = registry.host(),
                                       .flaky_connections = 1,
                                       .drop_after_bytes = 5 << 20,
                                       .strip_range = true});
    ASSERT_TRUE(no_range) << no_range.error().to_string();
    fetch_through(**no_range, big_layer());
    EXPECT_EQ((*no_range)->connections(), 2);

    // Attempts that deliver nothing count: after max_attempts the fetch is Unavailable.
    auto dead = FlakyProxy::start(
        {.upstream = registry.host(), .flaky_connections = 100, .drop_after_bytes = 10});
    ASSERT_TRUE(dead) << dead.error().to_string();
    HashingSink sink;
    auto fetched =
        Client(fast_retries())
            .fetch_blob(parse_ref((*dead)->host() + "/layers"), big_layer(), sink.sink());
    expect_error(fetched, Code::kUnavailable);
    EXPECT_EQ((*dead)->connections(), RegistryConfig().max_attempts);
}

TEST_F(RegistryClientTest, MirrorsServeFirstAndFallThroughOnlyWhenAppropriate) {
    const LocalRegistry mirror = start_registry();
    const LocalRegistry empty = start_registry();
    push(mirror, "busybox", "busybox:latest");
    // A domain that does not resolve: only the mirror can serve it.
    RegistryConfig config = fast_retries();
    ASSERT_TRUE(config.add_mirror("example.test=http://" + mirror.host()));
    auto served = Client(config).fetch_manifest(parse_ref("example.test/busybox:latest"));
    ASSERT_TRUE(served) << served.error().to_string();
    EXPECT_EQ(served->digest.str(), manifest_digest("busybox"));

    // The registry itself is a counting proxy, to see whether it is contacted.
    auto origin = FlakyProxy::start({.upstream = mirror.host()});
    ASSERT_TRUE(origin);
    const oci::Reference busybox = parse_ref((*origin)->host() + "/busybox:latest");
    const std::string domain = (*origin)->host();

    // A refused port and a mirror without the image (404) are passed over.
    RegistryConfig passing = fast_retries();
    ASSERT_TRUE(passing.add_mirror(domain + "=http://127.0.0.1:1"));
    ASSERT_TRUE(passing.add_mirror(domain + "=http://" + empty.host()));
    auto fell_through = Client(passing).fetch_manifest(busybox);
    ASSERT_TRUE(fell_through) << fell_through.error().to_string();
    EXPECT_EQ((*origin)->connections(), 1);

    // A sink error is the caller's: it is returned, and no other endpoint is tried.
    ASSERT_TRUE(config.add_mirror(domain + "=http://" + mirror.host()));
    auto cancelled = Client(config).fetch_blob(
        busybox, layer("busybox", 0), [](std::span<const std::byte>) -> Result<void> {
            return Error(Code::kCancelled, "consumer gave up");
        });
    expect_error(cancelled, Code::kCancelled);
    EXPECT_EQ((*origin)->connections(), 1);
}

TEST_F(RegistryClientTest, RedirectsDoNotCarryAuthorizationToAnotherHost) {
    const LocalRegistry registry = start_registry();
    push(registry, "busybox", "busybox:latest");
    auto storage = FlakyProxy::start({.upstream = registry.host()});
    ASSERT_TRUE(storage);
    auto front = FlakyProxy::start({.redirect_to = "http://" + (*storage)->host()});
    ASSERT_TRUE(front);
    RegistryConfig config = fast_retries();
    config.hosts[(*front)->host()].credentials = {"agent", "s3cret"};
    HashingSink sink;
    auto fetched = Client(config).fetch_blob(parse_ref((*front)->host() + "/busybox"),
                                             layer("busybox", 0), sink.sink());
    ASSERT_TRUE(fetched) << fetched.error().to_string();
    const auto front_heads = (*front)->request_heads();
    ASSERT_EQ(front_heads.size(), 2u);
    EXPECT_NE(front_heads[1].find("Authorization: Basic "), std::string::npos) << front_heads[1];
    for (const auto& head : (*storage)->request_heads()) {
        EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
    }
}

}  // namespace
}  // namespace grove::testing
