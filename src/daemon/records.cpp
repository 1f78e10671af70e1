#include "daemon/records.hpp"

#include <array>
#include <utility>

#include "base/error.hpp"

namespace grove::daemon {
namespace {

constexpr std::array<std::pair<OperationStatus, std::string_view>, 6> kStatusNames{{
    {OperationStatus::kPending, "PENDING"},
    {OperationStatus::kAssigned, "ASSIGNED"},
    {OperationStatus::kExecuting, "EXECUTING"},
    {OperationStatus::kSuccess, "SUCCESS"},
    {OperationStatus::kFailed, "FAILED"},
    {OperationStatus::kCancelled, "CANCELLED"},
}};

}  // namespace

std::string_view operation_kind_name(OperationKind kind) {
    return kind == OperationKind::kInstance ? "instance" : "image_import";
}

Result<OperationKind> operation_kind_from_name(std::string_view name) {
    if (name == "instance") {
        return OperationKind::kInstance;
    }
    if (name == "image_import") {
        return OperationKind::kImageImport;
    }
    return base::make_error(Code::kInvalidArgument,
                            "unknown operation kind '{}': want instance or image_import", name);
}

std::string_view operation_status_name(OperationStatus status) {
    for (const auto& [value, name] : kStatusNames) {
        if (value == status) {
            return name;
        }
    }
    return "FAILED";  // unreachable: every enumerator is in the table
}

Result<OperationStatus> operation_status_from_name(std::string_view name) {
    for (const auto& [value, known] : kStatusNames) {
        if (known == name) {
            return value;
        }
    }
    return base::make_error(Code::kInvalidArgument,
                            "unknown operation status '{}': want PENDING, ASSIGNED, EXECUTING, "
                            "SUCCESS, FAILED or CANCELLED",
                            name);
}

bool is_terminal(OperationStatus status) {
    return status == OperationStatus::kSuccess || status == OperationStatus::kFailed ||
           status == OperationStatus::kCancelled;
}

int64_t OperationRecord::duration_ns(int64_t now_ns) const {
    const int64_t start = started_ns.value_or(created_ns);
    const int64_t end = finished_ns.value_or(now_ns);
    return end > start ? end - start : 0;
}

}  // namespace grove::daemon
