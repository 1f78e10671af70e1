#include "version.hpp"

namespace grove::base {

std::string_view version() {
    return GROVE_VERSION;
}

}  // namespace grove::base
