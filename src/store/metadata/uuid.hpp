#pragma once

// Image ids: random (version 4) UUIDs in the canonical lowercase form
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".

#include <string>
#include <string_view>

namespace grove::store {

// 122 random bits from getrandom(2). Aborts if the kernel cannot supply them, which on Linux
// >= 3.17 happens only before the entropy pool is first initialized and never after boot.
std::string new_uuid();

// True for the canonical lowercase 8-4-4-4-12 hex form (any version).
bool is_uuid(std::string_view text);

// True for what may start a uuid: lowercase hex digits and dashes where the form has them.
bool is_uuid_prefix(std::string_view text);

}  // namespace grove::store
