//===- flashjit/status.h - errors and fallible results ----------*- C++ -*-===//
//
// flashjit reports failure by value: an `Error` carries a message that names
// what was wrong, and `Expected<T>` is a T or an Error. No exceptions cross
// the API.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_STATUS_H
#define FLASHJIT_STATUS_H

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace flashjit {

/// A failure and its message.
class Error {
public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const std::string &message() const { return message_; }

private:
  std::string message_;
};

/// A value of type T, or the Error that prevented it.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : state_(std::move(value)) {}
  Expected(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T &value() & {
    assert(ok() && "value() of a failed Expected");
    return std::get<T>(state_);
  }
  const T &value() const & {
    assert(ok() && "value() of a failed Expected");
    return std::get<T>(state_);
  }
  T &&value() && {
    assert(ok() && "value() of a failed Expected");
    return std::get<T>(std::move(state_));
  }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }

  const Error &error() const {
    assert(!ok() && "error() of a successful Expected");
    return std::get<Error>(state_);
  }

private:
  std::variant<T, Error> state_;
};

} // namespace flashjit

#endif // FLASHJIT_STATUS_H
