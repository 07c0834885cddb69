// The boot endpoints' logic (iPXE script, one-time tokens, config, callback), OS images and
// install templates.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "jobs/store.h"
#include "lifecycle/service.h"
#include "lifecycle/template.h"

namespace gantry::lifecycle {

namespace fs = std::filesystem;

namespace {


core::Status CheckObjectName(const std::string& name, const char* field) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
  }
  if (!ok) return core::InvalidArgument(std::string(field) + " must be 1-64 of a-z, 0-9, '-', '_', '.', starting with a letter", field);
  return {};
}

std::string TokenHash(std::string_view token) { return core::Sha256Hex(token); }

core::Result<std::string> FileSha256(const std::string& path, int64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFound("cannot read " + path);
  core::Sha256Hasher h;
  std::string buf(1 << 16, '\0');
  int64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = in.gcount();
    if (n <= 0) break;
    h.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    total += n;
  }
  if (size) *size = total;
  return core::HexEncode(h.Finish());
}

// "52:54:00:99:00:10" → "01-52-54-00-99-00-10" (pxelinux's BOOTIF, ARP type 1).
std::string BootIf(const std::string& mac) {
  std::string s = "01-" + mac;
  for (auto& c : s) if (c == ':') c = '-';
  return s;
}

}  // namespace

// ---- variables and rendering ----------------------------------------------------------------

core::Result<core::json::object> Service::Variables(const Node& n, const core::json::object& extra) {
  core::json::object v;
  v["hostname"] = n.name;
  v["mac"] = n.mac;
  v["ip"] = n.ip.value_or("");
  v["netmask"] = "255.255.255.0";
  v["gateway"] = "";
  v["timezone"] = "UTC";
  v["disk"] = "/dev/sda";
  v["disk_layout"] = "plain";
  v["role"] = "";
  v["gpu"] = false;
  v["gpu_model"] = "";
  v["gpu_count"] = 0;
  v["gpu_driver"] = "nvidia-driver";
  v["cuda_version"] = "12-4";
  v["gantry_url"] = options_.boot_url;
  v["callback_url"] = "";
  v["image_url"] = "";
  core::json::array keys;
  for (const auto& k : options_.ssh_keys) keys.push_back(core::json::value(k));
  v["ssh_keys"] = keys;
  if (n.op_image) {
    v["image_url"] = options_.boot_url + "/boot/images/" + *n.op_image + "/rootfs";
  }
  // What the CMDB knows about the server: role and GPUs decide the driver and CUDA role.
  if (cmdb_) {
    auto ci = cmdb_->GetCi(core::RequestContext::System("lifecycle"), "server/" + n.name);
    if (ci) {
      for (const char* key : {"role", "gpu_model", "gpu_count", "primary_ip"}) {
        if (const auto* a = ci->attrs.if_contains(key)) v[key] = *a;
      }
    }
  }
  for (const auto& kv : extra) v[kv.key()] = kv.value();
  if (const auto* c = v.if_contains("gpu_count"); c && c->is_int64() && c->get_int64() > 0) v["gpu"] = true;
  if (const auto* m = v.if_contains("gpu_model"); m && m->is_string() && !m->get_string().empty()) v["gpu"] = true;
  std::string disk = v["disk"].is_string() ? std::string(v["disk"].get_string()) : "/dev/sda";
  v["disk_name"] = disk.substr(disk.rfind('/') + 1);
  v["lvm"] = v["disk_layout"].is_string() && v["disk_layout"].get_string() == "lvm";
  return v;
}

core::Result<std::string> Service::Render(store::Tx& tx, const std::string& tmpl, const Node& n,
                                          const core::json::object& extra) {
  GANTRY_TRY(auto t, Store::FindTemplate(tx, tmpl));
  if (!t) return core::NotFound("no template '" + tmpl.substr(0, 64) + "'");
  GANTRY_TRY(auto vars, Variables(n, extra));
  auto out = RenderTemplate(t->body, vars);
  if (!out) {
    return core::InvalidArgument("template '" + tmpl + "' for " + n.name + ": " + out.error().message,
                                 "template");
  }
  return *out;
}

core::Result<std::string> Service::RenderFor(const core::RequestContext& rc, std::string_view tmpl,
                                             std::string_view node, const core::json::object& vars) {
  GANTRY_TRY_STATUS(RequireAction(rc, "templates.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto n, Resolve(*tx, node, false));
  return Render(*tx, std::string(tmpl), n, vars);
}

// ---- boot endpoints ---------------------------------------------------------------------------

core::Result<std::string> Service::BootScript(std::string_view mac_in, std::string_view remote_ip) {
  auto mac = NormalizeMac(mac_in);
  if (!mac) return core::InvalidArgument("mac must look like 52:54:00:12:34:56", "mac");
  const std::string& url = options_.boot_url;
  std::string poll = "#!ipxe\necho Gantry: %s\nsleep 20\nchain " + url + "/boot/ipxe?mac=${net0/mac}\n";
  auto waiting = [&](const std::string& why) {
    std::string s = poll;
    s.replace(s.find("%s"), 2, why);
    return s;
  };
  auto rc = core::RequestContext::System("boot");
  rc.source_ip = std::string(remote_ip);
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto found, Store::FindNode(*tx, *mac, true, db_.backend()));
  if (!found) {
    tx.reset();
    GANTRY_TRY(auto n, ObserveDhcp(rc, DhcpSighting{*mac, std::string(), std::string()}));
    return waiting("enlisted as " + n.name + "; waiting for an operator");
  }
  Node n = *found;
  // Scoped to the machine itself: once DHCP told us its address, only that address may ask.
  if (n.last_ip && !remote_ip.empty() && *n.last_ip != remote_ip) {
    return core::PermissionDenied("boot script of " + *mac + " requested from another address");
  }
  if (!n.op || !n.job_id || !n.op_image) {
    if (n.state == kDeployed) return std::string("#!ipxe\necho Gantry: " + n.name + " boots from its disk\nexit\n");
    return waiting(n.name + " is " + n.state);
  }
  // Fresh one-time tokens for this boot; earlier ones of the node stop working.
  std::string config_token = core::RandomToken(24), callback_token = core::RandomToken(24);
  auto expires = now + options_.token_ttl_s * core::kNanosPerSecond;
  GANTRY_TRY_STATUS(Store::DeleteTokens(*tx, n.id));
  GANTRY_TRY_STATUS(Store::InsertToken(*tx, TokenHash(config_token), n.id, *n.job_id, "config", expires, now));
  GANTRY_TRY_STATUS(Store::InsertToken(*tx, TokenHash(callback_token), n.id, *n.job_id, "callback", expires, now));
  std::string callback_url = url + "/boot/callback?token=" + callback_token;
  if (n.op_template) {
    auto vars = core::ParseObject(n.op_vars);
    core::json::object extra = vars ? *vars : core::json::object();
    extra["callback_url"] = callback_url;
    GANTRY_TRY(auto config, Render(*tx, *n.op_template, n, extra));
    n.op_config = config;
  }
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, n, now));
  GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, *n.job_id, "node " + n.name + " PXE-booted (" +
                                           std::string(remote_ip) + "); serving image " + *n.op_image, now));
  GANTRY_TRY_STATUS(tx->Commit());
  std::string img = url + "/boot/images/" + *n.op_image;
  std::string args = "initrd=initrd " + options_.kernel_args + " BOOTIF=" + BootIf(n.mac) +
                     " gantry.url=" + url + " gantry.op=" + *n.op + " gantry.node=" + n.name +
                     " gantry.callback=" + callback_url;
  if (n.op_template) args += " gantry.config=" + url + "/boot/config?token=" + config_token;
  return "#!ipxe\necho Gantry: " + *n.op + " " + n.name + "\nkernel " + img + "/kernel " + args +
         "\ninitrd " + img + "/initrd\nboot\n";
}

core::Result<std::string> Service::FetchConfig(std::string_view token) {
  if (token.empty() || token.size() > 128) return core::PermissionDenied("invalid token");
  auto now = clock_.Now();
  std::string hash = TokenHash(token);
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto row, Store::GetToken(*tx, hash));
  if (!row || row->purpose != "config") return core::PermissionDenied("unknown token");
  if (row->used_at) return core::PermissionDenied("token already used");
  if (row->expires_at <= now) return core::PermissionDenied("token expired");
  GANTRY_TRY(auto n, Store::GetNode(*tx, row->node_id, true, db_.backend()));
  if (!n || n->job_id != row->job_id || !n->op || !n->op_config) {
    return core::PermissionDenied("token of an operation that is over");
  }
  GANTRY_TRY(bool won, Store::UseToken(*tx, hash, now));
  if (!won) return core::PermissionDenied("token already used");
  GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, *n->job_id, "node " + n->name + " fetched its configuration", now));
  GANTRY_TRY_STATUS(tx->Commit());
  return *n->op_config;
}

core::Status Service::Callback(std::string_view token, const Report& report) {
  if (token.empty() || token.size() > 128) return core::PermissionDenied("invalid token");
  auto now = clock_.Now();
  std::string hash = TokenHash(token);
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto row, Store::GetToken(*tx, hash));
  if (!row || row->purpose != "callback") return core::PermissionDenied("unknown token");
  if (row->used_at) return core::PermissionDenied("token already used");
  if (row->expires_at <= now) return core::PermissionDenied("token expired");
  GANTRY_TRY(auto n, Store::GetNode(*tx, row->node_id, true, db_.backend()));
  if (!n || n->job_id != row->job_id || !n->op) return core::PermissionDenied("token of an operation that is over");
  GANTRY_TRY(bool won, Store::UseToken(*tx, hash, now));
  if (!won) return core::PermissionDenied("token already used");
  core::json::object cb;
  cb["ok"] = report.ok;
  cb["message"] = report.message;
  if (report.inventory) {
    cb["inventory"] = *report.inventory;
    n->hardware = core::ToJson(*report.inventory);
  }
  n->callback = core::ToJson(cb);
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, *n, now));
  for (const auto& line : report.log) {
    GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, *n->job_id, "[" + n->name + "] " + line.substr(0, 1000), now));
  }
  GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, *n->job_id, "node " + n->name + " called back: " +
                                           (report.ok ? "ok" : "failed") +
                                           (report.message.empty() ? "" : " (" + report.message + ")"), now));
  auto rc = core::RequestContext::System("node:" + n->name);
  GANTRY_TRY_STATUS(Audit(*tx, rc, "node.callback", *n, {{"ok", report.ok}, {"job_id", *n->job_id}}));
  GANTRY_TRY_STATUS(tx->Commit());
  Notify(n->id);
  return {};
}

core::Result<std::string> Service::ReadImageFile(std::string_view image, std::string_view role) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto img, Store::FindImage(*tx, image));
  tx.reset();
  const std::optional<ImageFile>* f = img ? img->File(role) : nullptr;
  if (!f || !*f) {
    return core::NotFound("no file '" + std::string(role.substr(0, 16)) + "' in image '" +
                          std::string(image.substr(0, 64)) + "'");
  }
  std::string path = options_.image_dir + "/" + img->name + "/" + std::string(role);
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Unavailable("image '" + img->name + "' " + std::string(role) + " cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string sum = core::Sha256Hex(bytes);
  if (sum != (*f)->sha256 || static_cast<int64_t>(bytes.size()) != (*f)->size) {
    spdlog::error("image {} {}: checksum mismatch (want {}, have {}); not served", img->name, role,
                  (*f)->sha256, sum);
    return core::FailedPrecondition("image '" + img->name + "' " + std::string(role) +
                                    " does not match its checksum; not served");
  }
  return bytes;
}

// ---- images -----------------------------------------------------------------------------------

core::Result<Image> Service::CreateImage(const core::RequestContext& rc, const std::string& name,
                                         const std::string& description,
                                         const std::map<std::string, ImageSource>& files) {
  GANTRY_TRY_STATUS(RequireAction(rc, "images.write"));
  GANTRY_TRY_STATUS(CheckObjectName(name, "name"));
  if (description.size() > 1000) return core::InvalidArgument("description must be at most 1000 characters", "description");
  if (!files.count("kernel") || !files.count("initrd")) {
    return core::InvalidArgument("an image needs at least a kernel and an initrd", "files");
  }
  Image img;
  img.name = name;
  img.description = description;
  img.created_by = rc.principal.username;
  {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto existing, Store::FindImage(*tx, name));
    if (existing) return core::Conflict("image '" + name + "' already exists");
  }
  if (options_.image_dir.empty()) return core::FailedPrecondition("no image directory configured");
  std::string staging = options_.image_dir + "/.staging-" + core::HexEncode(core::RandomBytes(8));
  std::string final_dir = options_.image_dir + "/" + name;
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return core::Unavailable("cannot create " + staging + ": " + ec.message());
  auto cleanup = [&] { fs::remove_all(staging, ec); };
  for (const auto& [role, src] : files) {
    if (role != "kernel" && role != "initrd" && role != "rootfs") {
      cleanup();
      return core::InvalidArgument("unknown image file '" + role.substr(0, 16) + "' (kernel, initrd, rootfs)", "files");
    }
    if (src.sha256.size() != 64 || !core::HexDecode(src.sha256)) {
      cleanup();
      return core::InvalidArgument("files." + role + ".sha256 must be 64 hex digits", "files." + role + ".sha256");
    }
    fs::copy_file(src.path, staging + "/" + role, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      cleanup();
      return core::InvalidArgument("cannot read files." + role + ".path: " + ec.message(), "files." + role + ".path");
    }
    int64_t size = 0;
    auto sum = FileSha256(staging + "/" + role, &size);
    std::string want = src.sha256;
    for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!sum || *sum != want) {
      cleanup();
      return core::InvalidArgument("files." + role + ": SHA-256 " + (sum ? *sum : "?") +
                                   " does not match the expected " + want, "files." + role + ".sha256");
    }
    ImageFile f{*sum, size};
    if (role == "kernel") img.kernel = f;
    if (role == "initrd") img.initrd = f;
    if (role == "rootfs") img.rootfs = f;
  }
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  auto id = Store::InsertImage(*tx, img, now);
  if (!id) {
    cleanup();
    return id.error();
  }
  img.id = *id;
  img.created_at = now;
  auto st = audit_.Append(*tx, audit::Service::MakeEvent(rc, "image.create", "image", name, ToJson(img)));
  if (!st) {
    cleanup();
    return st.error();
  }
  fs::remove_all(final_dir, ec);
  fs::rename(staging, final_dir, ec);
  if (ec) {
    cleanup();
    return core::Unavailable("cannot move the image into place: " + ec.message());
  }
  if (auto c = tx->Commit(); !c) {
    fs::remove_all(final_dir, ec);
    return c.error();
  }
  return img;
}

core::Result<Image> Service::GetImage(const core::RequestContext& rc, std::string_view name) {
  GANTRY_TRY_STATUS(RequireAction(rc, "images.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto img, Store::FindImage(*tx, name));
  if (!img) return core::NotFound("no image '" + std::string(name.substr(0, 64)) + "'");
  return *img;
}

core::Result<std::vector<Image>> Service::ListImages(const core::RequestContext& rc) {
  GANTRY_TRY_STATUS(RequireAction(rc, "images.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListImages(*tx);
}

core::Status Service::DeleteImage(const core::RequestContext& rc, std::string_view name) {
  GANTRY_TRY_STATUS(RequireAction(rc, "images.write"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto img, Store::FindImage(*tx, name));
  if (!img) return core::NotFound("no image '" + std::string(name.substr(0, 64)) + "'");
  GANTRY_TRY(auto rs, tx->Exec("SELECT COUNT(*) FROM lc_nodes WHERE op IS NOT NULL AND op_image = ?", {img->name}));
  if (rs.rows.at(0).Int(0) > 0) return core::FailedPrecondition("image '" + img->name + "' is in use by a running operation");
  GANTRY_TRY_STATUS(Store::DeleteImage(*tx, img->id));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "image.delete", "image", img->name)));
  GANTRY_TRY_STATUS(tx->Commit());
  std::error_code ec;
  fs::remove_all(options_.image_dir + "/" + img->name, ec);
  return {};
}

// ---- templates --------------------------------------------------------------------------------

core::Result<Template> Service::PutTemplate(const core::RequestContext& rc, const std::string& name,
                                            const std::string& kind, const std::string& body) {
  GANTRY_TRY_STATUS(RequireAction(rc, "templates.write"));
  GANTRY_TRY_STATUS(CheckObjectName(name, "name"));
  if (!IsValidTemplateKind(kind)) {
    return core::InvalidArgument("kind must be kickstart, preseed, cloud-init, autoinstall or script", "kind");
  }
  // A template that cannot even be parsed is refused now (variables are checked per node).
  if (auto st = CheckTemplateSyntax(body); !st) return core::InvalidArgument(st.error().message, "body");
  if (body.size() > 256 * 1024) return core::InvalidArgument("body must be at most 256 KiB", "body");
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  Template t{0, name, kind, body, false, now, now};
  GANTRY_TRY_STATUS(Store::UpsertTemplate(*tx, t, now));
  GANTRY_TRY(auto saved, Store::FindTemplate(*tx, name));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "template.put", "template", name,
                                                                 {{"kind", kind}, {"sha256", core::Sha256Hex(body)}})));
  GANTRY_TRY_STATUS(tx->Commit());
  return *saved;
}

core::Result<Template> Service::GetTemplate(const core::RequestContext& rc, std::string_view name) {
  GANTRY_TRY_STATUS(RequireAction(rc, "templates.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, Store::FindTemplate(*tx, name));
  if (!t) return core::NotFound("no template '" + std::string(name.substr(0, 64)) + "'");
  return *t;
}

core::Result<std::vector<Template>> Service::ListTemplates(const core::RequestContext& rc) {
  GANTRY_TRY_STATUS(RequireAction(rc, "templates.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListTemplates(*tx);
}

core::Status Service::DeleteTemplate(const core::RequestContext& rc, std::string_view name) {
  GANTRY_TRY_STATUS(RequireAction(rc, "templates.write"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, Store::FindTemplate(*tx, name));
  if (!t) return core::NotFound("no template '" + std::string(name.substr(0, 64)) + "'");
  GANTRY_TRY_STATUS(Store::DeleteTemplate(*tx, t->id));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "template.delete", "template", t->name)));
  return tx->Commit();
}

}  // namespace gantry::lifecycle
