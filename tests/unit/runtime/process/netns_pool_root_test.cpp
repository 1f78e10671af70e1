#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/process/netns_pool.hpp"

namespace grove::runtime::process {
namespace {

ino_t inode_of(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

ino_t own_netns() {
    base::UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    return inode_of(fd.get());
}

// What a thread that joins `netns` finds: its interfaces' names and whether lo is up.
struct Inside {
    bool joined = false;
    bool lo_up = false;
    int interfaces = 0;
};

Inside look_inside(int netns) {
    Inside out;
    std::thread([&] {
        if (::setns(netns, CLONE_NEWNET) != 0) {
            return;
        }
        out.joined = true;
        base::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq req{};
        std::memcpy(req.ifr_name, "lo", 3);
        out.lo_up = ::ioctl(sock.get(), SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP) != 0;
        if (struct if_nameindex* names = ::if_nameindex()) {
            for (auto* n = names; n->if_index != 0; ++n) {
                ++out.interfaces;
            }
            ::if_freenameindex(names);
        }
    }).join();
    return out;
}

class NetnsPoolTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root";
        }
    }
};

TEST_F(NetnsPoolTest, ROOT_EachTakeIsAFreshNamespaceWithOnlyLoUp) {
    const ino_t host = own_netns();
    NetnsPool pool(2);
    std::set<ino_t> seen;
    std::vector<base::UniqueFd> held;  // held, so the kernel cannot reuse an inode number
    for (int i = 0; i < 6; ++i) {
        auto fd = pool.take();
        ASSERT_TRUE(fd) << fd.error().to_string();
        const ino_t ino = inode_of(fd->get());
        EXPECT_NE(ino, host);
        EXPECT_TRUE(seen.insert(ino).second) << "a namespace was handed out twice";
        const Inside inside = look_inside(fd->get());
        EXPECT_TRUE(inside.joined);
        EXPECT_TRUE(inside.lo_up);
        EXPECT_EQ(inside.interfaces, 1) << "only lo";
        held.push_back(std::move(*fd));
    }
    EXPECT_EQ(own_netns(), host) << "the caller's thread stays in the host's namespace";
}

TEST_F(NetnsPoolTest, ROOT_MakeReturnsTheThreadHome) {
    const ino_t host = own_netns();
    auto fd = NetnsPool::make();
    ASSERT_TRUE(fd) << fd.error().to_string();
    EXPECT_NE(inode_of(fd->get()), host);
    EXPECT_EQ(own_netns(), host);
}

TEST_F(NetnsPoolTest, ROOT_AnEmptyPoolMakesOnTheSpot) {
    NetnsPool pool(0);  // no thread at all
    auto fd = pool.take();
    ASSERT_TRUE(fd) << fd.error().to_string();
    EXPECT_TRUE(look_inside(fd->get()).lo_up);
}

}  // namespace
}  // namespace grove::runtime::process
