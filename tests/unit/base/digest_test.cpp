#include "base/digest.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"

namespace grove::base {
namespace {

constexpr const char* kEmptySha256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Digest, ParsesValidSha256) {
    auto d = Digest::parse(kEmptySha256);
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(d->algorithm(), "sha256");
    EXPECT_EQ(d->encoded().size(), 64u);
    EXPECT_EQ(d->str(), kEmptySha256);
}

TEST(Digest, ParsesValidSha512) {
    auto d = Digest::parse("sha512:" + std::string(128, 'a'));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->algorithm(), "sha512");
}

TEST(Digest, RejectsMalformed) {
    for (const std::string& bad : std::vector<std::string>{
             "",
             "sha256",
             "sha256:",
             "sha256:abc",
             std::string("sha256:") + std::string(64, 'A'),        // uppercase hex
             std::string("sha256:") + std::string(63, 'a') + "g",  // not hex
             std::string("sha256:") + std::string(65, 'a'),
             std::string("SHA256:") + std::string(64, 'a'),
         }) {
        auto d = Digest::parse(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_NE(d.error().code(), Code::kInternal) << bad;
    }
    EXPECT_EQ(Digest::parse("sha256:zz").error().code(), Code::kInvalidArgument);
}

TEST(Digest, UnknownAlgorithmIsUnimplemented) {
    auto d = Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code(), Code::kUnimplemented);
}

TEST(Digest, Sha256OfKnownVectors) {
    EXPECT_EQ(Digest::sha256_of("").str(), kEmptySha256);
    EXPECT_EQ(Digest::sha256_of("abc").str(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, IncrementalEqualsOneShot) {
    const std::string data(1 << 20, 'x');
    Sha256 hasher;
    for (size_t i = 0; i < data.size(); i += 4099) {
        hasher.update(std::string_view(data).substr(i, 4099));
    }
    EXPECT_EQ(hasher.finish(), Digest::sha256_of(data));
    // finish() starts over.
    EXPECT_EQ(hasher.finish().str(), kEmptySha256);
}

TEST(Digest, Sha256OfFd) {
    auto fd = UniqueFd::memfd("digest");
    ASSERT_TRUE(fd);
    ASSERT_TRUE(write_all(fd->get(), "abc"));
    ASSERT_EQ(::lseek(fd->get(), 0, SEEK_SET), 0);
    auto d = sha256_fd(fd->get());
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, Digest::sha256_of("abc"));
}

TEST(Digest, OrdersAndCompares) {
    auto a = *Digest::parse("sha256:" + std::string(64, 'a'));
    auto b = *Digest::parse("sha256:" + std::string(64, 'b'));
    EXPECT_LT(a, b);
    EXPECT_EQ(a, *Digest::parse(a.str()));
}

}  // namespace
}  // namespace grove::base
