// Text built by appending, kept in chunks rather than one growing string: the first 16 KiB on the
// heap, the rest in 1 MiB blocks mapped straight from the kernel. A full sync's payload at 10k
// Services x 10 endpoints is ~40 MB, written while the syncer's long-lived state is allocated:
// as one string it would double through reallocations (a 48 MB moment at 32 MB) and leave its
// pages interleaved with that state; as chunks it is written to iptables-restore piece by piece
// and unmapped whole.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace knode::netrules {

class ChunkedText {
 public:
  ChunkedText() = default;
  ~ChunkedText() { clear(); }
  ChunkedText(ChunkedText&& o) noexcept : chunks_(std::move(o.chunks_)), size_(o.size_) { o.size_ = 0; }
  ChunkedText& operator=(ChunkedText&& o) noexcept;
  ChunkedText(const ChunkedText&) = delete;
  ChunkedText& operator=(const ChunkedText&) = delete;

  ChunkedText& operator+=(std::string_view s);
  ChunkedText& operator+=(char c) { return *this += std::string_view(&c, 1); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Appends the chunks' contents, in order, to `out`.
  void pieces(std::vector<std::string_view>& out) const;
  std::string str() const;
  void clear();

  static constexpr size_t kHeapBytes = 16 * 1024;
  static constexpr size_t kMappedChunk = 1024 * 1024;

 private:
  struct Chunk {
    char* data = nullptr;
    size_t used = 0;
    size_t capacity = 0;
    bool mapped = false;
  };
  void grow(size_t at_least);
  std::vector<Chunk> chunks_;
  size_t size_ = 0;
};

}  // namespace knode::netrules
