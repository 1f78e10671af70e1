#include "http_client.hpp"

#include <array>
#include <charconv>
#include <mutex>
#include <unistd.h>

#include <curl/curl.h>

#include "base/error.hpp"

namespace grove::registry {
namespace {

// Non-2xx bodies are kept only for their error message.
constexpr size_t kMaxErrorBody = 64 << 10;
// A transfer slower than 1 byte/s for this long has stalled (a silent peer); there is no overall
// timeout, since a layer may legitimately take minutes.
constexpr long kStallSeconds = 60;
// Larger reads than curl's 16 KiB default: fewer sink calls and hash updates per blob.
constexpr long kBufferSize = 256 << 10;
// Idle handles kept for reuse; more threads than this simply open fresh connections.
constexpr size_t kMaxIdleHandles = 16;

struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct ShareDeleter {
    void operator()(CURLSH* share) const { curl_share_cleanup(share); }
};

// curl_global_init is not thread-safe and must run once per process, before any other call.
CURLcode global_init() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return result;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + 32);
        }
    }
    return out;
}

std::string_view trim(std::string_view text) {
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) {
        return {};
    }
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

bool is_success(long status) {
    return status >= 200 && status < 300;
}

// The state of one transfer, shared with curl's callbacks.
struct Transfer {
    const HttpRequest& request;
    HttpResponse response;
    std::optional<Error> failure;  // why a callback aborted the transfer
    uint64_t sent = 0;             // bytes of the request body so far

    // Fills `buffer` with the next bytes of the body; 0 at its end.
    Result<size_t> on_read(std::span<char> buffer) {
        const uint64_t size = request.body_fd >= 0 ? request.body_size : request.body.size();
        auto n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - sent));
        if (n > 0 && request.body_fd < 0) {
            request.body.copy(buffer.data(), n, sent);
        } else if (n > 0) {
            const ssize_t got = ::pread(request.body_fd, buffer.data(), n,
                                        static_cast<off_t>(request.body_offset + sent));
            if (got < 0) {
                return base::last_errno_error("read the body of {} '{}'", request.method,
                                              request.url);
            }
            if (got == 0) {
                return base::make_error(Code::kDataLoss,
                                        "the body of {} '{}' ended at {} of {} bytes",
                                        request.method, request.url, sent, size);
            }
            n = static_cast<size_t>(got);
        }
        sent += n;
        if (n > 0 && request.on_upload) {
            request.on_upload(sent);
        }
        return n;
    }

    bool on_header(std::string_view line) {
        line = trim(line);
        if (line.starts_with("HTTP/")) {
            // Each response of a redirect chain starts over.
            response = HttpResponse{};
            const std::string_view status = line.substr(std::min(line.find(' '), line.size()));
            std::from_chars(status.data() + (status.empty() ? 0 : 1), status.data() + status.size(),
                            response.status);
        } else if (line.empty()) {
            if (is_success(response.status) && request.on_head) {
                if (auto head = request.on_head(response); !head) {
                    failure = std::move(head).error();
                    return false;
                }
            }
        } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
            response.headers.push_back({lowercase(trim(line.substr(0, colon))),
                                        std::string(trim(line.substr(colon + 1)))});
        }
        return true;
    }

    bool on_body(std::span<const std::byte> chunk) {
        if (!is_success(response.status)) {
            const size_t keep = std::min(chunk.size(), kMaxErrorBody - response.body.size());
            response.body.append(reinterpret_cast<const char*>(chunk.data()), keep);
            return true;
        }
        if (request.sink) {
            if (auto sunk = request.sink(chunk); !sunk) {
                failure = std::move(sunk).error();
                return false;
            }
            return true;
        }
        if (response.body.size() + chunk.size() > request.max_body) {
            failure =
                base::make_error(Code::kOutOfRange, "{} '{}': the response body exceeds {} bytes",
                                 request.method, request.url, request.max_body);
            return false;
        }
        response.body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        return true;
    }
};

size_t header_callback(char* data, size_t size, size_t count, void* user) {
    const size_t n = size * count;
    return static_cast<Transfer*>(user)->on_header(std::string_view(data, n)) ? n : 0;
}

size_t write_callback(char* data, size_t size, size_t count, void* user) {
    const size_t n = size * count;
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    // Returning anything but n makes curl abort with CURLE_WRITE_ERROR.
    return static_cast<Transfer*>(user)->on_body(std::span(bytes, n)) ? n : 0;
}

size_t read_callback(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    auto read = transfer->on_read(std::span(data, size * count));
    if (!read) {
        transfer->failure = std::move(read).error();
        return CURL_READFUNC_ABORT;
    }
    return *read;
}

Error transport_error(CURLcode code, const char* detail, const HttpRequest& request) {
    Code grove_code = Code::kUnavailable;
    if (code == CURLE_OPERATION_TIMEDOUT) {
        grove_code = Code::kDeadlineExceeded;
    } else if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
        grove_code = Code::kInvalidArgument;
    }
    return base::make_error(grove_code, "{} '{}': {}{}{}", request.method, request.url,
                            curl_easy_strerror(code), *detail != '\0' ? ": " : "", trim(detail));
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
        if (it->name == name) {
            return it->value;
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> HttpResponse::header_values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& h : headers) {
        if (h.name == name) {
            out.push_back(h.value);
        }
    }
    return out;
}

struct HttpClient::Pool {
    Pool() {
        share.reset(curl_share_init());
        if (share) {
            curl_share_setopt(share.get(), CURLSHOPT_LOCKFUNC, &Pool::lock);
            curl_share_setopt(share.get(), CURLSHOPT_UNLOCKFUNC, &Pool::unlock);
            curl_share_setopt(share.get(), CURLSHOPT_USERDATA, this);
            curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
            curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        }
    }

    // A handle with its connections still open if one is idle, else a new one.
    EasyHandle take() {
        {
            const std::lock_guard lock(idle_mutex);
            if (!idle.empty()) {
                EasyHandle handle = std::move(idle.back());
                idle.pop_back();
                return handle;
            }
        }
        return EasyHandle(curl_easy_init());
    }

    void give_back(EasyHandle handle) {
        // Clears every option (and the pointers to this transfer's state), keeps the connections.
        curl_easy_reset(handle.get());
        const std::lock_guard lock(idle_mutex);
        if (idle.size() < kMaxIdleHandles) {
            idle.push_back(std::move(handle));
        }
    }

    static void lock(CURL* /*handle*/,
                     curl_lock_data data,
                     curl_lock_access /*access*/,
                     void* user) {
        static_cast<Pool*>(user)->locks.at(static_cast<size_t>(data)).lock();
    }
    static void unlock(CURL* /*handle*/, curl_lock_data data, void* user) {
        static_cast<Pool*>(user)->locks.at(static_cast<size_t>(data)).unlock();
    }

    // Declared in this order so that the easy handles go before the share they use, and the
    // share before the locks it may take while being cleaned up.
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
    std::unique_ptr<CURLSH, ShareDeleter> share;
    std::mutex idle_mutex;
    std::vector<EasyHandle> idle;  // guarded by idle_mutex; the most recently used last
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
    if (global_init() == CURLE_OK) {
        pool_ = std::make_unique<Pool>();
    }
}
HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::perform(const HttpRequest& request) {
    if (!pool_ || !pool_->share) {
        return base::make_error(Code::kInternal, "libcurl failed to initialise");
    }
    EasyHandle handle = pool_->take();
    if (!handle) {
        return base::make_error(Code::kResourceExhausted, "curl_easy_init failed");
    }
    Slist headers;
    for (const auto& header : request.headers) {
        curl_slist* appended = curl_slist_append(headers.get(), header.c_str());
        if (appended == nullptr) {
            return base::make_error(Code::kResourceExhausted, "curl_slist_append failed");
        }
        // `appended` is the head of the same list, now one longer.
        static_cast<void>(headers.release());
        headers.reset(appended);
    }
    Transfer transfer{.request = request};
    std::array<char, CURL_ERROR_SIZE> detail{};
    CURL* h = handle.get();
    curl_easy_setopt(h, CURLOPT_SHARE, pool_->share.get());
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    if (request.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
        // UPLOAD is a PUT; CUSTOMREQUEST makes it a POST or PATCH with the same streamed body.
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                         static_cast<curl_off_t>(request.body_fd >= 0 ? request.body_size
                                                                      : request.body.size()));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_callback);
        curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    // Many threads use curl: no signals (and no SIGALRM-based DNS timeouts).
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        h, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::chrono::milliseconds(options_.connect_timeout).count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kBufferSize);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail.data());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &header_callback);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_callback);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    const CURLcode code = curl_easy_perform(h);
    pool_->give_back(std::move(handle));
    if (transfer.failure) {
        return std::move(*transfer.failure);
    }
    if (code != CURLE_OK) {
        return transport_error(code, detail.data(), request);
    }
    return std::move(transfer.response);
}

}  // namespace grove::registry
