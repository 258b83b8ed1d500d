// component-base's LoggingConfiguration (logs/api/v1), embedded as `logging` in both the
// KubeletConfiguration and the KubeProxyConfiguration: fields, defaults, validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/base/result.h"
#include "config/duration.h"
#include "config/field_flags.h"
#include "config/quantity.h"

namespace YAML {
class Node;
}

namespace knode::config {

struct DecodeState;
struct Tree;

// flushFrequency: a Go duration string ("5s") or an integer number of nanoseconds; printed back
// in the form it was given (upstream's TimeOrMetaDuration).
struct FlushFrequency {
  Duration duration;
  bool as_string = false;
};

struct VModuleItem {
  std::string file_pattern;  // filePattern
  uint32_t verbosity = 0;
};

struct OutputRoutingOptions {
  bool split_stream = false;  // splitStream
  Quantity info_buffer_size;  // infoBufferSize
};

struct FormatOptions {
  OutputRoutingOptions text;
  OutputRoutingOptions json;
};

struct LoggingConfiguration {
  std::string format;  // "text" | "json"
  FlushFrequency flush_frequency;
  uint32_t verbosity = 0;
  std::vector<VModuleItem> vmodule;
  FormatOptions options;
};

// SetRecommendedLoggingConfiguration: format "text", flushFrequency 5s.
void set_logging_defaults(LoggingConfiguration& c);
// Errors name the field under `prefix` (e.g. "logging.format").
Status validate_logging(const LoggingConfiguration& c, std::string_view prefix);
// The agent's logger settings from the configuration.
log::Options to_log_options(const LoggingConfiguration& c);
// "pattern=N,..." as --vmodule takes it.
std::string vmodule_string(const std::vector<VModuleItem>& items);
Result<std::vector<VModuleItem>> parse_vmodule(std::string_view s);

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, FlushFrequency& out);
Tree encode_node(const FlushFrequency& v);
inline bool is_empty_value(const FlushFrequency&) { return false; }

template <class V>
void visit_fields(V& v, VModuleItem& x) {
  v("filePattern", x.file_pattern, kAlways);
  v("verbosity", x.verbosity, kAlways);
}
template <class V>
void visit_fields(V& v, OutputRoutingOptions& x) {
  v("splitStream", x.split_stream);
  v("infoBufferSize", x.info_buffer_size);
}
template <class V>
void visit_fields(V& v, FormatOptions& x) {
  v("text", x.text);
  v("json", x.json);
}
template <class V>
void visit_fields(V& v, LoggingConfiguration& x) {
  v("format", x.format);
  v("flushFrequency", x.flush_frequency, kAlways);
  v("verbosity", x.verbosity, kAlways);
  v("vmodule", x.vmodule);
  v("options", x.options);
}

}  // namespace knode::config
