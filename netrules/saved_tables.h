// iptables-save output as a full sync compares it with the desired rules: every chain's rules
// (the text after "-A CHAIN "), in order, and each table's chain order. Built from the output as
// it arrives, with nothing on the heap per rule: the rule texts go into append-only blocks mapped
// from the kernel, the chain index into an arena on such blocks; all of it is unmapped at once.
// At 10k Services x 10 endpoints the output is ~33 MB in ~330 000 rules; held as a string plus a
// string per rule it took ~80 MB more at the sync's peak, and its freed nodes were left between
// the syncer's long-lived state.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/base/result.h"

namespace knode::netrules {

// A std::pmr resource on anonymous mappings (blocks returned when the resource goes).
class MappedResource : public std::pmr::memory_resource {
 public:
  MappedResource() = default;
  ~MappedResource() override;
  MappedResource(const MappedResource&) = delete;
  MappedResource& operator=(const MappedResource&) = delete;
  size_t mapped() const { return mapped_; }

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
  size_t mapped_ = 0;
};

class SavedTables {
 public:
  class Chain {
   public:
    explicit Chain(std::pmr::memory_resource* r) : segments_(r) {}
    size_t size() const { return count_; }
    // Calls fn(rule) for each rule in order while fn returns true; false when fn stopped it.
    template <class F>
    bool each(F&& fn) const {
      for (std::string_view seg : segments_) {
        while (!seg.empty()) {
          size_t nl = seg.find('\n');
          if (!fn(seg.substr(0, nl))) return false;
          seg.remove_prefix(nl + 1);
        }
      }
      return true;
    }

   private:
    friend class SavedTables;
    std::pmr::vector<std::string_view> segments_;  // runs of '\n'-terminated rules (usually one)
    size_t count_ = 0;
  };

  SavedTables();
  SavedTables(const SavedTables&) = delete;
  SavedTables& operator=(const SavedTables&) = delete;

  // Feeds iptables-save output, split anywhere; finish() after the last piece.
  void feed(std::string_view piece);
  Status finish();

  const Chain* chain(std::string_view table, std::string_view chain) const;
  // The table's chains in the order iptables-save listed them (null for a table not listed).
  const std::pmr::vector<std::pmr::string>* order(std::string_view table) const;
  size_t rule_count() const { return rules_; }
  size_t mapped() const { return blocks_.mapped() + text_mapped_; }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct NameEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct Table {
    explicit Table(std::pmr::memory_resource* r) : order(r), chains(r) {}
    std::pmr::vector<std::pmr::string> order;
    std::pmr::unordered_map<std::pmr::string, Chain, NameHash, NameEq> chains;
  };
  void line(std::string_view l);
  std::string_view store(std::string_view rule);  // copies "rule\n" into the text blocks
  void fail(std::string_view l, const char* why);

  MappedResource blocks_;
  std::pmr::monotonic_buffer_resource arena_{&blocks_};
  std::pmr::map<std::pmr::string, Table, std::less<>> tables_{&arena_};
  Table* table_ = nullptr;
  std::string partial_;  // a line split between two pieces
  // Rule text: append-only mapped blocks.
  struct Block {
    char* data;
    size_t size;
  };
  std::vector<Block> text_blocks_;
  size_t text_used_ = 0;  // in the last block
  size_t text_mapped_ = 0;
  std::string error_;
  size_t lineno_ = 0;
  size_t rules_ = 0;

 public:
  ~SavedTables();
};

}  // namespace knode::netrules
