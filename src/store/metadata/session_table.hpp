#pragma once

// SessionTable records sessions: a named line of work on the image tree that keeps running on its
// latest result. A session's states form a tree of their own: the base (the image it started
// from) and one state per run, whose parent is the state the run started from. Branches are named
// pointers to states, one of them checked out; a run appends a state on the checked-out branch's
// head and moves the head to it, rollback moves the head back along parents, and the states left
// behind stay (another branch may still point at them, and history is never rewritten).
//
// A state names its image with a RESTRICT reference, so a session pins the images of its whole
// history: ImageTable::remove refuses them (naming the session) and GC keeps their layers, so any
// state can be checked out and run again. Removing the session frees them.
//
// Names of sessions and branches: 1 to 128 characters of letters, digits and . _ - (no slash:
// they are path segments of the API).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"

namespace grove::store {

struct SessionState {
    int64_t id = 0;
    std::optional<int64_t> parent;  // none for the base
    std::string image;              // the image the run left (the base's image for the base)
    std::string command;            // empty for the base
    int exit_code = 0;
    bool timed_out = false;
    int64_t elapsed_ns = 0;
    std::string stdout_data;
    std::string stderr_data;
    int64_t created_ns = 0;
};

struct SessionBranch {
    std::string name;
    int64_t head = 0;
    std::string image;  // the head state's image
};

struct SessionRecord {
    std::string name;
    std::string branch;  // the checked-out branch
    int64_t created_ns = 0;
    std::vector<SessionBranch> branches;  // by name
    const SessionBranch& current() const;
};

// InvalidArgument unless `name` follows the syntax above; `what` is "session" or "branch".
Result<void> validate_session_name(std::string_view name, std::string_view what);

class SessionTable {
public:
    static constexpr const char* kMainBranch = "main";

    explicit SessionTable(Database& db) : db_(db) {}

    // A session on image `uuid`, with branch "main" checked out at its base. AlreadyExists if
    // the name is taken, NotFound if the image does not exist.
    Result<SessionRecord> create(std::string_view name, std::string_view uuid, int64_t now_ns);
    Result<SessionRecord> get(std::string_view name);
    Result<std::vector<SessionRecord>> list();
    // The session, its branches and its states; their images are no longer pinned.
    Result<void> remove(std::string_view name);
    // A session whose history holds `image` (which pins it), if any.
    Result<std::optional<std::string>> pinning(std::string_view image);
    // A new branch at the current head, checked out (git's checkout -b). AlreadyExists if taken.
    Result<SessionRecord> branch(std::string_view name, std::string_view branch);
    Result<SessionRecord> checkout(std::string_view name, std::string_view branch);
    // Moves the checked-out branch's head `steps` states back. OutOfRange past the base.
    Result<SessionRecord> rollback(std::string_view name, int64_t steps);
    // Records a run from the checked-out head and moves the head to it. `state.parent` must be
    // that head: Aborted when another client moved it meanwhile (re-read and retry).
    Result<SessionRecord> append(std::string_view name, SessionState state);
    // The states of `branch`'s head (the checked-out one when empty), head first, down to the
    // base (at most `limit`). NotFound for an unknown branch.
    Result<std::vector<SessionState>> history(std::string_view name,
                                              size_t limit,
                                              std::string_view branch = {});

private:
    Result<void> set_head(std::string_view name, std::string_view branch, int64_t head);

    Database& db_;
};

}  // namespace grove::store
