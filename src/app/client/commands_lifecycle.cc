// gantry node list|show|add|delete|commission|deploy|release|rescue|maintenance|mark-broken,
// gantry inventory --list|--host NAME, gantry image list|add|delete, gantry template list|show|put|render
#include <fstream>
#include <sstream>

#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

CLI::App* NodeGroup(CLI::App& app) {
  // `node` is shared with the hardware commands (power, boot, ...): whoever comes first makes it.
  try {
    return app.get_subcommand("node");
  } catch (const CLI::OptionNotFound&) {
  }
  auto* g = app.add_subcommand("node", "Bare-metal nodes: lifecycle (commission, deploy, release, rescue) and hardware");
  g->require_subcommand(1);
  return g;
}

namespace {

std::string NodePath(const std::string& node) { return "/api/v1/nodes/" + PathSegment(node); }

const json::array& Items(const Session& s, const json::value& list) {
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) s.Fail(core::Unavailable("unexpected answer from " + s.connection().server));
  return items->get_array();
}

std::vector<Column> NodeColumns() {
  return {FieldColumn("NAME", "name"), FieldColumn("MAC", "mac"), FieldColumn("STATE", "state"),
          FieldColumn("OPERATION", "operation"), FieldColumn("JOB", "job_id"), FieldColumn("IP", "last_ip"),
          FieldColumn("REASON", "reason")};
}

void NodeList(const GlobalFlags& flags, const std::string& state, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!state.empty()) q.emplace_back("state", state);
  auto list = s->Check(s->api().GetAll("/api/v1/nodes", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), NodeColumns()).Print(s->out());
}

void NodeShow(const GlobalFlags& flags, const std::string& node, const Io& io) {
  auto s = Session::Open(flags, io);
  auto n = s->Check(s->api().Get(NodePath(node)));
  if (s->json()) return s->PrintJson(n);
  PrintFields(s->out(), {{"NAME", FieldText(n, "name")},
                         {"MAC", FieldText(n, "mac")},
                         {"STATE", FieldText(n, "state")},
                         {"OPERATION", FieldText(n, "operation")},
                         {"JOB", FieldText(n, "job_id")},
                         {"DEADLINE", FieldText(n, "deadline")},
                         {"IP", FieldText(n, "ip")},
                         {"LAST IP", FieldText(n, "last_ip")},
                         {"BMC", FieldText(n, "bmc")},
                         {"REASON", FieldText(n, "reason")},
                         {"HARDWARE", FieldText(n, "hardware")},
                         {"UPDATED", FieldText(n, "updated_at")}});
}

struct OpArgs {
  std::string node, image, tmpl;
  std::vector<std::string> vars;
  int64_t timeout_s = 0;
  bool wait = false;
};

void NodeOperation(const GlobalFlags& flags, const std::string& op, const OpArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body;
  if (!a.image.empty()) body["image"] = a.image;
  if (!a.tmpl.empty()) body["template"] = a.tmpl;
  if (!a.vars.empty()) body["vars"] = s->Check(ParseJobParams(a.vars));
  if (a.timeout_s > 0) body["timeout_s"] = a.timeout_s;
  auto n = s->Check(s->api().Post(NodePath(a.node) + "/" + op, body));
  int64_t job = n.is_object() && n.get_object().contains("job_id") && n.get_object().at("job_id").is_int64()
                    ? n.get_object().at("job_id").get_int64() : 0;
  if (a.wait && job > 0) {
    if (!s->json()) s->out() << "Node " << FieldText(n, "name") << " is " << FieldText(n, "state") << " (job " << job << ")\n";
    WatchJob(*s, job);
    if (!s->json()) {
      auto after = s->Check(s->api().Get(NodePath(a.node)));
      s->out() << "Node " << FieldText(after, "name") << " is " << FieldText(after, "state") << "\n";
    }
    return;
  }
  if (s->json()) return s->PrintJson(n);
  s->out() << "Node " << FieldText(n, "name") << " is " << FieldText(n, "state") << " (job " << job
           << "; follow it with 'gantry jobs watch " << job << "')\n";
}

void AddOperation(CLI::App* node, const std::string& op, const std::string& help, IoPtr io) {
  auto flags = std::make_shared<GlobalFlags>();
  auto a = std::make_shared<OpArgs>();
  auto* cmd = node->add_subcommand(op, help);
  cmd->add_option("NODE", a->node, "Node name, MAC or id")->required();
  cmd->add_option("--image", a->image, "Image to boot (default: the server's configured one)");
  if (op == "deploy") {
    cmd->add_option("--template", a->tmpl, "Install template to render (default gantry-script)");
    cmd->add_option("--var", a->vars, "Template variable key=value (repeatable): disk, disk_layout, gpu_driver, ...");
  }
  cmd->add_option("--deadline", a->timeout_s, "Seconds the node has to call back (default: the server's --op-timeout)")
      ->check(CLI::Range(1, 86400));
  cmd->add_flag("-w,--wait", a->wait, "Follow the job until the node reaches its next state");
  AddGlobalFlags(cmd, *flags);
  cmd->callback([flags, a, op, io] { NodeOperation(*flags, op, *a, *io); });
}

void RegisterNodeCommands(CLI::App& app, IoPtr io) {
  CLI::App* node = NodeGroup(app);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto state = std::make_shared<std::string>();
    auto* cmd = node->add_subcommand("list", "List nodes and their lifecycle state");
    cmd->add_option("--state", *state, "Only nodes in this state");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, state, io] { NodeList(*flags, *state, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto n = std::make_shared<std::string>();
    auto* cmd = node->add_subcommand("show", "One node: state, operation, reason, hardware");
    cmd->add_option("NODE", *n, "Node name, MAC or id")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, n, io] { NodeShow(*flags, *n, *io); });
  }
  {
    struct Args {
      std::string name, mac, ip, bmc;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = node->add_subcommand("add", "Enlist a node by hand (DHCP discovery does it by itself)");
    cmd->add_option("NAME", a->name, "Host name")->required();
    cmd->add_option("--mac", a->mac, "MAC of the boot NIC")->required();
    cmd->add_option("--ip", a->ip, "Reserved IPv4 address (a dnsmasq host reservation)");
    cmd->add_option("--bmc", a->bmc, "The BMC that powers it");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      json::object body{{"name", a->name}, {"mac", a->mac}};
      if (!a->ip.empty()) body["ip"] = a->ip;
      if (!a->bmc.empty()) body["bmc"] = a->bmc;
      auto n = s->Check(s->api().Post("/api/v1/nodes", body));
      if (s->json()) return s->PrintJson(n);
      s->out() << "Node " << FieldText(n, "name") << " added (" << FieldText(n, "state") << ")\n";
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto n = std::make_shared<std::string>();
    auto* cmd = node->add_subcommand("delete", "Forget a node (refused while an operation runs)");
    cmd->add_option("NODE", *n, "Node name, MAC or id")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, n, io] {
      auto s = Session::Open(*flags, *io);
      s->Check(s->api().Delete(NodePath(*n)));
      if (!s->json()) s->out() << "Node " << *n << " deleted\n";
    });
  }
  AddOperation(node, "commission", "Boot the inventory image; the node reports its hardware and becomes ready", io);
  AddOperation(node, "deploy", "Install an OS with a rendered template; the node becomes deployed", io);
  AddOperation(node, "release", "Wipe the disks and reset the boot settings; the node becomes ready", io);
  AddOperation(node, "rescue", "Boot the rescue image", io);
  {
    struct Args {
      std::string node, on, reason;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = node->add_subcommand("maintenance", "Put a node into maintenance or take it out");
    cmd->add_option("NODE", a->node, "Node name, MAC or id")->required();
    cmd->add_option("ON_OFF", a->on, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
    cmd->add_option("--reason", a->reason, "Why");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      auto n = s->Check(s->api().Post(NodePath(a->node) + "/maintenance",
                                      json::object{{"on", a->on == "on"}, {"reason", a->reason}}));
      if (s->json()) return s->PrintJson(n);
      s->out() << "Node " << FieldText(n, "name") << " is " << FieldText(n, "state") << "\n";
    });
  }
  {
    struct Args {
      std::string node, reason;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = node->add_subcommand("mark-broken", "Mark a node broken, with the reason");
    cmd->add_option("NODE", a->node, "Node name, MAC or id")->required();
    cmd->add_option("--reason", a->reason, "Why")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      auto n = s->Check(s->api().Post(NodePath(a->node) + "/broken", json::object{{"reason", a->reason}}));
      if (s->json()) return s->PrintJson(n);
      s->out() << "Node " << FieldText(n, "name") << " is broken: " << FieldText(n, "reason") << "\n";
    });
  }
}

void RegisterInventoryCommand(CLI::App& app, IoPtr io) {
  struct Args {
    bool list = false;
    std::string host;
  };
  auto flags = std::make_shared<GlobalFlags>();
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inventory", "Ansible dynamic inventory from the CMDB (--list, --host NAME)");
  auto* list = cmd->add_flag("--list", a->list, "All hosts, groups and host variables");
  auto* host = cmd->add_option("--host", a->host, "Host variables of one host");
  list->excludes(host);
  AddGlobalFlags(cmd, *flags, false);
  cmd->footer(
      "Use it as an inventory script:\n"
      "  printf '#!/bin/sh\\nexec gantry inventory \"$@\"\\n' > gantry-inventory; chmod +x gantry-inventory\n"
      "  ansible-inventory -i gantry-inventory --graph\n"
      "Groups: site_*, rack_*, role_*, gpu_*, tenant_*, slurm_*, lifecycle_*; the server is taken\n"
      "from GANTRY_SERVER/GANTRY_TOKEN or the config file like every command.");
  cmd->callback([flags, a, io] {
    if (!a->list && a->host.empty()) app::Fail(kExitUsage, "inventory needs --list or --host NAME");
    auto s = Session::Open(*flags, *io);
    Query q;
    if (!a->host.empty()) q.emplace_back("host", a->host);
    auto inv = s->Check(s->api().Get("/api/v1/inventory", q));
    s->out() << core::ToJson(inv) << "\n";
  });
}


void RegisterImageCommands(CLI::App& app, IoPtr io) {
  auto* image = app.add_subcommand("image", "OS images (kernel, initrd, root file system) for PXE boots");
  image->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = image->add_subcommand("list", "List images and their checksums");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] {
      auto s = Session::Open(*flags, *io);
      auto list = s->Check(s->api().Get("/api/v1/images"));
      if (s->json()) return s->PrintJson(list);
      MakeTable(Items(*s, list), {FieldColumn("NAME", "name"), FieldColumn("DESCRIPTION", "description"),
                                  FieldColumn("CREATED", "created_at")})
          .Print(s->out());
    });
  }
  {
    struct Args {
      std::string name, description, kernel, initrd, rootfs, kernel_sha, initrd_sha, rootfs_sha;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = image->add_subcommand("add", "Register an image from files on the server's disk (admin)");
    cmd->add_option("NAME", a->name, "Image name")->required();
    cmd->add_option("--kernel", a->kernel, "Path of the kernel on the server")->required();
    cmd->add_option("--initrd", a->initrd, "Path of the initrd on the server")->required();
    cmd->add_option("--rootfs", a->rootfs, "Path of the root file system or disk image on the server");
    cmd->add_option("--kernel-sha256", a->kernel_sha, "Expected SHA-256 of the kernel")->required();
    cmd->add_option("--initrd-sha256", a->initrd_sha, "Expected SHA-256 of the initrd")->required();
    cmd->add_option("--rootfs-sha256", a->rootfs_sha, "Expected SHA-256 of the root file system");
    cmd->add_option("--description", a->description, "What it is");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      json::object files{{"kernel", {{"path", a->kernel}, {"sha256", a->kernel_sha}}},
                         {"initrd", {{"path", a->initrd}, {"sha256", a->initrd_sha}}}};
      if (!a->rootfs.empty()) files["rootfs"] = {{"path", a->rootfs}, {"sha256", a->rootfs_sha}};
      auto img = s->Check(s->api().Post("/api/v1/images",
                                        json::object{{"name", a->name}, {"description", a->description}, {"files", files}}));
      if (s->json()) return s->PrintJson(img);
      s->out() << "Image " << FieldText(img, "name") << " added; checksums verified\n";
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto n = std::make_shared<std::string>();
    auto* cmd = image->add_subcommand("delete", "Delete an image (refused while an operation boots it)");
    cmd->add_option("NAME", *n, "Image name")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, n, io] {
      auto s = Session::Open(*flags, *io);
      s->Check(s->api().Delete("/api/v1/images/" + PathSegment(*n)));
      if (!s->json()) s->out() << "Image " << *n << " deleted\n";
    });
  }
}

core::Result<json::value> Put(ApiClient& api, std::string_view path, const json::value& body) {
  std::string text = core::ToJson(body);
  GANTRY_TRY(auto answer, api.Send("PUT", path, {}, &text));
  if (answer.status < 200 || answer.status >= 300) return ErrorFromResponse(answer.status, answer.body, answer.request_id);
  auto parsed = core::ParseJson(answer.body);
  if (!parsed) return core::Unavailable("the answer from " + api.server() + " is not JSON");
  return *parsed;
}

void RegisterTemplateCommands(CLI::App& app, IoPtr io) {
  auto* tmpl = app.add_subcommand("template", "Install templates: kickstart, preseed, cloud-init, script");
  tmpl->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = tmpl->add_subcommand("list", "List templates");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] {
      auto s = Session::Open(*flags, *io);
      auto list = s->Check(s->api().Get("/api/v1/templates"));
      if (s->json()) return s->PrintJson(list);
      MakeTable(Items(*s, list), {FieldColumn("NAME", "name"), FieldColumn("KIND", "kind"),
                                  FieldColumn("BUILTIN", "builtin"), FieldColumn("UPDATED", "updated_at")})
          .Print(s->out());
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto n = std::make_shared<std::string>();
    auto* cmd = tmpl->add_subcommand("show", "Print a template's body");
    cmd->add_option("NAME", *n, "Template name")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, n, io] {
      auto s = Session::Open(*flags, *io);
      auto t = s->Check(s->api().Get("/api/v1/templates/" + PathSegment(*n)));
      if (s->json()) return s->PrintJson(t);
      s->out() << FieldText(t, "body");
    });
  }
  {
    struct Args {
      std::string name, kind, file;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = tmpl->add_subcommand("put", "Create or replace a template from a file");
    cmd->add_option("NAME", a->name, "Template name")->required();
    cmd->add_option("--kind", a->kind, "kickstart, preseed, cloud-init, autoinstall or script")->required();
    cmd->add_option("-f,--file", a->file, "The template text")->required()->check(CLI::ExistingFile);
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      std::ifstream in(a->file);
      std::stringstream ss;
      ss << in.rdbuf();
      auto t = s->Check(Put(s->api(), "/api/v1/templates/" + PathSegment(a->name),
                            json::object{{"kind", a->kind}, {"body", ss.str()}}));
      if (s->json()) return s->PrintJson(t);
      s->out() << "Template " << FieldText(t, "name") << " saved\n";
    });
  }
  {
    struct Args {
      std::string name, node;
      std::vector<std::string> vars;
    };
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<Args>();
    auto* cmd = tmpl->add_subcommand("render", "Render a template for a node (preview)");
    cmd->add_option("NAME", a->name, "Template name")->required();
    cmd->add_option("NODE", a->node, "Node name")->required();
    cmd->add_option("--var", a->vars, "Variable key=value (repeatable)");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] {
      auto s = Session::Open(*flags, *io);
      json::object body{{"node", a->node}};
      if (!a->vars.empty()) body["vars"] = s->Check(ParseJobParams(a->vars));
      auto r = s->Check(s->api().Post("/api/v1/templates/" + PathSegment(a->name) + "/render", body));
      if (s->json()) return s->PrintJson(r);
      s->out() << FieldText(r, "text");
    });
  }
}

}  // namespace

void RegisterLifecycleCommands(CLI::App& app, IoPtr io) {
  RegisterNodeCommands(app, io);
  RegisterInventoryCommand(app, io);
  RegisterImageCommands(app, io);
  RegisterTemplateCommands(app, io);
}

}  // namespace gantry::app::client
