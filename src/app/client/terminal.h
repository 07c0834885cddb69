// The process' terminal as the client commands see it: the streams they read and write, whether
// those are terminals, and prompting. Commands take an Io instead of touching std::cin/cout
// directly so tests can drive them with string streams.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "app/client/config.h"

namespace gantry::app::client {

struct Io {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool stdin_tty = false;   // prompts may turn echo off
  bool stdout_tty = false;  // progress bars redraw one line
  EnvLookup env;

  // std::cin/cout/cerr, isatty(0/1), the process environment.
  static Io Process();
};

// Columns of the terminal on stdout (TIOCGWINSZ, then $COLUMNS, then 80).
int TerminalWidth();

// Reads one line from io.in without its line ending; nullopt at end of input.
std::optional<std::string> ReadLine(const Io& io);

// Writes `prompt` to io.err and reads a line. When io.in is the terminal, echo is turned off
// while typing and restored afterwards (also on Ctrl-C).
std::optional<std::string> ReadSecret(const Io& io, std::string_view prompt);

}  // namespace gantry::app::client
