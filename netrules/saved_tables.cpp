#include "netrules/saved_tables.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

#include <fmt/format.h>

namespace knode::netrules {

namespace {
constexpr size_t kTextBlock = 1 << 20;
size_t round_pages(size_t n) { return (n + 4095) / 4096 * 4096; }
void* map_bytes(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}
}  // namespace

MappedResource::~MappedResource() = default;

void* MappedResource::do_allocate(size_t bytes, size_t align) {
  // Page-aligned blocks: enough for any alignment a container asks for.
  (void)align;
  size_t n = round_pages(std::max<size_t>(bytes, 1));
  void* p = map_bytes(n);
  mapped_ += n;
  return p;
}

void MappedResource::do_deallocate(void* p, size_t bytes, size_t) {
  size_t n = round_pages(std::max<size_t>(bytes, 1));
  munmap(p, n);
  mapped_ -= n;
}

SavedTables::SavedTables() = default;

SavedTables::~SavedTables() {
  for (auto& b : text_blocks_) munmap(b.data, b.size);
}

void SavedTables::fail(std::string_view l, const char* why) {
  if (error_.empty()) error_ = fmt::format("line {}: {}: {}", lineno_, why, l.substr(0, 200));
}

std::string_view SavedTables::store(std::string_view rule) {
  const size_t need = rule.size() + 1;
  if (text_blocks_.empty() || text_used_ + need > text_blocks_.back().size) {
    size_t n = round_pages(std::max(kTextBlock, need));
    text_blocks_.push_back({static_cast<char*>(map_bytes(n)), n});
    text_mapped_ += n;
    text_used_ = 0;
  }
  char* at = text_blocks_.back().data + text_used_;
  std::memcpy(at, rule.data(), rule.size());
  at[rule.size()] = '\n';
  text_used_ += need;
  return {at, need};
}

void SavedTables::line(std::string_view l) {
  ++lineno_;
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
  if (l.empty() || l[0] == '#') return;
  if (l[0] == '[') {  // counters (iptables-save -c)
    size_t close = l.find("] ");
    if (close != std::string_view::npos) l.remove_prefix(close + 2);
  }
  if (l[0] == '*') {
    auto it = tables_.find(l.substr(1));
    if (it == tables_.end()) it = tables_.emplace(std::pmr::string(l.substr(1), &arena_), Table(&arena_)).first;
    table_ = &it->second;
    return;
  }
  if (l == "COMMIT") {
    table_ = nullptr;
    return;
  }
  if (!table_) return fail(l, "rule outside a table");
  if (l[0] == ':') {
    std::string_view name = l.substr(1, l.find(' ') == std::string_view::npos ? std::string_view::npos : l.find(' ') - 1);
    if (table_->chains.find(name) == table_->chains.end()) {
      table_->order.emplace_back(name);
      table_->chains.emplace(std::pmr::string(name, &arena_), Chain(&arena_));
    }
    return;
  }
  if (l.size() < 4 || l.substr(0, 3) != "-A ") return fail(l, "not a -A rule");
  std::string_view rest = l.substr(3);
  size_t sp = rest.find(' ');
  std::string_view chain = rest.substr(0, sp);
  std::string_view spec = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  auto it = table_->chains.find(chain);
  if (it == table_->chains.end()) return fail(l, "no chain by that name");
  Chain& c = it->second;
  std::string_view text = store(spec);
  // Contiguous with the chain's last run: extend it (iptables-save lists a chain's rules together).
  if (!c.segments_.empty() && c.segments_.back().data() + c.segments_.back().size() == text.data())
    c.segments_.back() = std::string_view(c.segments_.back().data(), c.segments_.back().size() + text.size());
  else
    c.segments_.push_back(text);
  ++c.count_;
  ++rules_;
}

void SavedTables::feed(std::string_view piece) {
  while (!piece.empty()) {
    size_t nl = piece.find('\n');
    if (nl == std::string_view::npos) {
      partial_ += piece;
      return;
    }
    if (partial_.empty()) {
      line(piece.substr(0, nl));
    } else {
      partial_ += piece.substr(0, nl);
      line(partial_);
      partial_.clear();
    }
    piece.remove_prefix(nl + 1);
  }
}

Status SavedTables::finish() {
  if (!partial_.empty()) {
    std::string last;
    last.swap(partial_);
    line(last);
  }
  if (!error_.empty()) return Error(error_);
  return Status::Ok();
}

const SavedTables::Chain* SavedTables::chain(std::string_view table, std::string_view name) const {
  auto t = tables_.find(table);
  if (t == tables_.end()) return nullptr;
  auto c = t->second.chains.find(name);
  return c == t->second.chains.end() ? nullptr : &c->second;
}

const std::pmr::vector<std::pmr::string>* SavedTables::order(std::string_view table) const {
  auto t = tables_.find(table);
  return t == tables_.end() ? nullptr : &t->second.order;
}

}  // namespace knode::netrules
