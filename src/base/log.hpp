#pragma once

// Structured logging over spdlog. A record is a message plus key/value fields:
//
//   log.info("snapshot committed", {{"key", key}, {"parent", parent}});
//
// The daemon writes JSON lines ({"ts":...,"level":...,"msg":...,"key":...}); the CLI writes text
// ("2026-01-02T03:04:05.678Z info snapshot committed key=k1 parent=p0"). A Logger is a cheap
// value: `with()` returns a copy carrying more fields (request_id, container_id) that is passed
// down, as containerd's log.G(ctx). Fields are rendered only when the level is enabled.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <spdlog/logger.h>

namespace grove::base {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

class LogValue {
public:
    LogValue(std::string_view v) : value_(std::string(v)) {}  // NOLINT: implicit by design
    LogValue(const char* v) : value_(std::string(v)) {}       // NOLINT
    LogValue(const std::string& v) : value_(v) {}             // NOLINT
    LogValue(bool v) : value_(v) {}                           // NOLINT
    LogValue(double v) : value_(v) {}                         // NOLINT
    template <typename I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) LogValue(I v) {  // NOLINT
        if constexpr (std::is_signed_v<I>) {
            value_ = static_cast<int64_t>(v);
        } else {
            value_ = static_cast<uint64_t>(v);
        }
    }

    const std::variant<std::string, int64_t, uint64_t, double, bool>& get() const { return value_; }

private:
    std::variant<std::string, int64_t, uint64_t, double, bool> value_;
};

struct LogField {
    std::string key;
    LogValue value;
};

class Logger {
public:
    // `sink` is shared with every copy of this logger (and any other logger given the same sink).
    Logger(std::shared_ptr<spdlog::sinks::sink> sink, LogFormat format, LogLevel level);

    // A text logger to stderr: the CLI's, and the default for tests.
    static Logger stderr_text(LogLevel level = LogLevel::kInfo);
    // JSON lines to stderr: the daemon's (a service manager collects stderr).
    static Logger stderr_json(LogLevel level = LogLevel::kInfo);

    // A copy that adds `fields` to every record.
    Logger with(std::initializer_list<LogField> fields) const;

    bool enabled(LogLevel level) const;
    void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const;
    void debug(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kDebug, msg, fields);
    }
    void info(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kInfo, msg, fields);
    }
    void warn(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kWarn, msg, fields);
    }
    void error(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kError, msg, fields);
    }

private:
    std::string render(std::string_view msg, std::initializer_list<LogField> fields) const;

    // Shared by all copies made with with(): they write through one spdlog logger.
    std::shared_ptr<spdlog::logger> logger_;
    LogFormat format_;
    std::vector<LogField> fields_;
};

}  // namespace grove::base
