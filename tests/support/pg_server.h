// A throw-away PostgreSQL 15 server for tests: one per test process, started on first use and
// stopped when the process exits.
//
// Everything lives in /tmp/pgfix.XXXXXX (data dir, unix socket, logs); the server listens on
// 127.0.0.1 on a free port, with trust authentication, fsync off, and runs as the `postgres`
// user when the tests run as root. Start-up also removes the leftovers of test processes that
// died without stopping their server (their owner pid, in owner.pid, is gone).
//
// Stopping is registered with atexit(), so it works for GoogleTest and for plain programs
// alike; a forked child that calls exit() does not stop its parent's server.
#pragma once

#include <string>

namespace gantry::testing {

class PgServer {
 public:
  // The server of this process, started on the first call. Throws std::runtime_error when it
  // cannot be started (the message includes the server log).
  static PgServer& Get();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // CREATE DATABASE t_<pid>_<n>; returns its name. Thread-safe.
  std::string CreateDatabase();
  // postgres://postgres@127.0.0.1:PORT/DB
  std::string Url(const std::string& db) const;

  // SIGINT (fast shutdown), wait, remove the directory. Idempotent.
  void Stop();

 private:
  PgServer() = default;
  void Start();

  std::string dir_;
  int port_ = 0;
};

}  // namespace gantry::testing
