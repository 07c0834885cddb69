// gantry jobs list | show | cancel | run | watch
#include <signal.h>

#include <charconv>

#include "app/client/commands.h"
#include "app/client/job_watcher.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

// Set by SIGINT while a job is watched; aborts the poll loop and any request in flight.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

// Routes Ctrl-C to g_interrupted for its lifetime: it stops the watching, not the job.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    struct sigaction sa = {};
    sa.sa_handler = &OnInterrupt;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_);
  }
  ~InterruptGuard() { ::sigaction(SIGINT, &old_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_ = {};
};

std::string Str(const json::value& job, std::string_view key) { return FieldText(job, key); }

std::string JobPath(int64_t id) { return "/api/v1/jobs/" + std::to_string(id); }

}  // namespace

// Follows job `id` until it ends. Exit 0 when it succeeded; otherwise Fail.
void WatchJob(Session& s, int64_t id) {
  InterruptGuard guard;
  // In -o json mode the progress goes to stderr and the final job to stdout.
  std::ostream& progress = s.json() ? s.err() : s.out();
  JobWatcher watcher(progress,
                     {.tty = !s.json() && s.io().stdout_tty, .terminal_width = TerminalWidth()});
  auto job = s.Check(watcher.Watch(s.api(), id, g_interrupted));
  if (g_interrupted.load()) {
    app::Fail(kExitInterrupted, "stopped watching job " + std::to_string(id) +
                                    "; it keeps running (stop it with 'gantry jobs cancel " +
                                    std::to_string(id) + "')");
  }
  if (s.json()) s.PrintJson(job);
  std::string state = Str(job, "state");
  if (state == "succeeded") return;
  std::string why = Str(job, "error");
  if (why == state) why.clear();  // "cancelled: cancelled"
  if (state == "cancelled") {
    app::Fail(kExitError,
              "job " + std::to_string(id) + " was cancelled" + (why.empty() ? "" : ": " + why));
  }
  app::Fail(kExitError, "job " + std::to_string(id) + " failed" + (why.empty() ? "" : ": " + why));
}

namespace {

std::unique_ptr<Session> OpenInterruptible(const GlobalFlags& flags, const Io& io) {
  return Session::Open(flags, io, {.cancel = &g_interrupted});
}

}  // namespace

// "key=value" → params[key]; a value that is a whole integer is sent as a JSON integer.
core::Result<json::object> ParseJobParams(const std::vector<std::string>& pairs) {
  json::object params;
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return core::InvalidArgument("--param '" + p + "' must look like key=value", "param");
    }
    std::string key = p.substr(0, eq);
    std::string_view value = std::string_view(p).substr(eq + 1);
    if (params.contains(key)) {
      return core::InvalidArgument("--param '" + key + "' is given twice", "param");
    }
    int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (!value.empty() && ec == std::errc() && end == value.data() + value.size()) {
      params[key] = n;
    } else {
      params[key] = value;
    }
  }
  return params;
}

namespace {

struct ListArgs {
  std::string state;
  std::string type;
  int limit = 0;
};

void JobsList(const GlobalFlags& flags, const ListArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!args.state.empty()) q.emplace_back("state", args.state);
  if (!args.type.empty()) q.emplace_back("type", args.type);
  if (args.limit > 0) q.emplace_back("limit", std::to_string(args.limit));
  auto list = s->Check(s->api().Get("/api/v1/jobs", q));
  if (s->json()) return s->PrintJson(list);
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) {
    s->Fail(core::Unavailable("unexpected answer from " + s->connection().server));
  }
  MakeTable(items->get_array(),
            {FieldColumn("ID", "id"),
             FieldColumn("TYPE", "type"),
             FieldColumn("STATE", "state"),
             {"PROGRESS", [](const json::object& j) { return FieldText(j, "progress") + "%"; }},
             FieldColumn("CREATED", "created_at"),
             FieldColumn("FINISHED", "finished_at"),
             FieldColumn("MESSAGE", "message")})
      .Print(s->out());
}

void JobsShow(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto job = s->Check(s->api().Get(JobPath(id)));
  if (s->json()) return s->PrintJson(job);
  PrintFields(s->out(),
              {{"ID", Str(job, "id")},
               {"TYPE", Str(job, "type")},
               {"STATE", Str(job, "state") +
                             (Str(job, "cancel_requested") == "true" ? " (cancel requested)" : "")},
               {"PROGRESS", Str(job, "progress") + "%"},
               {"MESSAGE", Str(job, "message")},
               {"ATTEMPTS", Str(job, "attempts") + "/" + Str(job, "max_attempts")},
               {"PARAMS", Str(job, "params")},
               {"RESULT", Str(job, "result")},
               {"ERROR", Str(job, "error")},
               {"TENANT", Str(job, "tenant")},
               {"CREATED BY", Str(job, "created_by")},
               {"CREATED", Str(job, "created_at")},
               {"STARTED", Str(job, "started_at")},
               {"FINISHED", Str(job, "finished_at")}});
  const auto* log = job.is_object() ? job.get_object().if_contains("log") : nullptr;
  s->out() << "\nLOG\n";
  if (!log || !log->is_array() || log->get_array().empty()) {
    s->out() << "(no log lines)\n";
    return;
  }
  for (const auto& l : log->get_array()) {
    s->out() << Str(l, "time") << "  " << Str(l, "line") << "\n";
  }
}

void JobsCancel(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto job = s->Check(s->api().Post(JobPath(id) + "/cancel", json::object()));
  if (s->json()) return s->PrintJson(job);
  s->out() << "Cancellation of job " << id << " requested (state: " << Str(job, "state") << ")\n";
}

struct RunArgs {
  std::string type;
  std::vector<std::string> params;
  bool watch = false;
};

void JobsRun(const GlobalFlags& flags, const RunArgs& args, const Io& io) {
  auto s = OpenInterruptible(flags, io);
  auto params = ParseJobParams(args.params);
  if (!params) app::Fail(kExitUsage, params.error().message);
  json::object body{{"type", args.type}};
  if (!params->empty()) body["params"] = std::move(*params);
  auto job = s->Check(s->api().Post("/api/v1/jobs", body));
  const json::value* id_value = job.is_object() ? job.get_object().if_contains("id") : nullptr;
  if (!id_value || !id_value->is_int64()) {
    s->Fail(core::Unavailable("unexpected answer from " + s->connection().server + ": no job id"));
  }
  int64_t id = id_value->get_int64();
  if (!args.watch) {
    if (s->json()) return s->PrintJson(job);
    s->out() << "Job " << id << " (" << args.type << ") queued; follow it with 'gantry jobs watch "
             << id << "'\n";
    return;
  }
  (s->json() ? s->err() : s->out()) << "Job " << id << " (" << args.type << ") queued\n";
  WatchJob(*s, id);
}

void JobsWatch(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = OpenInterruptible(flags, io);
  WatchJob(*s, id);
}

CLI::App* AddIdCommand(CLI::App* parent, const char* name, const char* help,
                       std::shared_ptr<GlobalFlags> flags, std::shared_ptr<int64_t> id) {
  auto* cmd = parent->add_subcommand(name, help);
  cmd->add_option("ID", *id, "Job id (see 'gantry jobs list')")
      ->required()
      ->check(CLI::PositiveNumber);
  AddGlobalFlags(cmd, *flags);
  return cmd;
}

}  // namespace

void RegisterJobCommands(CLI::App& app, IoPtr io) {
  auto* jobs = app.add_subcommand("jobs", "Run, follow and cancel background jobs");
  jobs->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<ListArgs>();
    auto* cmd = jobs->add_subcommand("list", "List jobs, newest first");
    cmd->add_option("--state", args->state, "Only jobs in this state")
        ->check(CLI::IsMember({"queued", "running", "succeeded", "failed", "cancelled"}));
    cmd->add_option("--type", args->type, "Only jobs of this type, e.g. demo.sleep");
    cmd->add_option("--limit", args->limit, "At most this many jobs (1-1000, default 100)")
        ->check(CLI::Range(1, 1000));
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n  gantry jobs list\n  gantry jobs list --state running\n"
        "  gantry jobs list --type demo.sleep --limit 5 -o json");
    cmd->callback([flags, args, io] { JobsList(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = AddIdCommand(jobs, "show", "Show a job with its last 200 log lines", flags, id);
    cmd->footer("Examples:\n  gantry jobs show 12\n  gantry jobs show 12 -o json");
    cmd->callback([flags, id, io] { JobsShow(*flags, *id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = AddIdCommand(
        jobs, "cancel", "Ask a queued or running job to stop; it ends as 'cancelled'", flags, id);
    cmd->footer("Examples:\n  gantry jobs cancel 12");
    cmd->callback([flags, id, io] { JobsCancel(*flags, *id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<RunArgs>();
    auto* cmd = jobs->add_subcommand("run", "Start a job of a registered type");
    cmd->add_option("TYPE", args->type, "Job type, e.g. demo.sleep or audit.checkpoint")
        ->required();
    cmd->add_option("-p,--param", args->params,
                    "Parameter key=value, repeatable; whole numbers are sent as integers");
    cmd->add_flag("-w,--watch", args->watch, "Follow the job until it ends (like 'jobs watch')");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry jobs run demo.sleep --param seconds=10 --watch\n"
        "  gantry jobs run audit.checkpoint\n\n"
        "With --watch the exit status is 0 when the job succeeds and 1 when it fails or is\n"
        "cancelled; Ctrl-C stops watching but not the job.");
    cmd->callback([flags, args, io] { JobsRun(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd =
        AddIdCommand(jobs, "watch", "Follow a job's progress and log until it ends", flags, id);
    cmd->footer(
        "Examples:\n"
        "  gantry jobs watch 12\n"
        "  gantry jobs watch 12 -o json   # progress on stderr, the final job on stdout\n\n"
        "On a terminal a progress bar is redrawn in place with new log lines above it; otherwise\n"
        "one line is printed per change. Exit status: 0 when the job succeeded, 1 when it failed\n"
        "or was cancelled, 130 after Ctrl-C (which stops watching, not the job).");
    cmd->callback([flags, id, io] { JobsWatch(*flags, *id, *io); });
  }
}

}  // namespace gantry::app::client
