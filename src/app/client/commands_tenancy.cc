// gantry tenant list|show|create|delete|slurm-jobs, tenant member add|remove|list,
// gantry project list|create, gantry quota show|set|reserve|release|sync
#include "app/client/commands.h"
#include "app/client/quantity.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

std::string TenantPath(const std::string& tenant) {
  return "/api/v1/tenants/" + PathSegment(tenant);
}

const json::array& ItemsOf(const Session& s, const json::value& list) {
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) {
    s.Fail(core::Unavailable("unexpected answer from " + s.connection().server));
  }
  return items->get_array();
}

// PUT with a JSON body (ApiClient has Get/Post/Patch/Delete; quotas are set with PUT).
core::Result<json::value> Put(ApiClient& api, std::string_view path, const json::value& body) {
  std::string text = core::ToJson(body);
  GANTRY_TRY(auto answer, api.Send("PUT", path, {}, &text));
  if (answer.status < 200 || answer.status >= 300) {
    return ErrorFromResponse(answer.status, answer.body, answer.request_id);
  }
  auto parsed = core::ParseJson(answer.body);
  if (!parsed) return core::Unavailable("the answer from " + api.server() + " is not JSON");
  return *parsed;
}

// A quantity cell: "-" for null, units for memory and storage.
std::string Amount(const json::object& row, std::string_view key) {
  const auto* v = row.if_contains(key);
  if (!v || !v->is_int64()) return "";
  return FormatQuantity(FieldText(row, "resource"), v->get_int64());
}

Column AmountColumn(std::string header, std::string key) {
  return {std::move(header), [key](const json::object& row) { return Amount(row, key); }};
}

// ---- tenants --------------------------------------------------------------------------------

void TenantList(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().GetAll("/api/v1/tenants", {}));
  if (s->json()) return s->PrintJson(list);
  MakeTable(ItemsOf(*s, list), {FieldColumn("ID", "id"), FieldColumn("SLUG", "slug"),
                                FieldColumn("NAME", "name"), FieldColumn("COHORT", "cohort"),
                                FieldColumn("DISABLED", "disabled"),
                                FieldColumn("CREATED", "created_at")})
      .Print(s->out());
}

void TenantShow(const GlobalFlags& flags, const std::string& tenant, const Io& io) {
  auto s = Session::Open(flags, io);
  auto t = s->Check(s->api().Get(TenantPath(tenant)));
  auto projects = s->Check(s->api().Get(TenantPath(tenant) + "/projects"));
  if (s->json()) {
    json::object o = t.is_object() ? t.get_object() : json::object();
    o["projects"] = ItemsOf(*s, projects);
    return s->PrintJson(o);
  }
  std::string names;
  for (const auto& p : ItemsOf(*s, projects)) {
    names += (names.empty() ? "" : ", ") + FieldText(p, "slug");
  }
  PrintFields(s->out(), {{"ID", FieldText(t, "id")},
                         {"SLUG", FieldText(t, "slug")},
                         {"NAME", FieldText(t, "name")},
                         {"COHORT", FieldText(t, "cohort")},
                         {"DISABLED", FieldText(t, "disabled")},
                         {"PROJECTS", names},
                         {"CREATED", FieldText(t, "created_at")},
                         {"UPDATED", FieldText(t, "updated_at")}});
}

struct CreateArgs {
  std::string tenant, slug, name, cohort;
};

void TenantCreate(const GlobalFlags& flags, const CreateArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"slug", a.slug}};
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.cohort.empty()) body["cohort"] = a.cohort;
  auto t = s->Check(s->api().Post("/api/v1/tenants", body));
  if (s->json()) return s->PrintJson(t);
  s->out() << "Tenant " << FieldText(t, "slug") << " created (id " << FieldText(t, "id") << ")\n";
}

void TenantDelete(const GlobalFlags& flags, const std::string& tenant, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete(TenantPath(tenant)));
  if (s->json()) return s->PrintJson(json::object{{"deleted", tenant}});
  s->out() << "Tenant " << Sanitize(tenant) << " deleted\n";
}

struct MemberArgs {
  std::string tenant, user, role = "tenant-member";
};

void MemberAdd(const GlobalFlags& flags, const MemberArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  auto m = s->Check(s->api().Post(TenantPath(a.tenant) + "/members",
                                  json::object{{"user", a.user}, {"role", a.role}}));
  if (s->json()) return s->PrintJson(m);
  s->out() << FieldText(m, "username") << " is " << FieldText(m, "role") << " of "
           << Sanitize(a.tenant) << "\n";
}

void MemberRemove(const GlobalFlags& flags, const MemberArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete(TenantPath(a.tenant) + "/members/" + PathSegment(a.user)));
  if (s->json()) return s->PrintJson(json::object{{"removed", a.user}});
  s->out() << Sanitize(a.user) << " removed from " << Sanitize(a.tenant) << "\n";
}

void MemberList(const GlobalFlags& flags, const std::string& tenant, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get(TenantPath(tenant) + "/members"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(ItemsOf(*s, list), {FieldColumn("USER", "username"), FieldColumn("ROLE", "role"),
                                FieldColumn("SINCE", "created_at")})
      .Print(s->out());
}

// ---- projects -------------------------------------------------------------------------------

void ProjectList(const GlobalFlags& flags, const std::string& tenant, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get(TenantPath(tenant) + "/projects"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(ItemsOf(*s, list), {FieldColumn("ID", "id"), FieldColumn("SLUG", "slug"),
                                FieldColumn("NAME", "name"), FieldColumn("CREATED", "created_at")})
      .Print(s->out());
}

void ProjectCreate(const GlobalFlags& flags, const CreateArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"slug", a.slug}};
  if (!a.name.empty()) body["name"] = a.name;
  auto p = s->Check(s->api().Post(TenantPath(a.tenant) + "/projects", body));
  if (s->json()) return s->PrintJson(p);
  s->out() << "Project " << FieldText(p, "slug") << " created in " << FieldText(p, "tenant")
           << " (id " << FieldText(p, "id") << ")\n";
}

// ---- quotas ---------------------------------------------------------------------------------

void QuotaShow(const GlobalFlags& flags, const std::string& tenant, const std::string& project,
               const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!project.empty()) q.emplace_back("project", project);
  auto list = s->Check(s->api().Get(TenantPath(tenant) + "/quotas", q));
  if (s->json()) return s->PrintJson(list);
  json::array tenant_rows, project_rows;
  for (const auto& row : ItemsOf(*s, list)) {
    bool is_project = row.is_object() && row.get_object().contains("project") &&
                      !row.get_object().at("project").is_null();
    (is_project && project.empty() ? project_rows : tenant_rows).push_back(row);
  }
  std::vector<Column> cols = {FieldColumn("RESOURCE", "resource"),
                              AmountColumn("GUARANTEED", "guaranteed"),
                              AmountColumn("BURST", "burst"),
                              AmountColumn("RESERVED", "reserved"),
                              AmountColumn("BORROWED", "borrowed"),
                              AmountColumn("LENT", "lent")};
  if (tenant_rows.empty() && project_rows.empty()) {
    s->out() << "No quotas set for " << Sanitize(tenant)
             << (project.empty() ? "" : " project " + Sanitize(project)) << "\n";
    return;
  }
  MakeTable(tenant_rows, cols).Print(s->out());
  if (!project_rows.empty()) {
    cols.insert(cols.begin(), FieldColumn("PROJECT", "project"));
    cols.pop_back();  // lending is a tenant-level notion
    s->out() << "\n";
    MakeTable(project_rows, cols).Print(s->out());
  }
}

// Sync status of the engines that enforce the quotas (GET /api/v1/tenancy/sync).
void QuotaSync(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get("/api/v1/tenancy/sync"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(ItemsOf(*s, list),
            {FieldColumn("ENGINE", "engine"), FieldColumn("ENABLED", "enabled"),
             FieldColumn("STATE", "state"),
             {"LAST JOB",
              [](const json::object& row) {
                const auto* last = row.if_contains("last");
                if (!last || !last->is_object()) return std::string();
                return FieldText(*last, "id") + " " + FieldText(*last, "state") + " " +
                       FieldText(*last, "finished_at");
              }},
             FieldColumn("REASON", "reason")})
      .Print(s->out());
}

// The tenant's Slurm jobs with Slurm's own pending reason (e.g. AssocGrpGRES: over the quota).
void TenantSlurmJobs(const GlobalFlags& flags, const std::string& tenant, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get(TenantPath(tenant) + "/slurm-jobs"));
  if (s->json()) return s->PrintJson(list);
  const auto& items = ItemsOf(*s, list);
  if (items.empty()) {
    s->out() << "No queued or running Slurm jobs for " << Sanitize(tenant) << "\n";
    return;
  }
  MakeTable(items, {FieldColumn("JOB", "job_id"), FieldColumn("ACCOUNT", "account"),
                    FieldColumn("PROJECT", "project"), FieldColumn("USER", "user"),
                    FieldColumn("STATE", "state"), FieldColumn("REASON", "reason"),
                    FieldColumn("TRES", "tres_per_node")})
      .Print(s->out());
}

struct SetArgs {
  std::string tenant, resource, guaranteed, burst, project;
  bool force = false;
};

void QuotaSet(const GlobalFlags& flags, const SetArgs& a, const Io& io) {
  auto guaranteed = ParseQuantity(a.resource, a.guaranteed);
  if (!guaranteed) app::Fail(kExitUsage, guaranteed.error().message);
  json::object body{{"resource", a.resource}, {"guaranteed", *guaranteed}};
  if (!a.burst.empty()) {
    auto burst = ParseQuantity(a.resource, a.burst);
    if (!burst) app::Fail(kExitUsage, burst.error().message);
    body["burst"] = *burst;
  }
  if (!a.project.empty()) body["project"] = a.project;
  if (a.force) body["force"] = true;
  auto s = Session::Open(flags, io);
  auto row = s->Check(Put(s->api(), TenantPath(a.tenant) + "/quotas", body));
  if (s->json()) return s->PrintJson(row);
  const json::object& o = row.is_object() ? row.get_object() : json::object();
  std::string burst = Amount(o, "burst");
  s->out() << "Quota of " << Sanitize(a.tenant)
           << (a.project.empty() ? "" : " project " + Sanitize(a.project)) << " for "
           << Sanitize(a.resource) << ": guaranteed " << Amount(o, "guaranteed")
           << (burst.empty() ? ", no burst" : ", burst " + burst) << "; reserved "
           << Amount(o, "reserved") << "\n";
}

struct ReserveArgs {
  std::string tenant, project, ref;
  std::vector<std::string> amounts;
};

void QuotaReserve(const GlobalFlags& flags, const ReserveArgs& a, const Io& io) {
  json::object resources;
  for (const auto& pair : a.amounts) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      app::Fail(kExitUsage, "'" + pair + "' must look like RESOURCE=AMOUNT, e.g. gpu/h100=4");
    }
    std::string resource = pair.substr(0, eq);
    if (resources.contains(resource)) app::Fail(kExitUsage, resource + " is given twice");
    auto amount = ParseQuantity(resource, std::string_view(pair).substr(eq + 1));
    if (!amount) app::Fail(kExitUsage, amount.error().message);
    resources[resource] = *amount;
  }
  json::object body{{"resources", resources}, {"ref", a.ref}};
  if (!a.project.empty()) body["project"] = a.project;
  auto s = Session::Open(flags, io);
  auto r = s->Check(s->api().Post(TenantPath(a.tenant) + "/reservations", body));
  if (s->json()) return s->PrintJson(r);
  std::string borrowed = FieldText(r, "borrowed");
  s->out() << "Reservation " << FieldText(r, "id") << " for " << Sanitize(a.ref) << " in "
           << FieldText(r, "tenant") << ": " << FieldText(r, "resources")
           << (borrowed == "{}" || borrowed.empty() ? "" : " (borrowed from the cohort: " + borrowed + ")")
           << "\n";
}

void QuotaRelease(const GlobalFlags& flags, const std::string& tenant, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto r = s->Check(s->api().Delete(TenantPath(tenant) + "/reservations/" + std::to_string(id)));
  if (s->json()) return s->PrintJson(r);
  s->out() << "Reservation " << id << " released\n";
}

// A sub-command taking TENANT as its only argument.
CLI::App* AddTenantCommand(CLI::App* parent, const char* name, const char* help,
                           std::shared_ptr<GlobalFlags> flags, std::shared_ptr<std::string> tenant) {
  auto* cmd = parent->add_subcommand(name, help);
  cmd->add_option("TENANT", *tenant, "Tenant slug or id")->required();
  AddGlobalFlags(cmd, *flags);
  return cmd;
}

void RegisterTenantCommands(CLI::App& app, IoPtr io) {
  auto* tenant = app.add_subcommand("tenant", "Tenants and their members");
  tenant->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = tenant->add_subcommand("list", "List the tenants you may see");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] { TenantList(*flags, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(tenant, "show", "Show a tenant and its projects", flags, t);
    cmd->callback([flags, t, io] { TenantShow(*flags, *t, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<CreateArgs>();
    auto* cmd = tenant->add_subcommand("create", "Create a tenant (admin)");
    cmd->add_option("SLUG", a->slug, "a-z, 0-9 and '-', starting with a letter")->required();
    cmd->add_option("--name", a->name, "Display name");
    cmd->add_option("--cohort", a->cohort, "Cohort whose members lend each other unused quota");
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry tenant create acme --name 'ACME Research' --cohort research");
    cmd->callback([flags, a, io] { TenantCreate(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(tenant, "delete",
                                 "Delete a tenant with its projects, members and quotas (admin)",
                                 flags, t);
    cmd->callback([flags, t, io] { TenantDelete(*flags, *t, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(tenant, "slurm-jobs",
                                 "The tenant's Slurm jobs with Slurm's own pending reason", flags, t);
    cmd->footer(
        "Examples:\n  gantry tenant slurm-jobs acme\n\n"
        "A job over its quota stays PENDING with the reason Slurm gives, e.g. AssocGrpGRES (the\n"
        "GPU limit of its account) or AssocGrpCpuLimit.");
    cmd->callback([flags, t, io] { TenantSlurmJobs(*flags, *t, *io); });
  }
  auto* member = tenant->add_subcommand("member", "Members of a tenant and their roles");
  member->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<MemberArgs>();
    auto* cmd = member->add_subcommand("add", "Add a member or change its role");
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("USER", a->user, "User name or id")->required();
    cmd->add_option("--role", a->role, "tenant-admin, tenant-member (default) or viewer")
        ->check(CLI::IsMember({"tenant-admin", "tenant-member", "viewer"}));
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry tenant member add acme alice --role tenant-admin");
    cmd->callback([flags, a, io] { MemberAdd(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<MemberArgs>();
    auto* cmd = member->add_subcommand("remove", "Remove a member");
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("USER", a->user, "User name or id")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { MemberRemove(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(member, "list", "List the members of a tenant", flags, t);
    cmd->callback([flags, t, io] { MemberList(*flags, *t, *io); });
  }
}

void RegisterProjectCommands(CLI::App& app, IoPtr io) {
  auto* project = app.add_subcommand("project", "Projects of a tenant");
  project->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(project, "list", "List the projects of a tenant", flags, t);
    cmd->callback([flags, t, io] { ProjectList(*flags, *t, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<CreateArgs>();
    auto* cmd = project->add_subcommand("create", "Create a project in a tenant (admin)");
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("SLUG", a->slug, "a-z, 0-9 and '-', starting with a letter")->required();
    cmd->add_option("--name", a->name, "Display name");
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry project create acme training --name 'Training runs'");
    cmd->callback([flags, a, io] { ProjectCreate(*flags, *a, *io); });
  }
}

void RegisterQuotaCommands(CLI::App& app, IoPtr io) {
  auto* quota = app.add_subcommand("quota", "Quotas, reservations and usage of tenants");
  quota->require_subcommand(1);
  quota->footer(
      "Resources: gpu/<model> (gpu/h100, gpu/a100, gpu/l40s, ...), mig/<profile> (mig/1g.10gb,\n"
      "mig/3g.40gb, ...), cpu (cores), memory and storage (bytes; units such as 512GiB or 2TB),\n"
      "nodes, instances.");
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto project = std::make_shared<std::string>();
    auto* cmd = AddTenantCommand(
        quota, "show", "Quota, reserved, borrowed and lent per resource of a tenant", flags, t);
    cmd->add_option("--project", *project, "Only this project's quotas");
    cmd->footer("Examples:\n  gantry quota show acme\n  gantry quota show acme --project training");
    cmd->callback([flags, t, project, io] { QuotaShow(*flags, *t, *project, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<SetArgs>();
    auto* cmd = quota->add_subcommand("set", "Set a quota of a tenant or of one of its projects (admin)");
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("RESOURCE", a->resource, "e.g. gpu/h100, mig/1g.10gb, cpu, memory")->required();
    cmd->add_option("GUARANTEED", a->guaranteed, "Guaranteed amount (memory/storage take units)")
        ->required();
    cmd->add_option("--burst", a->burst,
                    "Ceiling when borrowing unused quota of the cohort (none: no borrowing)");
    cmd->add_option("--project", a->project, "Set the quota of this project instead");
    cmd->add_flag("--force", a->force,
                  "Accept a quota below current usage (it then blocks new reservations only)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry quota set acme gpu/h100 16 --burst 32\n"
        "  gantry quota set acme memory 4TiB\n"
        "  gantry quota set acme gpu/h100 8 --project training");
    cmd->callback([flags, a, io] { QuotaSet(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ReserveArgs>();
    auto* cmd = quota->add_subcommand("reserve", "Reserve capacity for a piece of work (admission)");
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("AMOUNTS", a->amounts, "RESOURCE=AMOUNT, one or more")->required();
    cmd->add_option("--ref", a->ref, "The work's handle, e.g. slurm:12345")->required();
    cmd->add_option("--project", a->project, "Charge this project of the tenant");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry quota reserve acme gpu/h100=4 cpu=64 memory=512GiB --ref slurm:12345\n\n"
        "All amounts are reserved or none; when the quota is exhausted the command fails naming the\n"
        "resource, the amount requested, the amount reserved and the limit.");
    cmd->callback([flags, a, io] { QuotaReserve(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto t = std::make_shared<std::string>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = AddTenantCommand(quota, "release", "Release a reservation", flags, t);
    cmd->add_option("ID", *id, "Reservation id")->required()->check(CLI::PositiveNumber);
    cmd->callback([flags, t, id, io] { QuotaRelease(*flags, *t, *id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = quota->add_subcommand(
        "sync", "Sync status of the engines that enforce the quotas (Slurm, Kubernetes)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n  gantry quota sync\n\n"
        "STATE is in_sync, drift (Slurm, policy report), failing (REASON says why, e.g. the API\n"
        "server cannot be reached), pending or never. Operators and admins only.");
    cmd->callback([flags, io] { QuotaSync(*flags, *io); });
  }
}

}  // namespace

void RegisterTenancyCommands(CLI::App& app, IoPtr io) {
  RegisterTenantCommands(app, io);
  RegisterProjectCommands(app, io);
  RegisterQuotaCommands(app, io);
}

}  // namespace gantry::app::client
