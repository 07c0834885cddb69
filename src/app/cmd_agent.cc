// `gantry agent`: the per-node metrics agent (src/agent) behind a minimal HTTP listener.
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "agent/agent.h"
#include "agent/http_listener.h"
#include "app/commands.h"

namespace gantry::app {

namespace {

struct AgentFlags {
  std::string listen = "0.0.0.0:9400";
  std::string nvml_library;
  std::string hostname;
  std::string procfs = "/proc", sysfs = "/sys", rootfs = "/";
  bool no_gpu = false;
  bool once = false;
  bool openmetrics = false;
};

void RunAgent(const AgentFlags& f) {
  agent::AgentOptions o;
  o.node = {f.procfs, f.sysfs, f.rootfs};
  o.gpu.library = f.nvml_library;
  if (o.gpu.library.empty()) {
    const char* env = std::getenv("GANTRY_NVML_LIBRARY");
    o.gpu.library = env && *env ? env : "libnvidia-ml.so.1";
  }
  o.gpu.hostname = f.hostname;
  if (o.gpu.hostname.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o.gpu.hostname = host;
  }
  o.gpu.procfs = f.procfs;
  o.gpu.xid_events = !f.once;
  o.gpu_enabled = !f.no_gpu;

  if (f.once) {
    agent::Agent a(std::move(o));
    std::fputs(a.Render(f.openmetrics ? agent::Format::kOpenMetrics : agent::Format::kText).c_str(),
               stdout);
    return;
  }
  size_t colon = f.listen.rfind(':');
  if (colon == std::string::npos) Fail(kExitUsage, "--listen must be HOST:PORT");
  std::string host = f.listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(f.listen.substr(colon + 1));
  } catch (const std::exception&) {
    Fail(kExitUsage, "--listen must be HOST:PORT");
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto listener = agent::HttpListener::Bind(host, port);
  if (!listener) Fail(kExitUnavailable, listener.error().message);
  agent::Agent a(std::move(o));
  spdlog::info("gantry agent listening on {}:{}; gpu collector: {}", host.empty() ? "0.0.0.0" : host,
               (*listener)->port(), a.gpu_status());
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop = true;
  });
  watcher.detach();
  const std::string gpu_status = a.gpu_status();
  (*listener)->Serve(
      [&](std::string_view path, std::string_view accept, agent::HttpAnswer& answer) {
        if (path == "/metrics") {
          agent::Format fmt = agent::NegotiateFormat(accept);
          answer.content_type = std::string(agent::ContentType(fmt));
          answer.body = a.Render(fmt);
        } else if (path == "/healthz") {
          answer.owned = "ok\ngpu collector: " + gpu_status + "\n";
        } else if (path == "/") {
          answer.owned = "gantry agent\nmetrics: /metrics\ngpu collector: " + gpu_status + "\n";
        } else {
          answer.status = 404;
          answer.owned = "not found\n";
        }
      },
      stop);
  spdlog::info("gantry agent stopped");
}

}  // namespace

void RegisterAgent(CLI::App& app) {
  auto flags = std::make_shared<AgentFlags>();
  CLI::App* cmd = app.add_subcommand(
      "agent",
      "Run the node metrics agent: GPU (NVML, dlopen'ed at run time; absent NVML is reported by\n"
      "gantry_agent_collector_up{collector=\"gpu\"} 0, not an error), CPU, memory, load, pressure,\n"
      "disks, filesystems and network, on GET /metrics in the Prometheus text format (OpenMetrics\n"
      "when the Accept header asks for it). GPU series use dcgm-exporter's names and labels; node\n"
      "series node-exporter's. See docs/monitoring.md.");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (IPv4)")->capture_default_str();
  cmd->add_option("--nvml-library", flags->nvml_library,
                  "path or soname of NVML (default: $GANTRY_NVML_LIBRARY, else libnvidia-ml.so.1)");
  cmd->add_option("--hostname", flags->hostname, "value of the Hostname label (default: gethostname)");
  cmd->add_option("--path.procfs", flags->procfs, "procfs mount point")->capture_default_str();
  cmd->add_option("--path.sysfs", flags->sysfs, "sysfs mount point")->capture_default_str();
  cmd->add_option("--path.rootfs", flags->rootfs, "root of the file systems to statfs")->capture_default_str();
  cmd->add_flag("--no-gpu", flags->no_gpu, "do not load NVML");
  cmd->add_flag("--once", flags->once, "print one scrape to stdout and exit");
  cmd->add_flag("--openmetrics", flags->openmetrics, "with --once: OpenMetrics instead of text");
  cmd->callback([flags] { RunAgent(*flags); });
}

}  // namespace gantry::app
