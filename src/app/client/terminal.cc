#include "app/client/terminal.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace gantry::app::client {

namespace {

// Saved terminal state, restored by the SIGINT handler if the user gives up at the prompt.
struct termios g_saved_termios;

extern "C" void RestoreTerminalAndDie(int sig) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  if (::write(STDERR_FILENO, "\n", 1) < 0) {
    // Nothing to do: the process is about to end.
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Turns echo off on stdin for its lifetime.
class NoEcho {
 public:
  NoEcho() {
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct sigaction sa = {};
    sa.sa_handler = &RestoreTerminalAndDie;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    if (!active_) Restore();
  }
  ~NoEcho() {
    if (active_) Restore();
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  void Restore() {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

  bool active_ = false;
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

}  // namespace

Io Io::Process() {
  Io io;
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.stdin_tty = ::isatty(STDIN_FILENO) == 1;
  io.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
  io.env = ProcessEnv();
  return io;
}

int TerminalWidth() {
  struct winsize ws = {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* cols = std::getenv("COLUMNS")) {
    int n = 0;
    std::string_view s(cols);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && n > 0) return n;
  }
  return 80;
}

std::optional<std::string> ReadLine(const Io& io) {
  std::string line;
  if (!std::getline(*io.in, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> ReadSecret(const Io& io, std::string_view prompt) {
  *io.err << prompt << std::flush;
  if (!io.stdin_tty) return ReadLine(io);
  NoEcho no_echo;
  return ReadLine(io);
}

}  // namespace gantry::app::client
