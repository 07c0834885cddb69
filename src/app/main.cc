// gantry: one binary, several roles — `serve` (control plane), `admin` (offline administration
// on the database), and the client commands that talk to a server over its REST API.
#include <spdlog/spdlog.h>

#include <iostream>

#include "app/commands.h"
#include "core/error.h"

namespace gantry::app {

void Fail(int code, const std::string& message) {
  std::cerr << "gantry: " << message << "\n";
  throw CLI::RuntimeError(code);
}

}  // namespace gantry::app

int main(int argc, char** argv) {
  CLI::App app{
      "Gantry — operations platform for GPU clusters.\n\n"
      "  gantry serve ...        run the control plane (API, portal, job workers)\n"
      "  gantry agent ...        the per-node metrics agent (GPU via NVML, CPU, memory, disks)\n"
      "  gantry admin ...        offline administration on the database (init, migrate, users,\n"
      "                          audit verify, backup)\n"
      "  gantry login|whoami|token|user|jobs|audit ...\n"
      "                          client commands against a running server\n\n"
      "Client commands read the server URL and token from --server/--token, the GANTRY_SERVER\n"
      "and GANTRY_TOKEN environment variables, or ~/.config/gantry/config.yaml (written by\n"
      "'gantry login').",
      "gantry"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gantry 0.1.0");
  gantry::app::RegisterServe(app);
  gantry::app::RegisterAdmin(app);
  gantry::app::RegisterAgent(app);
  gantry::app::RegisterClientCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (105, 106, ...) become our one usage code; RuntimeError carries ours.
    int rc = app.exit(e);
    return (rc == 0 || dynamic_cast<const CLI::RuntimeError*>(&e)) ? rc : gantry::app::kExitUsage;
  } catch (const gantry::core::ErrorException& e) {
    std::cerr << "gantry: " << e.what() << "\n";
    return gantry::app::kExitError;
  } catch (const std::exception& e) {
    std::cerr << "gantry: unexpected error: " << e.what() << "\n";
    return gantry::app::kExitError;
  }
  return 0;
}
