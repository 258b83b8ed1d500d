#include "agent/kube/client/watch_decoder.h"

#include <boost/json/parser.hpp>

namespace knode::kube {

namespace json = boost::json;

std::string_view to_string(WatchEventType t) {
  switch (t) {
    case WatchEventType::Added: return "ADDED";
    case WatchEventType::Modified: return "MODIFIED";
    case WatchEventType::Deleted: return "DELETED";
    case WatchEventType::Bookmark: return "BOOKMARK";
    case WatchEventType::Error: return "ERROR";
  }
  return "?";
}

struct WatchDecoder::Parser {
  json::parser p;
};

WatchDecoder::WatchDecoder(size_t max_line_bytes)
    : parser_(std::make_unique<Parser>()), max_line_bytes_(max_line_bytes) {}
WatchDecoder::~WatchDecoder() = default;

namespace {

// Finds the string value of the first `"key": "value"` at or after `from`.
std::string find_string_field(std::string_view text, std::string_view key, size_t from = 0) {
  std::string needle = "\"" + std::string(key) + "\"";
  size_t pos = from;
  while ((pos = text.find(needle, pos)) != std::string_view::npos) {
    size_t i = pos + needle.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == ':') {
      ++i;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i < text.size() && text[i] == '"') {
        size_t end = i + 1;
        while (end < text.size() && text[end] != '"' && text[end] != '\\' && end - i < 254) ++end;
        if (end < text.size() && text[end] == '"') return std::string(text.substr(i + 1, end - i - 1));
      }
    }
    pos += needle.size();
  }
  return {};
}

std::string join_description(const std::string& kind, const std::string& ns, const std::string& name) {
  std::string out = kind;
  std::string ref = ns.empty() ? name : (name.empty() ? ns + "/?" : ns + "/" + name);
  if (!ref.empty()) {
    if (!out.empty()) out += " ";
    out += ref;
  }
  return out;
}

std::string snippet(std::string_view line) {
  constexpr size_t kMax = 120;
  std::string s;
  for (char c : line.substr(0, kMax)) s += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (line.size() > kMax) s += "...";
  return s;
}

const json::string* string_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

}  // namespace

std::string describe_object_text(std::string_view text) {
  std::string kind = find_string_field(text, "kind");
  size_t md = text.find("\"metadata\"");
  size_t from = md == std::string_view::npos ? 0 : md;
  std::string ns = find_string_field(text, "namespace", from);
  std::string name = find_string_field(text, "name", from);
  return join_description(kind, ns, name);
}

std::string describe_object(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o) return {};
  std::string kind, ns, name;
  if (auto* k = string_at(*o, "kind")) kind = *k;
  if (auto* m = o->if_contains("metadata"); m && m->is_object()) {
    if (auto* n = string_at(m->get_object(), "namespace")) ns = *n;
    if (auto* n = string_at(m->get_object(), "name")) name = *n;
  }
  return join_description(kind, ns, name);
}

Result<WatchEvent> WatchDecoder::decode_line(std::string_view line) {
  auto fail = [&](std::string what, const std::string& described) -> Error {
    std::string msg = "cannot decode watch event";
    if (!described.empty()) msg += " for " + described;
    msg += ": " + what + " (line: " + snippet(line) + ")";
    return Error(std::move(msg));
  };
  json::parser& p = parser_->p;
  p.reset();
  json::error_code ec;
  p.write(line.data(), line.size(), ec);
  if (ec) return fail("invalid JSON: " + ec.message(), describe_object_text(line));
  json::value v = p.release();
  json::object* o = v.if_object();
  if (!o) return fail("event is not a JSON object", "");
  json::value* obj = o->if_contains("object");
  const json::string* type = string_at(*o, "type");
  std::string described = obj ? describe_object(*obj) : std::string();
  if (!type) return fail("missing \"type\"", described);
  WatchEvent ev;
  if (*type == "ADDED") ev.type = WatchEventType::Added;
  else if (*type == "MODIFIED") ev.type = WatchEventType::Modified;
  else if (*type == "DELETED") ev.type = WatchEventType::Deleted;
  else if (*type == "BOOKMARK") ev.type = WatchEventType::Bookmark;
  else if (*type == "ERROR") ev.type = WatchEventType::Error;
  else return fail("unknown event type \"" + std::string(type->c_str()) + "\"", described);
  if (!obj || !obj->is_object()) return fail("\"object\" is missing or not an object", described);
  if (ev.type != WatchEventType::Error) {
    auto* md = obj->get_object().if_contains("metadata");
    if (!md || !md->is_object()) return fail("object has no metadata", described);
  }
  ev.object = std::move(*obj);
  return ev;
}

Status WatchDecoder::process(std::string_view line, const Sink& sink) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  if (line.empty()) return {};
  auto ev = decode_line(line);
  if (!ev) {
    failed_ = true;
    return ev.error();
  }
  sink(std::move(ev).value());
  return {};
}

Status WatchDecoder::feed(std::string_view data, const Sink& sink) {
  if (failed_) return Error("watch decoder already failed");
  while (!data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (pending_.size() + data.size() > max_line_bytes_) {
        failed_ = true;
        std::string head = pending_.substr(0, 4096);
        head.append(data.substr(0, 4096));
        std::string d = describe_object_text(head);
        return Error("cannot decode watch event" + (d.empty() ? std::string() : " for " + d) +
                     ": event larger than " + std::to_string(max_line_bytes_) + " bytes");
      }
      pending_.append(data);
      break;
    }
    Status st;
    if (pending_.empty()) {
      st = process(data.substr(0, nl), sink);
    } else {
      pending_.append(data.substr(0, nl));
      st = process(pending_, sink);
      pending_.clear();
    }
    if (!st) return st;
    data.remove_prefix(nl + 1);
  }
  return {};
}

Status WatchDecoder::finish(const Sink& sink) {
  if (failed_) return Error("watch decoder already failed");
  std::string rest = std::move(pending_);
  pending_.clear();
  return process(rest, sink);
}

}  // namespace knode::kube
