#include "netrules/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace knode::netrules {

std::string netns_path(std::string_view name) { return fmt::format("/run/netns/{}", name); }

Result<ExecOutput> run_program(const std::vector<std::string>& argv, std::string_view stdin_data,
                               const std::string& netns) {
  ExecIo io;
  if (!stdin_data.empty()) io.stdin_pieces.push_back(stdin_data);
  return run_program_io(argv, io, netns);
}

Result<ExecOutput> run_program_io(const std::vector<std::string>& argv, const ExecIo& io, const std::string& netns) {
  if (argv.empty()) return Error("run_program: empty argv");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    return Error(fmt::format("pipe: {}", std::strerror(errno)));
  int ns_fd = -1;
  if (!netns.empty()) {
    ns_fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
      return Error(fmt::format("open netns {}: {}", netns, std::strerror(errno)));
    }
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) {
      dprintf(err[1], "setns %s: %s\n", netns.c_str(), std::strerror(errno));
      _exit(127);
    }
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvp(args[0], args.data());
    dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (ns_fd >= 0) close(ns_fd);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  ExecOutput res;
  size_t piece = 0, written = 0;  // the piece being written, and how much of it is
  auto skip_empty = [&] {
    while (piece < io.stdin_pieces.size() && written >= io.stdin_pieces[piece].size()) {
      ++piece;
      written = 0;
    }
  };
  skip_empty();
  int in_fd = in[1];
  if (piece >= io.stdin_pieces.size()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out[0], err_fd = err[0];
  char buf[65536];
  // Ignore SIGPIPE while writing to a child that may exit early.
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old);
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        const std::string_view data = io.stdin_pieces[piece];
        ssize_t w = write(in_fd, data.data() + written, data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) piece = io.stdin_pieces.size();  // the reader is gone
        skip_empty();
        if (piece >= io.stdin_pieces.size()) {
          close(in_fd);
          in_fd = -1;
        }
      } else {
        ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (r > 0) {
          if (fds[i].fd == out_fd && io.on_stdout) io.on_stdout(std::string_view(buf, static_cast<size_t>(r)));
          else (fds[i].fd == out_fd ? res.out : res.err).append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          close(fds[i].fd);
          (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
        }
      }
    }
  }
  sigaction(SIGPIPE, &old, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

}  // namespace knode::netrules
