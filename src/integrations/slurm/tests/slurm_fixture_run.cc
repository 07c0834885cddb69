// Starts the test Slurm (tests/support/slurm_fixture.h) by hand and keeps it up until Enter,
// end of input or Ctrl-C; then stops it and removes its temp dir. Prints the environment to use:
//   build/src/integrations/slurm/tests/slurm_fixture_run [NODES]
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "support/slurm_fixture.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  gantry::testing::SlurmFixtureOptions options;
  if (argc > 1) options.nodes = std::atoi(argv[1]);
  try {
    gantry::testing::SlurmFixture slurm(options);
    std::cout << "Slurm is up after " << slurm.startup_time().count() << " ms in " << slurm.dir()
              << " (cluster '" << slurm.cluster() << "', " << options.nodes
              << " nodes with gres gpu:" << options.gpu_type << ":" << options.gpus_per_node
              << "). In another shell:\n";
    for (const auto& [k, v] : slurm.env()) std::cout << "  export " << k << "='" << v << "'\n";
    std::cout << "Press Enter (or Ctrl-C) to stop." << std::endl;
    struct sigaction sa = {};
    sa.sa_handler = OnSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    char c;
    while (!g_stop) {
      ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n == 0 || (n == 1 && c == '\n')) break;
    }
    std::cout << "stopping..." << std::endl;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
