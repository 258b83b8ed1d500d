// Timestamps as the API writes them: meta/v1 Time (RFC 3339, whole seconds, UTC) and Go's
// RFC3339Nano (config.seen annotation).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace knode::kubelet {

std::string rfc3339(int64_t unix_ns);       // "2026-11-27T20:41:00Z"; "" for 0
std::string rfc3339_nano(int64_t unix_ns);  // "2026-11-27T20:41:00.123456789Z" (trailing zeros cut)
int64_t unix_now_ns();

}  // namespace knode::kubelet
