// Logging in klog's formats (text: `I1127 18:36:40.123456    1234 file.cpp:42] "msg" key="value"`,
// or JSON), with -v levels and --vmodule, as the upstream components log.
//
//   log::info("Starting kubelet", "version", v);
//   log::error("Sync failed", err, "pod", ref);
//   if (log::V(4)) log::info("Relist done", "pods", n);
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "agent/base/result.h"

namespace knode::log {

enum class Severity { Info, Warning, Error, Fatal };
enum class Format { Text, Json };

struct Options {
  int verbosity = 0;           // -v / --v
  std::string vmodule;         // --vmodule=pattern=N,...
  Format format = Format::Text;  // --logging-format=text|json
};

// Applies options; returns an error naming the bad --vmodule entry.
Status configure(const Options& options);
// Where lines go (default stderr). Tests capture output with a callback.
using Sink = void (*)(std::string_view line, void* ctx);
void set_sink(Sink sink, void* ctx);
void reset_sink();

// A message with the call site captured implicitly.
struct Msg {
  std::string_view text;
  std::source_location loc;
  Msg(const char* t, std::source_location l = std::source_location::current()) : text(t), loc(l) {}
  Msg(std::string_view t, std::source_location l = std::source_location::current()) : text(t), loc(l) {}
  Msg(const std::string& t, std::source_location l = std::source_location::current()) : text(t), loc(l) {}
};

// One rendered key/value pair. Strings are quoted as klog does; numbers and booleans are bare.
struct Field {
  std::string key;
  std::string value;  // already rendered for text format
  bool quoted = false;
  std::string raw;    // unquoted value (for JSON)
};

namespace detail {
Field field(std::string_view key, std::string_view v);
Field field(std::string_view key, const char* v);
Field field(std::string_view key, const std::string& v);
Field field(std::string_view key, bool v);
Field field(std::string_view key, int64_t v);
Field field(std::string_view key, uint64_t v);
Field field(std::string_view key, double v);
Field field(std::string_view key, const Error& v);
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
Field field(std::string_view key, T v) {
  if constexpr (std::is_signed_v<T>) return field(key, static_cast<int64_t>(v));
  else return field(key, static_cast<uint64_t>(v));
}

inline void collect(std::vector<Field>&) {}
template <class V, class... Rest>
void collect(std::vector<Field>& out, std::string_view key, const V& v, const Rest&... rest) {
  out.push_back(field(key, v));
  collect(out, rest...);
}

bool enabled(int level, const std::source_location& loc);
void emit(Severity s, int level, const Msg& m, const Error* err, const std::vector<Field>& kv);
}  // namespace detail

// A verbosity gate: `if (log::V(2)) ...`.
class V {
 public:
  explicit V(int level, std::source_location loc = std::source_location::current())
      : level_(level), on_(detail::enabled(level, loc)) {}
  explicit operator bool() const { return on_; }
  int level() const { return level_; }

 private:
  int level_;
  bool on_;
};

template <class... KV>
void info(Msg m, const KV&... kv) {
  std::vector<Field> f;
  detail::collect(f, kv...);
  detail::emit(Severity::Info, 0, m, nullptr, f);
}
// info at verbosity `level`; printed only when enabled for the caller's file.
template <class... KV>
void infov(int level, Msg m, const KV&... kv) {
  if (!detail::enabled(level, m.loc)) return;
  std::vector<Field> f;
  detail::collect(f, kv...);
  detail::emit(Severity::Info, level, m, nullptr, f);
}
template <class... KV>
void warning(Msg m, const KV&... kv) {
  std::vector<Field> f;
  detail::collect(f, kv...);
  detail::emit(Severity::Warning, 0, m, nullptr, f);
}
template <class... KV>
void error(Msg m, const Error& err, const KV&... kv) {
  std::vector<Field> f;
  detail::collect(f, kv...);
  detail::emit(Severity::Error, 0, m, &err, f);
}
template <class... KV>
void error_msg(Msg m, const KV&... kv) {
  std::vector<Field> f;
  detail::collect(f, kv...);
  detail::emit(Severity::Error, 0, m, nullptr, f);
}

// Renders one text-format line (no trailing newline) for a given time; exposed for tests.
std::string format_text(Severity s, int64_t unix_micros, int pid, std::string_view file, int line,
                        std::string_view msg, const Error* err, const std::vector<Field>& kv);
std::string format_json(Severity s, int level, int64_t unix_micros, std::string_view file, int line,
                        std::string_view msg, const Error* err, const std::vector<Field>& kv);

}  // namespace knode::log
