#include "inspect/user_db.hpp"

#include <gtest/gtest.h>

#include "image_fixture.hpp"
#include "inspect/file_info.hpp"

namespace grove::inspect {
namespace {

TEST(UserDb, ParsesLenientlyAndFirstEntryWins) {
    const UserDb db = UserDb::parse(
        "# a comment\n"
        "root:x:0:0:root:/root:/bin/sh\n"
        "\n"
        "short:x\n"
        "garbage without colons\n"
        "badid:x:12ab:0::/:/bin/false\n"
        "negative:x:-1:0::/:/bin/false\n"
        ":x:5:5:no name:/:/bin/false\n"
        "daemon:x:1:1\n"
        "again:x:0:0:second root:/:/bin/sh\n"
        "huge:x:99999999999:0::/:/bin/false\n"
        "last:x:1000:1000::/home/last:/bin/sh",
        "root:x:0:\nwheel:x:10:root,last\nbroken\nstaff::50\n");
    EXPECT_EQ(db.user(0), "root");
    EXPECT_EQ(db.user(1), "daemon");
    EXPECT_EQ(db.user(1000), "last");
    EXPECT_EQ(db.user(5), std::nullopt);
    EXPECT_EQ(db.user(12), std::nullopt);
    EXPECT_EQ(db.user(99), std::nullopt);
    EXPECT_EQ(db.group(0), "root");
    EXPECT_EQ(db.group(10), "wheel");
    EXPECT_EQ(db.group(50), "staff");
    EXPECT_EQ(db.group(1000), std::nullopt);
}

class UserDbTest : public ImageFixture {};

TEST_F(UserDbTest, LoadsTheImagesFilesThroughTheStack) {
    file("bottom", "etc/passwd", "root:x:0:0::/root:/bin/sh\nold:x:7:7::/:/bin/sh\n");
    file("top", "etc/passwd",
         "image-user:x:" + std::to_string(::geteuid()) + ":0::/:/x\nnobody:x:65534:65534:::\n");
    file("mid", "etc/group", "image-group:x:" + std::to_string(::getegid()) + ":\n");
    const LayerStack s = stack();
    auto db = UserDb::load(s);
    ASSERT_TRUE(db) << db.error().to_string();
    EXPECT_EQ(db->user(::geteuid()), "image-user");
    EXPECT_EQ(db->user(7), std::nullopt);  // the upper layer's passwd replaced the lower one

    auto info = stat_path(s, "/etc/passwd", Follow::kFinal, &*db);
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->owner, "image-user");
    EXPECT_EQ(info->group, "image-group");
    auto anonymous = stat_path(s, "/etc/passwd", Follow::kFinal, nullptr);
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->owner, std::nullopt);
}

TEST_F(UserDbTest, MissingOrOddFilesGiveNoNames) {
    dir("bottom", "etc/passwd");           // a directory
    link("bottom", "etc/group", "group");  // a loop
    auto db = UserDb::load(stack());
    ASSERT_TRUE(db) << db.error().to_string();
    EXPECT_EQ(db->user(0), std::nullopt);
    EXPECT_EQ(db->group(0), std::nullopt);
}

TEST_F(UserDbTest, HugeFilesAreReadOnlyInPart) {
    std::string passwd = "first:x:1:1::/:/x\n";
    while (passwd.size() < (5 << 20)) {
        passwd += "# " + std::string(1000, 'x') + "\n";
    }
    passwd += "late:x:2:2::/:/x\n";
    file("bottom", "etc/passwd", passwd);
    auto db = UserDb::load(stack());
    ASSERT_TRUE(db) << db.error().to_string();
    EXPECT_EQ(db->user(1), "first");
    EXPECT_EQ(db->user(2), std::nullopt);
}

TEST_F(UserDbTest, AnImageWithoutEtcHasNoNames) {
    file("bottom", "bin/tool", "#!/bin/true\n");
    auto db = UserDb::load(stack());
    ASSERT_TRUE(db) << db.error().to_string();
    EXPECT_EQ(db->user(0), std::nullopt);
}

TEST(UserDb, LooksUpUsersAndGroupsByName) {
    const auto db = UserDb::parse(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65533:nobody:/:/bin/false\n"
        "app:x:1000:1000::/home/app:/bin/sh\napp:x:2000:2000::/:/bin/sh\n",
        "root:x:0:\nnogroup:x:65533:\nstaff:x:50:app\n");
    ASSERT_TRUE(db.find_user("nobody"));
    EXPECT_EQ(db.find_user("nobody")->id, 65534u);
    EXPECT_EQ(db.find_user("nobody")->group, 65533u);
    EXPECT_EQ(db.find_user("app")->id, 1000u) << "the first line for a name wins";
    EXPECT_FALSE(db.find_user("ghost"));
    EXPECT_EQ(db.find_group("staff"), 50u);
    EXPECT_FALSE(db.find_group("ghost"));
    EXPECT_EQ(db.primary_group(65534), 65533u);
    EXPECT_FALSE(db.primary_group(4242));
}

}  // namespace
}  // namespace grove::inspect
