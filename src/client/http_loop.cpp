#include "client/http_loop.hpp"

#include <cerrno>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include <curl/curl.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "registry/status_error.hpp"

namespace grove::client {
namespace {

// One request in flight: its easy handle and what it collects.
struct Transfer {
    HttpRequest request;
    HttpLoop::Done done;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    HttpResponse response;
    char error[CURL_ERROR_SIZE] = {};

    ~Transfer() {
        curl_slist_free_all(headers);
        curl_easy_cleanup(easy);
    }
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::string_view chunk(data, size * count);
    if (transfer->request.on_body && transfer->response.status == 0) {
        curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &transfer->response.status);
    }
    // An error's body is kept whole, for http_error.
    if (transfer->request.on_body && transfer->response.status < 400) {
        transfer->request.on_body(chunk);
    } else {
        transfer->response.body.append(chunk);
    }
    return chunk.size();
}

// The next piece of a body read from HttpRequest::body_fd, in libcurl's buffer.
size_t on_read(char* buffer, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    for (;;) {
        const ssize_t got = ::read(transfer->request.body_fd, buffer, size * count);
        if (got >= 0) {
            return static_cast<size_t>(got);
        }
        if (errno != EINTR) {
            return CURL_READFUNC_ABORT;
        }
    }
}

}  // namespace

Error http_error(const HttpResponse& response) {
    // Without grove's body (a proxy answered, say), the status says what it can.
    Code code = registry::code_for_status(response.status);
    std::string message = fmt::format("groved answered {}", response.status);
    if (auto json = base::parse_json(response.body); json && json->is_object()) {
        if (const auto name = code_from_name(json->value("code", ""))) {
            code = *name;
        }
        message = json->value("error", message);
    }
    return Error(code, std::move(message));
}

struct HttpLoop::State {
    Endpoint endpoint;
    CURLM* multi = nullptr;
    std::mutex mutex;
    std::deque<std::unique_ptr<Transfer>> queued;                  // guarded by mutex
    bool stopping = false;                                         // guarded by mutex
    std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;  // the loop thread's
    std::thread thread;

    void start_transfer(std::unique_ptr<Transfer> transfer);
    void finish(CURL* easy, CURLcode code);
    void loop();
};

void HttpLoop::State::start_transfer(std::unique_ptr<Transfer> t) {
    t->easy = curl_easy_init();
    CURL* easy = t->easy;
    const std::string url = endpoint.base_url + t->request.path;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    if (!endpoint.unix_path.empty()) {
        curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, endpoint.unix_path.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, t->request.method.c_str());
    if (t->request.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    }
    if (t->request.method != "GET" && t->request.method != "HEAD" &&
        t->request.method != "DELETE") {
        if (t->request.body_fd >= 0) {
            curl_easy_setopt(easy, CURLOPT_POST, 1L);
            curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(easy, CURLOPT_READDATA, t.get());
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(t->request.body_size));
        } else {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->request.body.data());
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(t->request.body.size()));
        }
        t->headers =
            curl_slist_append(t->headers, ("Content-Type: " + t->request.content_type).c_str());
    }
    if (!endpoint.token.empty()) {
        t->headers =
            curl_slist_append(t->headers, ("Authorization: Bearer " + endpoint.token).c_str());
    }
    // libcurl would send "Expect: 100-continue" for large bodies and wait for an answer first.
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_multi_add_handle(multi, easy);
    running.emplace(easy, std::move(t));
}

void HttpLoop::State::finish(CURL* easy, CURLcode code) {
    auto node = running.extract(easy);
    curl_multi_remove_handle(multi, easy);
    std::unique_ptr<Transfer> t = std::move(node.mapped());
    if (code != CURLE_OK) {
        const std::string detail = t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
        const std::string where =
            endpoint.unix_path.empty() ? endpoint.base_url : "unix://" + endpoint.unix_path;
        const std::string listen =
            endpoint.unix_path.empty()
                ? "tcp://" + endpoint.base_url.substr(endpoint.base_url.find("://") + 3)
                : where;
        t->done(Error(Code::kUnavailable,
                      fmt::format("cannot reach groved at {}: is it running? start it with "
                                  "`groved --listen {}` ({})",
                                  where, listen, detail)));
        return;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
    t->done(std::move(t->response));
}

void HttpLoop::State::loop() {
    for (;;) {
        std::deque<std::unique_ptr<Transfer>> fresh;
        {
            std::lock_guard guard(mutex);
            if (stopping) {
                break;
            }
            fresh.swap(queued);
        }
        for (auto& transfer : fresh) {
            start_transfer(std::move(transfer));
        }
        int still_running = 0;
        curl_multi_perform(multi, &still_running);
        int left = 0;
        while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
            if (message->msg == CURLMSG_DONE) {
                finish(message->easy_handle, message->data.result);
            }
        }
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& [easy, transfer] : running) {
        curl_multi_remove_handle(multi, easy);
        transfer->done(Error(Code::kCancelled, "the client was closed"));
    }
    running.clear();
    std::deque<std::unique_ptr<Transfer>> unstarted;
    {
        std::lock_guard guard(mutex);
        unstarted.swap(queued);
    }
    for (auto& transfer : unstarted) {
        transfer->done(Error(Code::kCancelled, "the client was closed"));
    }
}

HttpLoop::HttpLoop(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<HttpLoop>> HttpLoop::start(Endpoint endpoint) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    auto state = std::make_unique<State>();
    state->endpoint = std::move(endpoint);
    state->multi = curl_multi_init();
    if (state->multi == nullptr) {
        return base::make_error(Code::kInternal, "curl_multi_init failed");
    }
    State* raw = state.get();
    state->thread = std::thread([raw] { raw->loop(); });
    return std::unique_ptr<HttpLoop>(new HttpLoop(std::move(state)));
}

HttpLoop::~HttpLoop() {
    {
        std::lock_guard guard(state_->mutex);
        state_->stopping = true;
    }
    curl_multi_wakeup(state_->multi);
    state_->thread.join();
    curl_multi_cleanup(state_->multi);
}

void HttpLoop::submit(HttpRequest request, Done done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    {
        std::lock_guard guard(state_->mutex);
        state_->queued.push_back(std::move(transfer));
    }
    curl_multi_wakeup(state_->multi);
}

Result<HttpResponse> HttpLoop::call(HttpRequest request) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    auto future = promise->get_future();
    submit(std::move(request),
           [promise](Result<HttpResponse> response) { promise->set_value(std::move(response)); });
    auto response = future.get();
    GROVE_TRY(response);
    if (response->status >= 400) {
        return http_error(*response);
    }
    return response;
}

}  // namespace grove::client
