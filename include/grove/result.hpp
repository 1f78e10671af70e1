#pragma once

// Result<T>: a value or an Error. Its API follows C++23 std::expected (has_value, value, error,
// operator*, operator->, value_or), so moving to std::expected later is a rename. One deliberate
// difference: an Error converts to a failed Result implicitly (`return Error{...};`), because
// grove never stores an Error as a successful value.
//
// Propagate with GROVE_TRY(expr) and GROVE_ASSIGN_OR_RETURN(lhs, expr), modelled on Abseil's
// status_macros.h.

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include <grove/error.hpp>

namespace grove {

namespace detail {
[[noreturn]] void bad_result_access(const Error& error);
[[noreturn]] void bad_error_access();
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
    static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use a pointer");
    static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

public:
    using value_type = T;

    Result() requires std::is_default_constructible_v<T> : state_(std::in_place_index<0>) {}
    template <typename U = T>
    requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(
        !std::is_same_v<std::remove_cvref_t<U>, Error>)Result(U&& value)
        : state_(std::in_place_index<0>, std::forward<U>(value)) {}            // NOLINT
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        check_value();
        return std::get<0>(state_);
    }
    const T& value() const& {
        check_value();
        return std::get<0>(state_);
    }
    T&& value() && {
        check_value();
        return std::get<0>(std::move(state_));
    }

    const Error& error() const& {
        check_error();
        return std::get<1>(state_);
    }
    Error&& error() && {
        check_error();
        return std::get<1>(std::move(state_));
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    template <typename U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
    }
    template <typename U>
    T value_or(U&& fallback) && {
        return has_value() ? std::get<0>(std::move(state_))
                           : static_cast<T>(std::forward<U>(fallback));
    }

    // On error, prepends `what` to the message; a value passes through untouched.
    Result context(std::string_view what) && {
        if (!has_value()) {
            std::get<1>(state_).add_context(what);
        }
        return std::move(*this);
    }

private:
    void check_value() const {
        if (!has_value()) {
            detail::bad_result_access(std::get<1>(state_));
        }
    }
    void check_error() const {
        if (has_value()) {
            detail::bad_error_access();
        }
    }

    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;

    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return has_value(); }
    void value() const {
        if (failed_) {
            detail::bad_result_access(error_);
        }
    }
    const Error& error() const& {
        if (!failed_) {
            detail::bad_error_access();
        }
        return error_;
    }
    Error&& error() && {
        if (!failed_) {
            detail::bad_error_access();
        }
        return std::move(error_);
    }
    Result context(std::string_view what) && {
        if (failed_) {
            error_.add_context(what);
        }
        return std::move(*this);
    }

private:
    Error error_{Code::kInternal, {}};
    bool failed_ = false;
};

}  // namespace grove

#define GROVE_CONCAT_INNER_(a, b) a##b
#define GROVE_CONCAT_(a, b) GROVE_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Result) from the enclosing function, which must return a Result.
// The temporary's name is unique per use, so a GROVE_TRY inside a lambda inside another
// GROVE_TRY does not shadow the outer one.
#define GROVE_TRY(expr) GROVE_TRY_IMPL_(GROVE_CONCAT_(grove_try_result_, __COUNTER__), expr)
#define GROVE_TRY_IMPL_(tmp, expr)         \
    do {                                   \
        auto tmp = (expr);                 \
        if (!tmp.has_value()) {            \
            return std::move(tmp).error(); \
        }                                  \
    } while (false)

// `GROVE_ASSIGN_OR_RETURN(auto fd, open_file(...));` declares or assigns lhs from a Result's value,
// or returns its error.
#define GROVE_ASSIGN_OR_RETURN(lhs, expr) \
    GROVE_ASSIGN_OR_RETURN_IMPL_(GROVE_CONCAT_(grove_result_, __COUNTER__), lhs, expr)
#define GROVE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                               \
    if (!tmp.has_value()) {                          \
        return std::move(tmp).error();               \
    }                                                \
    lhs = std::move(tmp).value()
