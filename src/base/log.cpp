#include "log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace grove::base {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return spdlog::level::debug;
        case LogLevel::kInfo:
            return spdlog::level::info;
        case LogLevel::kWarn:
            return spdlog::level::warn;
        case LogLevel::kError:
            return spdlog::level::err;
        case LogLevel::kOff:
            break;
    }
    return spdlog::level::off;
}

// JSON records are `{"ts":..,"level":..,` from the pattern, then our `"msg":..}` as %v.
constexpr const char* kJsonPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";

std::string json_string(std::string_view s) {
    return nlohmann::json(s).dump();
}

void append_json_value(std::string& out, const LogValue& value) {
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) {
                out += json_string(v);
            } else {
                out += nlohmann::json(v).dump();
            }
        },
        value.get());
}

bool needs_quotes(std::string_view s) {
    if (s.empty()) {
        return true;
    }
    for (char c : s) {
        if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
            return true;
        }
    }
    return false;
}

void append_text_value(std::string& out, const LogValue& value) {
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) {
                out += needs_quotes(v) ? json_string(v) : v;
            } else {
                fmt::format_to(std::back_inserter(out), "{}", v);
            }
        },
        value.get());
}

}  // namespace

Logger::Logger(std::shared_ptr<spdlog::sinks::sink> sink, LogFormat format, LogLevel level)
    : logger_(std::make_shared<spdlog::logger>("grove", std::move(sink))), format_(format) {
    logger_->set_level(to_spdlog(level));
    logger_->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        format == LogFormat::kJson ? kJsonPattern : kTextPattern, spdlog::pattern_time_type::utc));
}

Logger Logger::stderr_text(LogLevel level) {
    return Logger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), LogFormat::kText, level);
}

Logger Logger::stderr_json(LogLevel level) {
    return Logger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), LogFormat::kJson, level);
}

Logger Logger::with(std::initializer_list<LogField> fields) const {
    Logger copy = *this;
    copy.fields_.insert(copy.fields_.end(), fields.begin(), fields.end());
    return copy;
}

bool Logger::enabled(LogLevel level) const {
    return logger_->should_log(to_spdlog(level));
}

void Logger::log(LogLevel level,
                 std::string_view msg,
                 std::initializer_list<LogField> fields) const {
    if (!enabled(level)) {
        return;
    }
    logger_->log(to_spdlog(level), render(msg, fields));
}

std::string Logger::render(std::string_view msg, std::initializer_list<LogField> fields) const {
    const bool json = format_ == LogFormat::kJson;
    std::string out;
    if (json) {
        out += "\"msg\":";
        out += json_string(msg);
    } else {
        out += msg;
    }
    auto append = [&](const LogField& field) {
        if (json) {
            out += ',';
            out += json_string(field.key);
            out += ':';
            append_json_value(out, field.value);
        } else {
            out += ' ';
            out += field.key;
            out += '=';
            append_text_value(out, field.value);
        }
    };
    for (const auto& field : fields_) {
        append(field);
    }
    for (const auto& field : fields) {
        append(field);
    }
    return out;
}

}  // namespace grove::base
