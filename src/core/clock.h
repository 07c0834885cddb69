// Time helpers. Gantry keeps time as int64 nanoseconds since the Unix epoch, UTC, and writes
// RFC 3339 on the wire. Clock is an interface so tests can drive time; SystemClock is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::core {

using UnixNanos = int64_t;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerMilli = 1'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixNanos Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixNanos Now() const override;
  static const SystemClock& Get();
};

// Test clock: starts at a fixed instant and moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixNanos start) : now_(start) {}
  UnixNanos Now() const override { return now_; }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  UnixNanos now_;
};

UnixNanos NowNanos();

// "2026-11-25T12:00:00.123Z" (millisecond precision, always UTC).
std::string FormatRfc3339(UnixNanos t);
// Accepts RFC 3339 with 'Z' or a numeric offset, optional fraction (up to nanoseconds).
Result<UnixNanos> ParseRfc3339(std::string_view s);

}  // namespace gantry::core
