#include "archive/entry_metadata.hpp"

#include <gtest/gtest.h>

namespace grove::archive {
namespace {

TEST(XattrPolicy, AllowsUserTrustedCapabilitiesAndAclsButNotOverlayMetadata) {
    for (const char* name : {"user.x", "trusted.x", "security.capability",
                             "system.posix_acl_access", "system.posix_acl_default"}) {
        EXPECT_TRUE(xattr_allowed(name)) << name;
    }
    for (const char* name :
         {"trusted.overlay.opaque", "trusted.overlay.redirect", "user.overlay.whiteout",
          "security.selinux", "security.ima", "system.nfs4_acl", "user.", "other.x"}) {
        EXPECT_FALSE(xattr_allowed(name)) << name;
    }
}

}  // namespace
}  // namespace grove::archive
