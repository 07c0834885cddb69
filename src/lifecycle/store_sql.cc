#include "lifecycle/store.h"

#include <charconv>

namespace gantry::lifecycle {

namespace {

constexpr char kNodeColumns[] =
    "id, name, mac, ip, last_ip, bmc, state, prev_state, reason, op, job_id, op_image, "
    "op_template, op_vars, op_deadline, callback, hardware, source, version, created_at, "
    "updated_at, op_config";

std::string Lock(bool lock, store::Backend b) {
  return lock && b == store::Backend::kPostgres ? " FOR UPDATE" : "";
}

std::optional<int64_t> AsId(std::string_view ref) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ref.empty() || ec != std::errc() || end != ref.data() + ref.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

Node NodeFromRow(const store::Row& r) {
  Node n;
  n.id = r.Int(0);
  n.name = r.Str(1);
  n.mac = r.Str(2);
  n.ip = r.OptStr(3);
  n.last_ip = r.OptStr(4);
  n.bmc = r.OptStr(5);
  n.state = r.Str(6);
  n.prev_state = r.OptStr(7);
  n.reason = r.Str(8);
  n.op = r.OptStr(9);
  n.job_id = r.OptInt(10);
  n.op_image = r.OptStr(11);
  n.op_template = r.OptStr(12);
  n.op_vars = r.Str(13);
  n.op_deadline = r.OptInt(14);
  n.callback = r.OptStr(15);
  n.hardware = r.Str(16);
  n.source = r.Str(17);
  n.version = r.Int(18);
  n.created_at = r.Int(19);
  n.updated_at = r.Int(20);
  n.op_config = r.OptStr(21);
  return n;
}

std::optional<ImageFile> FileFrom(const core::json::object& files, std::string_view role) {
  const auto* f = files.if_contains(role);
  if (!f || !f->is_object()) return std::nullopt;
  ImageFile out;
  if (const auto* s = f->get_object().if_contains("sha256"); s && s->is_string()) out.sha256 = s->get_string();
  if (const auto* s = f->get_object().if_contains("size"); s && s->is_int64()) out.size = s->get_int64();
  return out;
}

Image ImageFromRow(const store::Row& r) {
  Image i;
  i.id = r.Int(0);
  i.name = r.Str(1);
  i.description = r.Str(2);
  auto files = core::ParseObject(r.Str(3));
  if (files) {
    i.kernel = FileFrom(*files, "kernel");
    i.initrd = FileFrom(*files, "initrd");
    i.rootfs = FileFrom(*files, "rootfs");
  }
  i.created_by = r.Str(4);
  i.created_at = r.Int(5);
  return i;
}

Template TemplateFromRow(const store::Row& r) {
  Template t;
  t.id = r.Int(0);
  t.name = r.Str(1);
  t.kind = r.Str(2);
  t.body = r.Str(3);
  t.builtin = r.Bool(4);
  t.created_at = r.Int(5);
  t.updated_at = r.Int(6);
  return t;
}

}  // namespace

core::Result<int64_t> Store::InsertNode(store::Tx& tx, const Node& n, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO lc_nodes (name, mac, ip, last_ip, bmc, state, reason, "
                              "hardware, source, created_at, updated_at) VALUES "
                              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                              {n.name, n.mac, store::Opt(n.ip), store::Opt(n.last_ip),
                               store::Opt(n.bmc), n.state, n.reason, n.hardware, n.source, now,
                               now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Node>> Store::GetNode(store::Tx& tx, int64_t id, bool lock,
                                                 store::Backend backend) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kNodeColumns + " FROM lc_nodes WHERE id = ?" +
                                  Lock(lock, backend),
                              {id}));
  if (rs.rows.empty()) return std::optional<Node>();
  return std::optional<Node>(NodeFromRow(rs.rows[0]));
}

core::Result<std::optional<Node>> Store::FindNode(store::Tx& tx, std::string_view ref, bool lock,
                                                  store::Backend backend) {
  if (auto id = AsId(ref)) return GetNode(tx, *id, lock, backend);
  std::string key(ref);
  if (auto mac = NormalizeMac(ref)) key = *mac;
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kNodeColumns +
                                  " FROM lc_nodes WHERE name = ? OR mac = ?" + Lock(lock, backend),
                              {std::string(ref), key}));
  if (rs.rows.empty()) return std::optional<Node>();
  return std::optional<Node>(NodeFromRow(rs.rows[0]));
}

core::Result<std::vector<Node>> Store::ListNodes(store::Tx& tx, const NodeFilter& f) {
  std::string sql = std::string("SELECT ") + kNodeColumns + " FROM lc_nodes WHERE id > ?";
  store::Params p{f.after_id.value_or(0)};
  if (f.state) {
    sql += " AND state = ?";
    p.emplace_back(*f.state);
  }
  sql += " ORDER BY id LIMIT ?";
  p.emplace_back(static_cast<int64_t>(f.limit));
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Node> out;
  for (const auto& r : rs.rows) out.push_back(NodeFromRow(r));
  return out;
}

core::Status Store::UpdateNode(store::Tx& tx, Node& n, core::UnixNanos now) {
  n.version += 1;
  n.updated_at = now;
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE lc_nodes SET name = ?, ip = ?, last_ip = ?, bmc = ?, state = ?, prev_state = ?, "
      "reason = ?, op = ?, job_id = ?, op_image = ?, op_template = ?, op_vars = ?, "
      "op_deadline = ?, callback = ?, hardware = ?, source = ?, version = ?, updated_at = ?, "
      "op_config = ? "
      "WHERE id = ?",
      {n.name, store::Opt(n.ip), store::Opt(n.last_ip), store::Opt(n.bmc), n.state,
       store::Opt(n.prev_state), n.reason, store::Opt(n.op), store::Opt(n.job_id),
       store::Opt(n.op_image), store::Opt(n.op_template), n.op_vars, store::Opt(n.op_deadline),
       store::Opt(n.callback), n.hardware, n.source, n.version, now, store::Opt(n.op_config), n.id}));
  return {};
}

core::Result<std::vector<std::pair<std::string, int64_t>>> Store::CountByState(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT state, COUNT(*) FROM lc_nodes GROUP BY state ORDER BY state"));
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& r : rs.rows) out.emplace_back(r.Str(0), r.Int(1));
  return out;
}

core::Result<std::vector<Store::Orphan>> Store::Orphans(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT n.id, n.job_id, j.state, j.error FROM lc_nodes n "
                               "JOIN jobs j ON j.id = n.job_id WHERE n.op IS NOT NULL AND "
                               "j.state IN ('cancelled', 'failed', 'succeeded')"));
  std::vector<Orphan> out;
  for (const auto& r : rs.rows) out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3)});
  return out;
}

core::Result<int64_t> Store::InsertImage(store::Tx& tx, const Image& i, core::UnixNanos now) {
  core::json::object files;
  for (const char* role : {"kernel", "initrd", "rootfs"}) {
    if (const auto& f = *i.File(role)) files[role] = {{"sha256", f->sha256}, {"size", f->size}};
  }
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO lc_images (name, description, files, created_by, "
                              "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                              {i.name, i.description, core::ToJson(files), i.created_by, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Image>> Store::FindImage(store::Tx& tx, std::string_view name) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, name, description, files, created_by, created_at "
                              "FROM lc_images WHERE name = ?",
                              {std::string(name)}));
  if (rs.rows.empty()) return std::optional<Image>();
  return std::optional<Image>(ImageFromRow(rs.rows[0]));
}

core::Result<std::vector<Image>> Store::ListImages(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, name, description, files, created_by, created_at "
                              "FROM lc_images ORDER BY name"));
  std::vector<Image> out;
  for (const auto& r : rs.rows) out.push_back(ImageFromRow(r));
  return out;
}

core::Status Store::DeleteImage(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM lc_images WHERE id = ?", {id}));
  return {};
}

core::Status Store::UpsertTemplate(store::Tx& tx, const Template& t, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("UPDATE lc_templates SET kind = ?, body = ?, builtin = ?, "
                              "updated_at = ? WHERE name = ?",
                              {t.kind, t.body, int64_t{t.builtin}, now, t.name}));
  if (rs.affected == 0) {
    GANTRY_TRY_STATUS(tx.Exec("INSERT INTO lc_templates (name, kind, body, builtin, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                              {t.name, t.kind, t.body, int64_t{t.builtin}, now, now}));
  }
  return {};
}

core::Result<std::optional<Template>> Store::FindTemplate(store::Tx& tx, std::string_view name) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, name, kind, body, builtin, created_at, updated_at "
                              "FROM lc_templates WHERE name = ?",
                              {std::string(name)}));
  if (rs.rows.empty()) return std::optional<Template>();
  return std::optional<Template>(TemplateFromRow(rs.rows[0]));
}

core::Result<std::vector<Template>> Store::ListTemplates(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, name, kind, body, builtin, created_at, updated_at "
                              "FROM lc_templates ORDER BY name"));
  std::vector<Template> out;
  for (const auto& r : rs.rows) out.push_back(TemplateFromRow(r));
  return out;
}

core::Status Store::DeleteTemplate(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM lc_templates WHERE id = ?", {id}));
  return {};
}

core::Status Store::InsertToken(store::Tx& tx, const std::string& hash, int64_t node_id,
                                int64_t job_id, const std::string& purpose,
                                core::UnixNanos expires_at, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("INSERT INTO lc_tokens (hash, node_id, job_id, purpose, expires_at, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                            {hash, node_id, job_id, purpose, expires_at, now}));
  return {};
}

core::Result<std::optional<TokenRow>> Store::GetToken(store::Tx& tx, const std::string& hash) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT node_id, job_id, purpose, expires_at, used_at FROM lc_tokens "
                              "WHERE hash = ?",
                              {hash}));
  if (rs.rows.empty()) return std::optional<TokenRow>();
  const auto& r = rs.rows[0];
  return std::optional<TokenRow>(TokenRow{r.Int(0), r.Int(1), r.Str(2), r.Int(3), r.OptInt(4)});
}

core::Result<bool> Store::UseToken(store::Tx& tx, const std::string& hash, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("UPDATE lc_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL",
                              {now, hash}));
  return rs.affected == 1;
}

core::Status Store::DeleteTokens(store::Tx& tx, int64_t node_id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM lc_tokens WHERE node_id = ?", {node_id}));
  return {};
}

}  // namespace gantry::lifecycle
