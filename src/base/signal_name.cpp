#include "base/signal_name.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <string>

#include "base/parse_number.hpp"

namespace grove::base {
namespace {

struct NamedSignal {
    std::string_view name;
    int number;
};

constexpr NamedSignal kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

}  // namespace

std::optional<int> signal_number(std::string_view text) {
    if (const auto number = parse_number<int>(text)) {
        return *number >= 1 && *number < NSIG ? number : std::nullopt;
    }
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string_view name = upper;
    if (name.starts_with("SIG")) {
        name.remove_prefix(3);
    }
    for (const auto& signal : kSignals) {
        if (signal.name == name) {
            return signal.number;
        }
    }
    return std::nullopt;
}

}  // namespace grove::base
