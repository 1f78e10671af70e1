#include "content_store.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include "base/error.hpp"

namespace grove::store {
namespace {

namespace fs = std::filesystem;

constexpr size_t kIngestNameLength = 32;

Result<void> create_dirs(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", dir.string());
    }
    return {};
}

// stat() of the blob; nullopt if absent.
Result<std::optional<struct stat>> stat_blob(const fs::path& path, const base::Digest& digest) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        return base::last_errno_error("stat blob '{}'", digest.str());
    }
    return st;
}

}  // namespace

Result<ContentStore> ContentStore::open(fs::path root) {
    ContentStore store(std::move(root));
    GROVE_TRY(create_dirs(store.blobs_dir()));
    GROVE_TRY(create_dirs(store.ingest_root()));
    GROVE_TRY(base::with_context(store.remove_abandoned_ingests(), "open content store '{}'",
                                 store.root_.string()));
    return store;
}

Result<bool> ContentStore::exists(const base::Digest& digest) const {
    GROVE_ASSIGN_OR_RETURN(auto st, stat_blob(blob_path(digest), digest));
    return st.has_value();
}

Result<uint64_t> ContentStore::size(const base::Digest& digest) const {
    GROVE_ASSIGN_OR_RETURN(auto st, stat_blob(blob_path(digest), digest));
    if (!st) {
        return base::make_error(Code::kNotFound, "blob '{}' not found", digest.str());
    }
    return static_cast<uint64_t>(st->st_size);
}

Result<base::UniqueFd> ContentStore::open_blob(const base::Digest& digest) const {
    auto fd = base::UniqueFd::open(blob_path(digest).string(), O_RDONLY);
    if (!fd && fd.error().code() == Code::kNotFound) {
        return base::make_error(Code::kNotFound, "blob '{}' not found", digest.str());
    }
    return fd;
}

Result<std::string> ContentStore::read_blob(const base::Digest& digest, size_t max_size) const {
    GROVE_ASSIGN_OR_RETURN(auto fd, open_blob(digest));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return base::last_errno_error("stat blob '{}'", digest.str());
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > max_size) {
        return base::make_error(Code::kOutOfRange,
                                "blob '{}' has {} bytes, more than the {} allowed", digest.str(),
                                size, max_size);
    }
    return base::with_context(base::read_all(fd.get(), size), "read blob '{}'", digest.str());
}

fs::path ContentStore::blob_path(const base::Digest& digest) const {
    return root_ / "blobs" / digest.algorithm() / digest.encoded();
}

Result<ContentWriter> ContentStore::writer(const std::string& ref,
                                           std::optional<base::Digest> expected,
                                           std::optional<uint64_t> expected_size) {
    if (expected && expected->algorithm() != "sha256") {
        return base::make_error(Code::kUnimplemented, "ingest '{}': cannot verify '{}'", ref,
                                expected->str());
    }
    const std::string name(base::Digest::sha256_of(ref).encoded().substr(0, kIngestNameLength));
    GROVE_ASSIGN_OR_RETURN(Ingest ingest, base::with_context(Ingest::acquire(ingest_root() / name),
                                                             "start ingest '{}'", ref));
    // Checked only now that the lock is ours: a writer we waited for may have committed it.
    if (expected) {
        GROVE_ASSIGN_OR_RETURN(const bool done, exists(*expected));
        if (done) {
            return base::make_error(Code::kAlreadyExists, "blob '{}' already exists",
                                    expected->str());
        }
    }
    // O_TRUNC discards what a crashed writer of the same ref left.
    GROVE_ASSIGN_OR_RETURN(auto data, base::UniqueFd::open(ingest.data_path().string(),
                                                           O_WRONLY | O_CREAT | O_TRUNC, 0644));
    return ContentWriter(ref, std::move(ingest), std::move(data), blobs_dir(), std::move(expected),
                         expected_size);
}

Result<base::Digest> ContentStore::write_blob(std::string_view data,
                                              std::optional<base::Digest> expected) {
    // Hashing up front costs a second pass over a small blob, but names the ingest by its
    // content, so concurrent writers of the same blob wait for each other instead of both writing.
    const base::Digest digest = base::Digest::sha256_of(data);
    if (expected && *expected != digest) {
        return base::make_error(Code::kDataLoss, "blob '{}' failed verification: got {} ({} bytes)",
                                expected->str(), digest.str(), data.size());
    }
    auto writer_result = writer(digest.str(), digest, data.size());
    if (!writer_result) {
        if (writer_result.error().code() == Code::kAlreadyExists) {
            return digest;
        }
        return std::move(writer_result).error();
    }
    GROVE_TRY(writer_result->write(data));
    return writer_result->commit();
}

Result<void> ContentStore::remove(const base::Digest& digest) {
    if (::unlink(blob_path(digest).c_str()) != 0) {
        return base::last_errno_error("remove blob '{}'", digest.str());
    }
    return {};
}

Result<std::vector<base::Digest>> ContentStore::list() const {
    std::vector<base::Digest> digests;
    std::error_code ec;
    for (fs::directory_iterator it(blobs_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        // Names that are not a digest are not blobs (nothing but commit() writes here).
        auto digest = base::Digest::parse("sha256:" + it->path().filename().string());
        if (digest) {
            digests.push_back(std::move(digest).value());
        }
    }
    if (ec) {
        return base::errno_error(ec.value(), "list '{}'", blobs_dir().string());
    }
    std::sort(digests.begin(), digests.end());
    return digests;
}

Result<void> ContentStore::remove_abandoned_ingests() const {
    std::error_code ec;
    for (fs::directory_iterator it(ingest_root(), ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;  // an entry that vanished meanwhile is no leftover
        if (!it->is_directory(type_ec)) {
            continue;
        }
        // A held lock means a live writer; an ingest whose lock we win is a leftover.
        GROVE_ASSIGN_OR_RETURN(std::optional<Ingest> leftover, Ingest::try_acquire(it->path()));
        if (leftover) {
            leftover->remove();
        }
    }
    if (ec) {
        return base::errno_error(ec.value(), "sweep '{}'", ingest_root().string());
    }
    return {};
}

}  // namespace grove::store
