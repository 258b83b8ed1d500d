// ProcessExecutor with small shell-script plugins: pipes, environment, fds, exit codes, signals, timeouts.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>

#include "cni/process_executor.h"
#include "cni_test_util.h"

using namespace knode::cni;
using knode::cni::testing::read_file;
using knode::cni::testing::TempDir;
using knode::cni::testing::write_file;
using namespace std::chrono_literals;

namespace {

ExecOutput run_script(const TempDir& d, const std::string& body, std::string stdin_data = {},
                      std::chrono::milliseconds timeout = 5s, std::vector<std::string> env = {"CNI_COMMAND=ADD"}) {
  write_file(d / "plugin", "#!/bin/sh\n" + body + "\n", true);
  ProcessExecutor exec;
  auto out = exec.run({.path = d / "plugin", .env = env, .stdin_data = std::move(stdin_data), .timeout = timeout});
  REQUIRE(out.ok());
  return *out;
}

// Gone, or a zombie waiting for a reaper (no longer running).
bool process_gone(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

TEST_CASE("stdin reaches the plugin and stdout, stderr and the exit code come back", "[cni][exec]") {
  TempDir d;
  auto out = run_script(d, "cat; echo oops >&2; exit 3", R"({"cniVersion":"1.0.0"})");
  CHECK(out.stdout_data == R"({"cniVersion":"1.0.0"})");
  CHECK(out.stderr_data == "oops\n");
  CHECK(out.exit_code == 3);
  CHECK_FALSE(out.success());
}

TEST_CASE("large stdin and stdout flow without deadlock", "[cni][exec]") {
  TempDir d;
  std::string big(300000, 'x');
  auto out = run_script(d, "cat", big);
  CHECK(out.stdout_data.size() == big.size());
  CHECK(out.success());
}

TEST_CASE("a plugin that ignores stdin does not hurt the caller (no SIGPIPE)", "[cni][exec]") {
  TempDir d;
  auto out = run_script(d, "echo done", std::string(1 << 20, 'y'));
  CHECK(out.stdout_data == "done\n");
  CHECK(out.success());
}

TEST_CASE("the environment is ours without CNI_*, plus the request's", "[cni][exec]") {
  TempDir d;
  ::setenv("CNI_NETNS", "/leaked", 1);
  ::setenv("KNODE_TEST_MARK", "kept", 1);
  auto out = run_script(d, R"(echo "$CNI_COMMAND|${CNI_NETNS-unset}|$KNODE_TEST_MARK|$PATH")", {}, 5s,
                        {"CNI_COMMAND=DEL"});
  ::unsetenv("CNI_NETNS");
  ::unsetenv("KNODE_TEST_MARK");
  CHECK_THAT(out.stdout_data, Catch::StartsWith("DEL|unset|kept|"));
  CHECK(out.stdout_data.size() > std::string("DEL|unset|kept|\n").size());  // PATH is passed on
}

TEST_CASE("no fd of the caller leaks into the plugin; signals are reset", "[cni][exec]") {
  TempDir d;
  int fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  REQUIRE(::dup2(fd, 57) == 57);
  ::close(fd);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &block, &old);
  // The shell reads its own mask with builtins only (it blocks signals around fork, so no child).
  auto out = run_script(d, R"([ -e /proc/$$/fd/57 ] && echo leaked
while read k v; do [ "$k" = SigBlk: ] && echo "SigBlk:$v"; done < /proc/$$/status)");
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(57);
  CHECK_THAT(out.stdout_data, !Catch::Contains("leaked"));
  CHECK_THAT(out.stdout_data, Catch::Contains("SigBlk:0000000000000000"));
}

TEST_CASE("a crash is reported with its signal", "[cni][exec]") {
  TempDir d;
  auto out = run_script(d, "kill -SEGV $$");
  CHECK(out.term_signal == SIGSEGV);
  CHECK_FALSE(out.success());
}

TEST_CASE("a hung plugin is killed at the deadline with its whole process group", "[cni][exec]") {
  TempDir d;
  auto start = std::chrono::steady_clock::now();
  auto out = run_script(d, "sleep 30 & echo $! > " + (d / "child.pid") + "; wait", {}, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(out.timed_out);
  CHECK(took < 5s);
  pid_t child = std::atoi(read_file(d / "child.pid").c_str());
  REQUIRE(child > 0);
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = process_gone(child);
    if (!gone) ::usleep(20000);
  }
  CHECK(gone);
}

TEST_CASE("a background child holding stdout does not keep the caller waiting", "[cni][exec]") {
  TempDir d;
  auto start = std::chrono::steady_clock::now();
  auto out = run_script(d, "sleep 20 & echo $! > " + (d / "bg.pid") + "; echo done");
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(out.stdout_data == "done\n");
  CHECK(out.success());
  pid_t bg = std::atoi(read_file(d / "bg.pid").c_str());
  if (bg > 0) ::kill(bg, SIGKILL);
}

TEST_CASE("exec failures are errors; find_plugin searches the dirs in order", "[cni][exec]") {
  TempDir d;
  ProcessExecutor exec;
  write_file(d / "a/noexec", "#!/bin/sh\n");
  write_file(d / "b/noexec", "#!/bin/sh\n", true);
  write_file(d / "b/both", "#!/bin/sh\n", true);
  write_file(d / "c/both", "#!/bin/sh\n", true);
  auto p = exec.find_plugin("noexec", {d / "a", d / "b"});
  REQUIRE(p.ok());
  CHECK(*p == d / "b/noexec");
  CHECK(*exec.find_plugin("both", {d / "c", d / "b"}) == d / "c/both");
  auto missing = exec.find_plugin("nope", {d / "a", d / "b"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "failed to find plugin \"nope\" in path [" + (d / "a") + " " + (d / "b") + "]");
  auto r = exec.run({.path = d / "a/noexec"});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("Permission denied"));
}
