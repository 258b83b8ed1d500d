#include "cni/process_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace knode::cni {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A close-on-exec pipe whose ends are above the standard fds (so dup2 onto 0-2 never aliases them).
bool make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  for (int& f : p) {
    if (f <= 2) {
      int g = ::fcntl(f, F_DUPFD_CLOEXEC, 3);
      ::close(f);
      if (g < 0) return false;
      f = g;
    }
  }
  r.reset(p[0]);
  w.reset(p[1]);
  return true;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Closes every fd >= 3 except `keep` (async-signal-safe; for the child after fork).
void close_other_fds(int keep) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u) == 0 &&
      ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) {
    return;
  }
#endif
  long max = ::sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

[[noreturn]] void child(const char* path, char* const argv[], char* const envp[], int in, int out, int err,
                        int report) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);  // ignored signals survive exec
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
    int e = errno;
    (void)!::write(report, &e, sizeof e);
    ::_exit(127);
  }
  close_other_fds(report);
  ::execve(path, argv, envp);
  int e = errno;
  (void)!::write(report, &e, sizeof e);
  ::_exit(127);
}

// Blocks SIGPIPE for this thread while it writes to a child's stdin; discards one raised meanwhile.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{};
      while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// Reads what is available; false at EOF or on error (the fd is then done).
bool drain(int fd, std::string& into) {
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

}  // namespace

Result<std::string> ProcessExecutor::find_plugin(std::string_view type, const std::vector<std::string>& dirs) {
  std::string searched;
  for (const auto& d : dirs) {
    if (d.empty()) continue;
    searched += (searched.empty() ? "" : " ") + d;
    std::string p = d + "/" + std::string(type);
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return Error("failed to find plugin \"" + std::string(type) + "\" in path [" + searched + "]");
}

Result<ExecOutput> ProcessExecutor::run(const ExecRequest& req) {
  // Environment: ours without any CNI_* (an outer invocation's must not leak), then the request's.
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "CNI_", 4) != 0) env_store.emplace_back(*e);
  }
  for (const auto& e : req.env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string path = req.path;
  char* argv[] = {path.data(), nullptr};

  Fd in_r, in_w, out_r, out_w, err_r, err_w, rep_r, rep_w;
  if (!make_pipe(in_r, in_w) || !make_pipe(out_r, out_w) || !make_pipe(err_r, err_w) ||
      !make_pipe(rep_r, rep_w)) {
    return Error(std::string("creating pipes: ") + std::strerror(errno));
  }
  SigpipeGuard sigpipe;
  pid_t pid = ::fork();
  if (pid < 0) return Error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) child(path.c_str(), argv, envp.data(), in_r.get(), out_w.get(), err_w.get(), rep_w.get());
  ::setpgid(pid, pid);  // also from here, so the group exists before any kill
  in_r.reset();
  out_w.reset();
  err_w.reset();
  rep_w.reset();

  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(rep_r.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Error("exec " + path + ": " + std::strerror(exec_errno));
  }

  ExecOutput out;
  Fd pidfd;
#ifdef SYS_pidfd_open
  pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#endif
  set_nonblocking(in_w.get());
  set_nonblocking(out_r.get());
  set_nonblocking(err_r.get());
  size_t written = 0;
  if (req.stdin_data.empty()) in_w.reset();
  const auto deadline = Clock::now() + req.timeout;
  bool exited = false;
  int status = 0;

  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      out.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[4];
    int n = 0;
    int i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
    if (in_w) fds[i_in = n++] = {in_w.get(), POLLOUT, 0};
    if (out_r) fds[i_out = n++] = {out_r.get(), POLLIN, 0};
    if (err_r) fds[i_err = n++] = {err_r.get(), POLLIN, 0};
    if (pidfd) fds[i_pid = n++] = {pidfd.get(), POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<long long>(left, pidfd ? left : 10));
    int r = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (i_in >= 0 && fds[i_in].revents) {
      ssize_t w = ::write(in_w.get(), req.stdin_data.data() + written, req.stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == req.stdin_data.size() ||
          (fds[i_in].revents & (POLLERR | POLLHUP))) {
        in_w.reset();  // done, or the child closed its stdin (EPIPE)
      }
    }
    if (i_out >= 0 && fds[i_out].revents && !drain(out_r.get(), out.stdout_data)) out_r.reset();
    if (i_err >= 0 && fds[i_err].revents && !drain(err_r.get(), out.stderr_data)) err_r.reset();
    bool check_exit = pidfd ? (i_pid >= 0 && fds[i_pid].revents) : true;
    if (check_exit) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) exited = true;
    }
  }
  if (!exited) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // What the child wrote before it ended is in the pipes; a descendant may still hold them open,
  // so read what is there without waiting for EOF.
  if (out_r) drain(out_r.get(), out.stdout_data);
  if (err_r) drain(err_r.get(), out.stderr_data);
  if (!out.timed_out) {
    if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out.term_signal = WTERMSIG(status);
  }
  return out;
}

}  // namespace knode::cni
