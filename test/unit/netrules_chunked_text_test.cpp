#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "netrules/chunked_text.h"
#include "netrules/exec.h"

using namespace knode::netrules;

TEST_CASE("chunked text keeps what was appended, in order, across heap and mapped chunks", "[netrules][chunked]") {
  ChunkedText t;
  CHECK(t.empty());
  std::string want;
  for (int i = 0; i < 60000; ++i) {  // ~1.7 MB: past the heap chunks into two mapped ones
    std::string line = "-A KUBE-SEP-" + std::to_string(i) + " -j DNAT\n";
    t += line;
    want += line;
    if (i % 1000 == 0) {
      t += '#';
      want += '#';
    }
  }
  CHECK(t.size() == want.size());
  CHECK(t.str() == want);
  std::vector<std::string_view> pieces;
  t.pieces(pieces);
  CHECK(pieces.size() >= 3);
  std::string joined;
  for (auto p : pieces) joined += p;
  CHECK(joined == want);
  // One append larger than a mapped chunk.
  const std::string big(3 * ChunkedText::kMappedChunk + 17, 'x');
  t += big;
  CHECK(t.size() == want.size() + big.size());
  CHECK(t.str().substr(want.size()) == big);
  ChunkedText moved = std::move(t);
  CHECK(t.empty());
  CHECK(moved.size() == want.size() + big.size());
  moved.clear();
  CHECK(moved.empty());
  CHECK(moved.str().empty());
}

TEST_CASE("a program gets its stdin in pieces and can hand its stdout over as it comes", "[netrules][exec]") {
  std::vector<std::string> parts{"alpha\n", "", std::string(200000, 'b'), "\ngamma\n"};
  ExecIo io;
  for (const auto& p : parts) io.stdin_pieces.push_back(p);
  std::string streamed;
  size_t calls = 0;
  io.on_stdout = [&](std::string_view s) {
    streamed += s;
    ++calls;
  };
  auto r = run_program_io({"cat"}, io);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out.empty());  // handed over, not collected
  CHECK(streamed == parts[0] + parts[2] + parts[3]);
  CHECK(calls >= 2);
  // Without a sink the output is collected; no pieces is an empty stdin.
  auto wc = run_program_io({"wc", "-c"}, ExecIo{});
  REQUIRE(wc.ok());
  CHECK(wc->out.find('0') != std::string::npos);
}
