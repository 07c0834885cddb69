#include "app/tests/client_test_util.h"

#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "app/client/commands.h"
#include "app/commands.h"

namespace gantry::app {

namespace {
// Where Fail writes while RunCli runs; std::cerr otherwise.
std::ostream* g_fail_stream = nullptr;
}  // namespace

// The binary's main.cc defines Fail; the tests link the client library without it.
void Fail(int code, const std::string& message) {
  (g_fail_stream ? *g_fail_stream : std::cerr) << "gantry: " << message << "\n";
  throw CLI::RuntimeError(code);
}

namespace testing {

client::EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/gantry-client-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CliResult RunCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out, err;
  auto io = std::make_shared<client::Io>();
  io->in = &in;
  io->out = &out;
  io->err = &err;
  io->env = MapEnv(env);

  CLI::App app{"gantry (test)", "gantry"};
  app.require_subcommand(1);
  client::RegisterCommands(app, io);
  std::vector<const char*> argv = {"gantry"};
  for (const auto& a : args) argv.push_back(a.c_str());

  CliResult result;
  g_fail_stream = &err;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::RuntimeError& e) {
    result.exit_code = e.get_exit_code();  // from Fail
  } catch (const CLI::ParseError& e) {
    // As main() does: CLI11's own parse errors (bad flags or arguments) exit with kExitUsage.
    result.exit_code = e.get_exit_code() == 0 ? 0 : kExitUsage;
    err << "usage: " << e.what() << "\n";
  }
  g_fail_stream = nullptr;
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace testing
}  // namespace gantry::app
