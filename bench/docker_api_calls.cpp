#include "docker_api_calls.hpp"

#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"

namespace grove::bench {
namespace {

size_t collect(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// One request over `curl` (kept alive across calls); the body, or an error past `want` status.
Result<std::string> call(CURL* curl,
                         const std::string& method,
                         const std::string& path,
                         const std::string& body,
                         long want) {
    std::string out;
    curl_easy_setopt(curl, CURLOPT_URL, ("http://docker/v1.41" + path).c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    if (const CURLcode rc = curl_easy_perform(curl); rc != CURLE_OK) {
        return Error(Code::kInternal, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != want) {
        return Error(Code::kInternal, fmt::format("{} {}: {} {}", method, path, status, out));
    }
    return out;
}

Result<std::string> create(CURL* curl, const std::string& body) {
    GROVE_ASSIGN_OR_RETURN(const std::string made,
                           call(curl, "POST", "/containers/create", body, 201));
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(made));
    return json.value("Id", "");
}

// A request on a connection of its own whose response outlives the call that sent it, as the
// CLI's hijacked attach and its wait are: `rest` holds what came after the response's head.
struct OpenResponse {
    base::UniqueFd fd;
    std::string rest;
};

// Sends `method path` with `headers` on a new connection to `socket` and reads the response's
// head; an error unless its status is `want`.
Result<OpenResponse> open_request(const std::string& socket,
                                  const std::string& method,
                                  const std::string& path,
                                  const std::string& headers,
                                  int want) {
    OpenResponse r{base::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)), {}};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    if (!r.fd || ::connect(r.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return base::last_errno_error("connect to {}", socket);
    }
    const std::string request =
        fmt::format("{} /v1.41{} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n{}\r\n", method,
                    path, headers);
    if (::send(r.fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return base::last_errno_error("send {}", path);
    }
    size_t end = std::string::npos;
    while ((end = r.rest.find("\r\n\r\n")) == std::string::npos) {
        char buf[4096];
        const ssize_t n = ::recv(r.fd.get(), buf, sizeof(buf), 0);
        if (n <= 0) {
            return Error(Code::kInternal, path + ": the connection ended in the response's head");
        }
        r.rest.append(buf, static_cast<size_t>(n));
    }
    if (const std::string status = fmt::format("HTTP/1.1 {} ", want); !r.rest.starts_with(status)) {
        return Error(Code::kInternal,
                     fmt::format("{} {}: {}", method, path, r.rest.substr(0, end)));
    }
    r.rest.erase(0, end + 4);
    return r;
}

// What the connection carries after the response's head, to its end.
Result<std::string> read_to_end(OpenResponse& r) {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(r.fd.get(), buf, sizeof(buf), 0)) > 0) {
        r.rest.append(buf, static_cast<size_t>(n));
    }
    if (n < 0) {
        return base::last_errno_error("read a response");
    }
    return std::move(r.rest);
}

}  // namespace

Result<void> api_lifecycle_step(CURL* curl) {
    GROVE_ASSIGN_OR_RETURN(
        const std::string id,
        create(curl,
               R"({"Image":"busybox:latest","Cmd":["true"],"HostConfig":{"NetworkMode":"none"}})"));
    GROVE_TRY(call(curl, "POST", "/containers/" + id + "/start", "", 204));
    GROVE_ASSIGN_OR_RETURN(const std::string waited,
                           call(curl, "POST", "/containers/" + id + "/wait", "", 200));
    if (waited.find("\"StatusCode\":0") == std::string::npos) {
        return Error(Code::kInternal, "wait: " + waited);
    }
    GROVE_TRY(call(curl, "DELETE", "/containers/" + id, "", 204));
    return {};
}

// The exec's start answers with the raw output stream and closes the connection (dockerd hijacks
// it even without an upgrade), so curl reads it to the end and reconnects for the next call.
Result<void> api_exec_step(CURL* curl, const std::string& container) {
    GROVE_ASSIGN_OR_RETURN(
        const std::string made,
        call(curl, "POST", "/containers/" + container + "/exec",
             R"({"Cmd":["true"],"AttachStdout":true,"AttachStderr":true})", 201));
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(made));
    const std::string id = json.value("Id", "");
    GROVE_TRY(call(curl, "POST", "/exec/" + id + "/start", R"({"Detach":false,"Tty":false})", 200));
    GROVE_ASSIGN_OR_RETURN(const std::string inspected,
                           call(curl, "GET", "/exec/" + id + "/json", "", 200));
    if (inspected.find("\"ExitCode\":0") == std::string::npos) {
        return Error(Code::kInternal, "exec inspect: " + inspected);
    }
    return {};
}

Result<void> api_run_rm_step(CURL* curl, const std::string& socket) {
    GROVE_ASSIGN_OR_RETURN(
        const std::string id,
        create(curl,
               R"({"Image":"busybox:latest","Cmd":["true"],"AttachStdout":true,)"
               R"("AttachStderr":true,"HostConfig":{"AutoRemove":true,"NetworkMode":"none"}})"));
    GROVE_ASSIGN_OR_RETURN(
        auto attached,
        open_request(socket, "POST", "/containers/" + id + "/attach?stream=1&stdout=1&stderr=1",
                     "Connection: Upgrade\r\nUpgrade: tcp\r\n", 101));
    GROVE_ASSIGN_OR_RETURN(
        auto waiting, open_request(socket, "POST", "/containers/" + id + "/wait?condition=removed",
                                   "Connection: close\r\n", 200));
    GROVE_TRY(call(curl, "POST", "/containers/" + id + "/start", "", 204));
    GROVE_ASSIGN_OR_RETURN(const std::string waited, read_to_end(waiting));
    if (waited.find("\"StatusCode\":0") == std::string::npos) {
        return Error(Code::kInternal, "wait: " + waited);
    }
    GROVE_ASSIGN_OR_RETURN(const std::string output, read_to_end(attached));
    if (!output.empty()) {
        return Error(Code::kInternal, "`true` wrote: " + output);
    }
    return {};
}

}  // namespace grove::bench
