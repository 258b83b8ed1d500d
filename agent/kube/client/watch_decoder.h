// Incremental decoder for watch streams: newline-delimited JSON `{"type":...,"object":...}` events as
// the API server writes them, fed in whatever chunks the transport delivers. A line that is not a
// valid event yields an error naming what could still be read from it (kind, namespace/name) so the
// watch can be restarted with a useful log line.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "agent/base/result.h"

namespace knode::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };
std::string_view to_string(WatchEventType t);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  boost::json::value object;  // the object; for Error a metav1.Status
};

class WatchDecoder {
 public:
  using Sink = std::function<void(WatchEvent&&)>;
  explicit WatchDecoder(size_t max_line_bytes = 128u << 20);
  ~WatchDecoder();
  WatchDecoder(const WatchDecoder&) = delete;
  WatchDecoder& operator=(const WatchDecoder&) = delete;

  // Decodes every complete line in `bytes` (plus what was buffered) and hands each event to `sink`.
  // Returns the first decoding error; the decoder is then failed and ignores further input.
  Status feed(std::string_view bytes, const Sink& sink);
  // End of stream: an unterminated non-blank remainder is decoded as a last line.
  Status finish(const Sink& sink);
  bool failed() const { return failed_; }
  size_t buffered() const { return pending_.size(); }

  // Decodes one line (exposed for tests and benchmarks).
  Result<WatchEvent> decode_line(std::string_view line);

 private:
  struct Parser;
  Status process(std::string_view line, const Sink& sink);

  std::unique_ptr<Parser> parser_;
  std::string pending_;
  size_t max_line_bytes_;
  bool failed_ = false;
};

// Best-effort description of a (possibly malformed) JSON object text: `Pod default/web-1`,
// `Pod web-1`, or "" when nothing could be found. Used in error messages.
std::string describe_object_text(std::string_view text);
// The same for a parsed object.
std::string describe_object(const boost::json::value& obj);

}  // namespace knode::kube
