// Memory for one parsed LIST page: a boost::json memory resource that bump-allocates from blocks
// mapped straight from the kernel (not malloc's heap), released when the resource goes, that is
// when the last value of the page is freed (values hold a reference to their resource).
//
// At 10 000 EndpointSlices a page of 500 whole objects is several MiB of small nodes. Allocated
// from malloc they are interleaved with the caches' and trackers' long-lived entries made while
// the page is handled; once freed they leave pages that malloc can neither reuse well nor hand
// back. From here they leave nothing behind. Only for lists whose objects are not kept whole (a
// store with a retain function, handlers that copy what they need): one kept object keeps its
// whole page mapped.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include <boost/json/memory_resource.hpp>
#include <boost/json/storage_ptr.hpp>

namespace knode::kube {

class PageArena : public boost::json::memory_resource {
 public:
  explicit PageArena(size_t first_block = 256 * 1024) : next_block_(first_block) {}
  ~PageArena() override;
  PageArena(const PageArena&) = delete;
  PageArena& operator=(const PageArena&) = delete;

  size_t mapped() const;  // bytes mapped so far

 private:
  void* do_allocate(size_t n, size_t align) override;
  void do_deallocate(void*, size_t, size_t) override {}  // freed with the arena
  bool do_is_equal(const boost::json::memory_resource& other) const noexcept override { return this == &other; }

  mutable std::mutex mu_;  // a copy of a page value made on another thread allocates here too
  std::vector<std::pair<void*, size_t>> blocks_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t next_block_;
};

// A reference-counted PageArena for one page's parse.
boost::json::storage_ptr make_page_arena();

}  // namespace knode::kube
