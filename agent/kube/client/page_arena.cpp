#include "agent/kube/client/page_arena.h"

#include <sys/mman.h>

#include <new>

namespace knode::kube {

namespace {
constexpr size_t kMaxBlock = 4u << 20;
size_t round_to_pages(size_t n) {
  constexpr size_t kPage = 4096;
  return (n + kPage - 1) / kPage * kPage;
}
}  // namespace

PageArena::~PageArena() {
  for (auto& [p, n] : blocks_) munmap(p, n);
}

size_t PageArena::mapped() const {
  std::lock_guard lk(mu_);
  size_t total = 0;
  for (auto& b : blocks_) total += b.second;
  return total;
}

void* PageArena::do_allocate(size_t n, size_t align) {
  std::lock_guard lk(mu_);
  auto fits = [&]() -> void* {
    if (!cur_) return nullptr;
    auto addr = reinterpret_cast<uintptr_t>(cur_);
    size_t pad = (align - addr % align) % align;
    if (pad + n > left_) return nullptr;
    void* p = cur_ + pad;
    cur_ += pad + n;
    left_ -= pad + n;
    return p;
  };
  if (void* p = fits()) return p;
  size_t size = round_to_pages(std::max(next_block_, n + align));
  void* block = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) throw std::bad_alloc();
  blocks_.emplace_back(block, size);
  next_block_ = std::min(next_block_ * 2, kMaxBlock);
  cur_ = static_cast<char*>(block);
  left_ = size;
  void* p = fits();
  if (!p) throw std::bad_alloc();  // not reached: the block was sized for it
  return p;
}

boost::json::storage_ptr make_page_arena() { return boost::json::make_shared_resource<PageArena>(); }

}  // namespace knode::kube
