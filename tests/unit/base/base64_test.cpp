#include "base/base64.hpp"

#include <gtest/gtest.h>

namespace grove::base {
namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
    for (const std::string_view text :
         {std::string_view(""), std::string_view("a"), std::string_view("ab"),
          std::string_view("abc"), std::string_view("user:pa:ss"),
          std::string_view("\xff\x00\x7f", 3)}) {
        const std::string encoded = base64_encode(text);
        EXPECT_EQ(encoded.size() % 4, 0u);
        EXPECT_EQ(base64_decode(encoded).value_or("<error>"), text);
    }
    EXPECT_EQ(base64_encode("grove:secret"), "Z3JvdmU6c2VjcmV0");
    EXPECT_EQ(base64_encode("ab"), "YWI=");
}

TEST(Base64, RejectsMalformedText) {
    for (const std::string_view bad : {"YWI", "YW=I", "Y===", "YWI*", "====", "YWI=YWI="}) {
        SCOPED_TRACE(bad);
        const auto decoded = base64_decode(bad);
        ASSERT_FALSE(decoded);
        EXPECT_EQ(decoded.error().code(), Code::kInvalidArgument);
    }
}

}  // namespace
}  // namespace grove::base
