// SIGTERM/SIGINT handling for the roles: block the signals in every thread (call block_shutdown_signals()
// first thing in main, before any thread starts) and wait for them where the role wants to.
#pragma once

#include <chrono>
#include <optional>

namespace knode {

void block_shutdown_signals();
// Waits up to `timeout` for SIGTERM or SIGINT; returns the signal number, or nullopt on timeout.
std::optional<int> wait_shutdown_signal(std::chrono::milliseconds timeout);

}  // namespace knode
