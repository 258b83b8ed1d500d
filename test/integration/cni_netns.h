// Helpers for the cni integration tests (root): network namespaces the test creates and removes, a
// "host" namespace the plugins run in (so bridges and iptables rules never touch the real host), shell.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace knode::cni::testing {

struct ShellResult {
  int rc = -1;
  std::string out;  // stdout and stderr
};

inline ShellResult sh(const std::string& cmd) {
  ShellResult r;
  FILE* p = ::popen(("exec 2>&1; " + cmd).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline bool is_root() { return ::geteuid() == 0; }

// A named network namespace, deleted (with any process still in it) when it goes out of scope.
class Netns {
 public:
  explicit Netns(const std::string& tag) : name_("knt-cni-" + std::to_string(::getpid()) + "-" + tag) {
    sh("ip netns del " + name_ + " 2>/dev/null");
    auto r = sh("ip netns add " + name_ + " && ip -n " + name_ + " link set lo up");
    if (r.rc != 0) throw std::runtime_error("ip netns add " + name_ + ": " + r.out);
  }
  ~Netns() {
    // Only processes this test started live here; end them by pid before removing the namespace.
    sh("for p in $(ip netns pids " + name_ + "); do kill -9 $p; done; ip netns del " + name_);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }
  ShellResult exec(const std::string& cmd) const { return sh("ip netns exec " + name_ + " " + cmd); }

 private:
  std::string name_;
};

// Moves this (single-threaded) test process into `ns` and back when it goes out of scope; the plugins
// it starts meanwhile run there.
class EnterNetns {
 public:
  explicit EnterNetns(const Netns& ns) {
    saved_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = ::open(ns.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (saved_ < 0 || fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("setns into " + ns.name() + " failed");
    }
    ::close(fd);
  }
  ~EnterNetns() {
    ::setns(saved_, CLONE_NEWNET);
    ::close(saved_);
  }
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;

 private:
  int saved_ = -1;
};

// A background process started in a namespace, killed by pid when it goes out of scope.
class Background {
 public:
  Background(const Netns& ns, const std::string& cmd) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", ("exec ip netns exec " + ns.name() + " " + cmd).c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  pid_t pid_ = -1;
};

}  // namespace knode::cni::testing
