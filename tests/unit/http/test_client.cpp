#include "test_client.hpp"

#include <algorithm>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include <curl/curl.h>

namespace grove::http::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

struct Transfer {
    const CurlRequest* request;
    CurlResponse* response;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view chunk(data, size * count);
    if (t->request->on_data) {
        return t->request->on_data(chunk) ? chunk.size() : 0;
    }
    t->response->body.append(chunk);
    return chunk.size();
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ')) {
            value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
            value.remove_suffix(1);
        }
        t->response->headers[lower(std::string(line.substr(0, colon)))] = std::string(value);
    }
    return line.size();
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    return t->request->body_source(buffer, size * count);
}

}  // namespace

CurlClient::CurlClient(Target target) : target_(std::move(target)), handle_(curl_easy_init()) {}

CurlClient::~CurlClient() {
    curl_easy_cleanup(static_cast<CURL*>(handle_));
}

CurlResponse CurlClient::request(const CurlRequest& request) {
    CURL* curl = static_cast<CURL*>(handle_);
    curl_easy_reset(curl);
    CurlResponse response;
    Transfer transfer{&request, &response};
    std::string url;
    if (!target_.unix_path.empty()) {
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, target_.unix_path.c_str());
        url = "http://localhost" + request.path;
    } else {
        url = "http://127.0.0.1:" + std::to_string(target_.port) + request.path;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_slist* headers = nullptr;
    for (const std::string& h : request.headers) {
        headers = curl_slist_append(headers, h.c_str());
    }
    if (request.body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body->size()));
    } else if (request.body_source) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
        if (request.upload_size) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(*request.upload_size));
        } else {
            headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        }
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    const CURLcode rc = curl_easy_perform(curl);
    response.curl_code = rc;
    if (rc != CURLE_OK) {
        response.error = curl_easy_strerror(rc);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.new_connections);
    curl_slist_free_all(headers);
    return response;
}

Result<RawClient> RawClient::connect(const Target& target) {
    if (!target.unix_path.empty()) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        base::UniqueFd owned(fd);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, target.unix_path.c_str(), sizeof(addr.sun_path) - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT
            return Error(Code::kUnavailable, "connect: " + std::string(std::strerror(errno)),
                         errno);
        }
        return RawClient(std::move(owned));
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    base::UniqueFd owned(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT
        return Error(Code::kUnavailable, "connect: " + std::string(std::strerror(errno)), errno);
    }
    return RawClient(std::move(owned));
}

Result<void> RawClient::send(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error(Code::kUnavailable, "send: " + std::string(std::strerror(errno)), errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<std::string> RawClient::read_until(std::string_view needle,
                                          std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (const size_t at = buffer_.find(needle); at != std::string::npos && !needle.empty()) {
            std::string out = buffer_.substr(0, at + needle.size());
            buffer_.erase(0, at + needle.size());
            return out;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return Error(Code::kDeadlineExceeded,
                         "timed out waiting for '" + std::string(needle) + "'; got: " + buffer_);
        }
        pollfd pfd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char chunk[65536];
        const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error(Code::kUnavailable, "recv: " + std::string(std::strerror(errno)), errno);
        }
        if (n == 0) {
            if (needle.empty()) {
                return std::exchange(buffer_, {});
            }
            return Error(Code::kUnavailable,
                         "EOF before '" + std::string(needle) + "'; got: " + buffer_);
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

Result<ParsedResponse> RawClient::read_response(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        size_t consumed = 0;
        if (auto parsed = parse_response(buffer_, &consumed)) {
            buffer_.erase(0, consumed);
            return *std::move(parsed);
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return Error(Code::kDeadlineExceeded, "timed out reading a response; got: " + buffer_);
        }
        pollfd pfd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char chunk[65536];
        const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return Error(Code::kUnavailable,
                         "EOF or error before a whole response; got: " + buffer_);
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

Result<std::string> RawClient::read_to_eof(std::chrono::milliseconds timeout) {
    return read_until("", timeout);
}

void RawClient::shutdown_write() {
    ::shutdown(fd_.get(), SHUT_WR);
}

std::optional<ParsedResponse> parse_response(std::string_view raw, size_t* consumed) {
    const size_t end = raw.find("\r\n\r\n");
    if (end == std::string_view::npos || !raw.starts_with("HTTP/1.1 ")) {
        return std::nullopt;
    }
    ParsedResponse r;
    r.status = std::stoi(std::string(raw.substr(9, 3)));
    std::string_view fields = raw.substr(0, end);
    fields.remove_prefix(std::min(fields.size(), fields.find("\r\n") + 2));
    while (!fields.empty()) {
        const size_t eol = fields.find("\r\n");
        const std::string_view line = fields.substr(0, eol);
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.remove_prefix(1);
            }
            r.headers[lower(std::string(line.substr(0, colon)))] = std::string(value);
        }
        if (eol == std::string_view::npos) {
            break;
        }
        fields.remove_prefix(eol + 2);
    }
    size_t pos = end + 4;
    if (r.headers.count("content-length") != 0) {
        const size_t length = std::stoul(r.headers["content-length"]);
        if (raw.size() < pos + length) {
            return std::nullopt;
        }
        r.body = std::string(raw.substr(pos, length));
        pos += length;
    } else if (r.headers["transfer-encoding"] == "chunked") {
        for (;;) {
            const size_t eol = raw.find("\r\n", pos);
            if (eol == std::string_view::npos) {
                return std::nullopt;
            }
            const size_t size = std::stoul(std::string(raw.substr(pos, eol - pos)), nullptr, 16);
            pos = eol + 2;
            if (raw.size() < pos + size + 2) {
                return std::nullopt;
            }
            r.body.append(raw.substr(pos, size));
            pos += size + 2;
            if (size == 0) {
                break;
            }
        }
    }
    if (consumed != nullptr) {
        *consumed = pos;
    }
    return r;
}

Result<std::string> gunzip(std::string_view data) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        return Error(Code::kInternal, "inflateInit2");
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));  // NOLINT
    zs.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buffer);  // NOLINT
        zs.avail_out = sizeof(buffer);
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buffer, sizeof(buffer) - zs.avail_out);
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            break;
        }
    }
    const bool complete = rc == Z_STREAM_END && zs.avail_in == 0;
    inflateEnd(&zs);
    if (!complete) {
        return Error(Code::kDataLoss,
                     "gzip stream incomplete or corrupt (zlib " + std::to_string(rc) + ")");
    }
    return out;
}

}  // namespace grove::http::testing
