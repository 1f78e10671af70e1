#include "base/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace grove {
namespace {

TEST(Error, CodeNamesRoundTrip) {
    for (int i = 0; i <= static_cast<int>(Code::kDataLoss); ++i) {
        const auto code = static_cast<Code>(i);
        const auto name = code_name(code);
        ASSERT_FALSE(name.empty());
        EXPECT_EQ(code_from_name(name), code) << name;
    }
    EXPECT_EQ(code_name(Code::kNotFound), "not_found");
    EXPECT_EQ(code_from_name("no_such_code"), std::nullopt);
}

TEST(Error, ToStringHasCodeAndMessage) {
    const Error e(Code::kAlreadyExists, "tag 'a' exists");
    EXPECT_EQ(e.to_string(), "already_exists: tag 'a' exists");
    EXPECT_EQ(e.sys_errno(), 0);
}

TEST(Error, ErrnoMapsToCanonicalCodes) {
    using base::code_from_errno;
    EXPECT_EQ(code_from_errno(ENOENT), Code::kNotFound);
    EXPECT_EQ(code_from_errno(EEXIST), Code::kAlreadyExists);
    EXPECT_EQ(code_from_errno(EPERM), Code::kPermissionDenied);
    EXPECT_EQ(code_from_errno(EACCES), Code::kPermissionDenied);
    EXPECT_EQ(code_from_errno(EROFS), Code::kPermissionDenied);
    EXPECT_EQ(code_from_errno(EBUSY), Code::kFailedPrecondition);
    EXPECT_EQ(code_from_errno(ENOTEMPTY), Code::kFailedPrecondition);
    EXPECT_EQ(code_from_errno(ENOSPC), Code::kResourceExhausted);
    EXPECT_EQ(code_from_errno(EMFILE), Code::kResourceExhausted);
    EXPECT_EQ(code_from_errno(ENOSYS), Code::kUnimplemented);
    EXPECT_EQ(code_from_errno(EXDEV), Code::kUnimplemented);
    EXPECT_EQ(code_from_errno(EAGAIN), Code::kUnavailable);
    EXPECT_EQ(code_from_errno(EINTR), Code::kUnavailable);
    EXPECT_EQ(code_from_errno(ETIMEDOUT), Code::kDeadlineExceeded);
    EXPECT_EQ(code_from_errno(ECANCELED), Code::kCancelled);
    EXPECT_EQ(code_from_errno(EINVAL), Code::kInvalidArgument);
    EXPECT_EQ(code_from_errno(EFBIG), Code::kOutOfRange);
    EXPECT_EQ(code_from_errno(0), Code::kInternal);
}

TEST(Error, ErrnoErrorFormatsMessage) {
    const Error e = base::errno_error(ENOENT, "open '{}'", "/nope");
    EXPECT_EQ(e.code(), Code::kNotFound);
    EXPECT_EQ(e.sys_errno(), ENOENT);
    EXPECT_EQ(e.message(), "open '/nope': No such file or directory");
}

TEST(Error, LastErrnoErrorReadsErrno) {
    ASSERT_LT(::open("/definitely/not/here", O_RDONLY), 0);
    const Error e = base::last_errno_error("open '{}'", "/definitely/not/here");
    EXPECT_EQ(e.sys_errno(), ENOENT);
    EXPECT_EQ(e.code(), Code::kNotFound);
}

TEST(Error, WithContextFormatsOnlyOnFailure) {
    Result<int> ok = 5;
    EXPECT_EQ(*base::with_context(std::move(ok), "step {}", 1), 5);
    Result<int> bad = base::make_error(Code::kUnavailable, "registry {} down", "r1");
    auto wrapped = base::with_context(std::move(bad), "pull '{}'", "busybox");
    ASSERT_FALSE(wrapped);
    EXPECT_EQ(wrapped.error().message(), "pull 'busybox': registry r1 down");
    EXPECT_EQ(wrapped.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace grove
