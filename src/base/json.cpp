#include "json.hpp"

namespace grove::base {

Result<Json> parse_json(std::string_view text) {
    try {
        return Json::parse(text);
    } catch (const Json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
        std::string_view what = e.what();
        if (const size_t pos = what.find("] "); pos != std::string_view::npos) {
            what.remove_prefix(pos + 2);
        }
        return Error(Code::kInvalidArgument, "parse json: " + std::string(what));
    }
}

std::string dump_json(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace grove::base
