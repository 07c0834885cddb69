// Temporary: the client commands are being written in src/app/client.
#include "app/commands.h"
namespace gantry::app {
void RegisterClientCommands(CLI::App&) {}
}  // namespace gantry::app
