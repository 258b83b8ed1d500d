#include "netrules/chunked_text.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace knode::netrules {

ChunkedText& ChunkedText::operator=(ChunkedText&& o) noexcept {
  if (this != &o) {
    clear();
    chunks_ = std::move(o.chunks_);
    size_ = o.size_;
    o.chunks_.clear();
    o.size_ = 0;
  }
  return *this;
}

void ChunkedText::grow(size_t at_least) {
  Chunk c;
  if (size_ + at_least <= kHeapBytes) {
    // Small texts (partial syncs) stay on the heap: a first chunk of 4 KiB, then doubling.
    c.capacity = std::max<size_t>({4096, at_least, chunks_.empty() ? 0 : chunks_.back().capacity * 2});
    c.capacity = std::min(c.capacity, std::max(kHeapBytes, at_least));
    c.data = new char[c.capacity];
  } else {
    c.capacity = (std::max(kMappedChunk, at_least) + 4095) / 4096 * 4096;
    void* p = mmap(nullptr, c.capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    c.data = static_cast<char*>(p);
    c.mapped = true;
  }
  chunks_.push_back(c);
}

ChunkedText& ChunkedText::operator+=(std::string_view s) {
  while (!s.empty()) {
    if (chunks_.empty() || chunks_.back().used == chunks_.back().capacity) grow(s.size());
    Chunk& c = chunks_.back();
    size_t n = std::min(s.size(), c.capacity - c.used);
    std::memcpy(c.data + c.used, s.data(), n);
    c.used += n;
    size_ += n;
    s.remove_prefix(n);
  }
  return *this;
}

void ChunkedText::pieces(std::vector<std::string_view>& out) const {
  for (const auto& c : chunks_)
    if (c.used) out.emplace_back(c.data, c.used);
}

std::string ChunkedText::str() const {
  std::string s;
  s.reserve(size_);
  for (const auto& c : chunks_) s.append(c.data, c.used);
  return s;
}

void ChunkedText::clear() {
  for (auto& c : chunks_) {
    if (c.mapped) munmap(c.data, c.capacity);
    else delete[] c.data;
  }
  chunks_.clear();
  size_ = 0;
}

}  // namespace knode::netrules
