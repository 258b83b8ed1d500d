#include "agent/base/log.h"

#include <fmt/format.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <fnmatch.h>
#include <mutex>

namespace knode::log {
namespace {

struct VmoduleRule {
  std::string pattern;  // glob over the file's base name without extension, or a path glob
  int level;
};

struct State {
  std::mutex mu;
  Options options;
  std::vector<VmoduleRule> rules;
  Sink sink = nullptr;
  void* sink_ctx = nullptr;
};

State& state() {
  static State* s = new State();  // never destroyed: logging stays usable during exit
  return *s;
}

std::atomic<int> g_verbosity{0};
std::atomic<bool> g_has_vmodule{false};
std::atomic<int> g_format{0};

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string module_name(std::string_view path) {
  std::string_view b = base_name(path);
  auto dot = b.find('.');
  return std::string(dot == std::string_view::npos ? b : b.substr(0, dot));
}

// Quotes a string: Go's strconv.Quote style for text lines (\xNN), JSON style (\u00NN) for JSON.
std::string quote_as(std::string_view s, bool json) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (!json && c == 0x7f)) out += json ? fmt::format("\\u{:04x}", c) : fmt::format("\\x{:02x}", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

std::string quote(std::string_view s) { return quote_as(s, false); }
std::string json_string(std::string_view s) { return quote_as(s, true); }

char severity_char(Severity s) {
  switch (s) {
    case Severity::Info: return 'I';
    case Severity::Warning: return 'W';
    case Severity::Error: return 'E';
    case Severity::Fatal: return 'F';
  }
  return 'I';
}

}  // namespace

Status configure(const Options& options) {
  std::vector<VmoduleRule> rules;
  std::string_view rest = options.vmodule;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Error(fmt::format("--vmodule: invalid entry {} (want pattern=N)", quote(item)));
    }
    std::string level_text(item.substr(eq + 1));
    char* end = nullptr;
    long level = std::strtol(level_text.c_str(), &end, 10);
    if (level_text.empty() || *end != '\0' || level < 0) {
      return Error(fmt::format("--vmodule: invalid level {} in {}", quote(level_text), quote(item)));
    }
    rules.push_back({std::string(item.substr(0, eq)), static_cast<int>(level)});
  }
  if (options.verbosity < 0) return Error(fmt::format("-v: invalid level {}", options.verbosity));
  State& s = state();
  std::lock_guard lock(s.mu);
  s.options = options;
  s.rules = std::move(rules);
  g_verbosity = options.verbosity;
  g_has_vmodule = !s.rules.empty();
  g_format = options.format == Format::Json ? 1 : 0;
  return Status::Ok();
}

void set_sink(Sink sink, void* ctx) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.sink = sink;
  s.sink_ctx = ctx;
}

void reset_sink() { set_sink(nullptr, nullptr); }

namespace detail {

Field field(std::string_view key, std::string_view v) {
  return {std::string(key), quote(v), true, std::string(v)};
}
Field field(std::string_view key, const char* v) { return field(key, std::string_view(v ? v : "")); }
Field field(std::string_view key, const std::string& v) { return field(key, std::string_view(v)); }
Field field(std::string_view key, bool v) {
  return {std::string(key), v ? "true" : "false", false, v ? "true" : "false"};
}
Field field(std::string_view key, int64_t v) {
  auto s = std::to_string(v);
  return {std::string(key), s, false, s};
}
Field field(std::string_view key, uint64_t v) {
  auto s = std::to_string(v);
  return {std::string(key), s, false, s};
}
Field field(std::string_view key, double v) {
  auto s = fmt::format("{}", v);
  return {std::string(key), s, false, s};
}
Field field(std::string_view key, const Error& v) { return field(key, std::string_view(v.message())); }

bool enabled(int level, const std::source_location& loc) {
  if (level <= g_verbosity.load(std::memory_order_relaxed)) return true;
  if (!g_has_vmodule.load(std::memory_order_relaxed)) return false;
  State& s = state();
  std::lock_guard lock(s.mu);
  std::string mod = module_name(loc.file_name());
  for (const auto& r : s.rules) {
    bool match = r.pattern.find('/') != std::string::npos
                     ? fnmatch(r.pattern.c_str(), loc.file_name(), 0) == 0
                     : fnmatch(r.pattern.c_str(), mod.c_str(), 0) == 0;
    if (match) return level <= r.level;
  }
  return false;
}

void emit(Severity sev, int level, const Msg& m, const Error* err, const std::vector<Field>& kv) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  int64_t micros = static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
  std::string line = g_format.load() == 1
                         ? format_json(sev, level, micros, base_name(m.loc.file_name()),
                                       static_cast<int>(m.loc.line()), m.text, err, kv)
                         : format_text(sev, micros, static_cast<int>(getpid()),
                                       base_name(m.loc.file_name()), static_cast<int>(m.loc.line()),
                                       m.text, err, kv);
  State& s = state();
  std::lock_guard lock(s.mu);
  if (s.sink) {
    s.sink(line, s.sink_ctx);
    return;
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace detail

std::string format_text(Severity s, int64_t unix_micros, int pid, std::string_view file, int line,
                        std::string_view msg, const Error* err, const std::vector<Field>& kv) {
  time_t secs = static_cast<time_t>(unix_micros / 1000000);
  tm t{};
  localtime_r(&secs, &t);
  std::string out = fmt::format("{}{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} {}:{}] {}", severity_char(s),
                                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                                unix_micros % 1000000, pid, file, line, quote(msg));
  if (err) {
    out += " err=";
    out += quote(err->message());
  }
  for (const auto& f : kv) {
    out.push_back(' ');
    out += f.key;
    out.push_back('=');
    out += f.value;
  }
  return out;
}

std::string format_json(Severity s, int level, int64_t unix_micros, std::string_view file, int line,
                        std::string_view msg, const Error* err, const std::vector<Field>& kv) {
  std::string out = fmt::format("{{\"ts\":{}.{:06},\"caller\":{},\"msg\":{}", unix_micros / 1000000,
                                unix_micros % 1000000, json_string(fmt::format("{}:{}", file, line)),
                                json_string(msg));
  if (s != Severity::Error && s != Severity::Fatal) out += fmt::format(",\"v\":{}", level);
  if (err) out += ",\"err\":" + json_string(err->message());
  for (const auto& f : kv) {
    out += "," + json_string(f.key) + ":";
    out += f.quoted ? json_string(f.raw) : f.raw;
  }
  out += "}";
  return out;
}

}  // namespace knode::log
