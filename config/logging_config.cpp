#include "config/logging_config.h"

#include <charconv>

#include "config/yaml_decode.h"

namespace knode::config {

void set_logging_defaults(LoggingConfiguration& c) {
  if (c.format.empty()) c.format = "text";
  if (c.flush_frequency.duration.ns == 0) c.flush_frequency = {Duration::seconds(5), true};
}

Status validate_logging(const LoggingConfiguration& c, std::string_view prefix) {
  const std::string p(prefix);
  if (c.format != "text" && c.format != "json")
    return Error(p + ".format: Unsupported value: \"" + c.format + "\": supported values: \"json\", \"text\"");
  if (!c.vmodule.empty() && c.format != "text")
    return Error(p + ".vmodule: Forbidden: only supported for text log format");
  for (size_t i = 0; i < c.vmodule.size(); ++i) {
    const auto& item = c.vmodule[i];
    if (item.file_pattern.empty() || item.file_pattern.find_first_of(",=") != std::string::npos)
      return Error(p + ".vmodule[" + std::to_string(i) + "].filePattern: Invalid value: \"" + item.file_pattern +
                   "\": must not be empty or contain ',' or '='");
  }
  if (c.flush_frequency.duration.ns < 0)
    return Error(p + ".flushFrequency: Invalid value: \"" + format_duration(c.flush_frequency.duration) +
                 "\": must be greater than zero");
  return {};
}

std::string vmodule_string(const std::vector<VModuleItem>& items) {
  std::string s;
  for (const auto& i : items) {
    if (!s.empty()) s += ",";
    s += i.file_pattern + "=" + std::to_string(i.verbosity);
  }
  return s;
}

Result<std::vector<VModuleItem>> parse_vmodule(std::string_view s) {
  std::vector<VModuleItem> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Error("vmodule: expect comma-separated list of pattern=N, got \"" + std::string(part) + "\"");
    VModuleItem item{std::string(part.substr(0, eq)), 0};
    std::string_view n = part.substr(eq + 1);
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), item.verbosity);
    if (ec != std::errc() || p != n.data() + n.size() || n.empty())
      return Error("vmodule: parsing verbosity in \"" + std::string(part) + "\": invalid number");
    out.push_back(std::move(item));
  }
  return out;
}

log::Options to_log_options(const LoggingConfiguration& c) {
  log::Options o;
  o.verbosity = static_cast<int>(c.verbosity);
  o.vmodule = vmodule_string(c.vmodule);
  o.format = c.format == "json" ? log::Format::Json : log::Format::Text;
  return o;
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, FlushFrequency& out) {
  if (st.failed() || n.IsNull()) return;
  const ScalarKind k = scalar_kind(n);
  if (k == ScalarKind::Null) return;
  if (k == ScalarKind::Int) {
    int64_t ns = 0;
    decode_node(st, n, path, ns);
    if (!st.failed()) out = {Duration{ns}, false};
    return;
  }
  Duration d;
  decode_node(st, n, path, d);
  if (!st.failed()) out = {d, true};
}

Tree encode_node(const FlushFrequency& v) {
  if (v.as_string) return Tree::string(format_duration(v.duration));
  return Tree::literal(std::to_string(v.duration.ns));
}

}  // namespace knode::config
