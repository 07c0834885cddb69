#include "hardware/store.h"

#include <charconv>

namespace gantry::hardware {

namespace {

constexpr char kBmcColumns[] =
    "id, name, address, protocol, server, system_id, credentials, auth, tls_verify, ca_file, health, "
    "health_message, power_state, checked_at, created_at, updated_at";
constexpr char kCampaignColumns[] =
    "id, name, state, spec, impact, job_id, batch, failures, message, soak_until, created_by, "
    "created_at, updated_at";
constexpr char kNodeColumns[] =
    "server, batch, state, task, version_before, version_after, message, updated_at";

std::optional<int64_t> AsId(std::string_view ref) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ref.empty() || ec != std::errc() || end != ref.data() + ref.size() || id <= 0) return std::nullopt;
  return id;
}

Bmc BmcFromRow(const store::Row& r) {
  Bmc b;
  b.id = r.Int(0);
  b.name = r.Str(1);
  b.address = r.Str(2);
  b.protocol = r.Str(3) == "ipmi" ? Protocol::kIpmi : Protocol::kRedfish;
  b.server = r.OptStr(4);
  b.system_id = r.OptStr(5);
  b.sealed_credentials = r.Str(6);
  b.auth = r.Str(7);
  b.tls_verify = r.Bool(8);
  b.ca_file = r.OptStr(9);
  b.health = r.Str(10);
  b.health_message = r.Str(11);
  b.power_state = r.Str(12);
  b.checked_at = r.OptInt(13);
  b.created_at = r.Int(14);
  b.updated_at = r.Int(15);
  return b;
}

Campaign CampaignFromRow(const store::Row& r) {
  Campaign c;
  c.id = r.Int(0);
  c.name = r.Str(1);
  c.state = r.Str(2);
  if (auto o = core::ParseObject(r.Str(3))) {
    if (auto s = CampaignSpecFromJson(*o)) c.spec = std::move(*s);
  }
  if (auto o = core::ParseObject(r.Str(4))) c.impact = std::move(*o);
  c.job_id = r.OptInt(5);
  c.batch = static_cast<int>(r.Int(6));
  c.failures = static_cast<int>(r.Int(7));
  c.message = r.Str(8);
  c.soak_until = r.OptInt(9);
  c.created_by = r.Str(10);
  c.created_at = r.Int(11);
  c.updated_at = r.Int(12);
  return c;
}

CampaignNode NodeFromRow(const store::Row& r) {
  CampaignNode n;
  n.server = r.Str(0);
  n.batch = static_cast<int>(r.Int(1));
  n.state = r.Str(2);
  n.task = r.Str(3);
  n.version_before = r.Str(4);
  n.version_after = r.Str(5);
  n.message = r.Str(6);
  n.updated_at = r.Int(7);
  return n;
}

std::string Marks(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

}  // namespace

core::Result<int64_t> Store::InsertBmc(store::Tx& tx, const Bmc& b) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO bmcs (name, address, protocol, server, system_id, credentials, auth, tls_verify, "
      "ca_file, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {b.name, b.address, std::string(Name(b.protocol)), store::Opt(b.server), store::Opt(b.system_id),
       b.sealed_credentials, b.auth, int64_t{b.tls_verify ? 1 : 0}, store::Opt(b.ca_file),
       b.created_at, b.updated_at}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Bmc>> Store::FindBmc(store::Tx& tx, std::string_view ref) {
  std::string sql = std::string("SELECT ") + kBmcColumns + " FROM bmcs WHERE ";
  store::Params p;
  if (auto id = AsId(ref)) {
    sql += "id = ?";
    p.emplace_back(*id);
  } else {
    sql += "name = ? OR server = ? ORDER BY id LIMIT 1";
    p.emplace_back(std::string(ref));
    p.emplace_back(std::string(ref));
  }
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  if (rs.rows.empty()) return std::optional<Bmc>{};
  return std::optional<Bmc>(BmcFromRow(rs.rows[0]));
}

core::Result<std::vector<Bmc>> Store::ListBmcs(store::Tx& tx, std::optional<int64_t> after_id, int limit) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kBmcColumns +
                                  " FROM bmcs WHERE id > ? ORDER BY id LIMIT ?",
                              {after_id.value_or(0), int64_t{limit}}));
  std::vector<Bmc> out;
  for (const auto& r : rs.rows) out.push_back(BmcFromRow(r));
  return out;
}

core::Result<std::vector<Bmc>> Store::FindBmcs(store::Tx& tx, const std::vector<std::string>& refs) {
  std::vector<Bmc> out;
  for (size_t start = 0; start < refs.size(); start += 500) {
    size_t n = std::min<size_t>(500, refs.size() - start);
    store::Params p;
    for (size_t i = 0; i < n; ++i) p.emplace_back(refs[start + i]);
    for (size_t i = 0; i < n; ++i) p.emplace_back(refs[start + i]);
    GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kBmcColumns + " FROM bmcs WHERE name IN (" +
                                    Marks(n) + ") OR server IN (" + Marks(n) + ") ORDER BY id",
                                p));
    for (const auto& r : rs.rows) out.push_back(BmcFromRow(r));
  }
  return out;
}

core::Status Store::DeleteBmc(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM bmcs WHERE id = ?", {id}));
  return {};
}

core::Status Store::UpdateHealth(store::Tx& tx, const HealthUpdate& u, core::UnixNanos now) {
  if (u.power_state) {
    GANTRY_TRY_STATUS(tx.Exec(
        "UPDATE bmcs SET health = ?, health_message = ?, power_state = ?, checked_at = ? WHERE id = ?",
        {u.health, u.message, *u.power_state, now, u.bmc_id}));
  } else {
    GANTRY_TRY_STATUS(tx.Exec("UPDATE bmcs SET health = ?, health_message = ?, checked_at = ? WHERE id = ?",
                              {u.health, u.message, now, u.bmc_id}));
  }
  return {};
}

// ---- campaigns ----------------------------------------------------------------------------

core::Result<int64_t> Store::InsertCampaign(store::Tx& tx, const Campaign& c) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO fw_campaigns (name, state, spec, impact, job_id, batch, failures, message, "
      "soak_until, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id",
      {c.name, c.state, core::json::serialize(ToJson(c.spec)), core::json::serialize(c.impact),
       store::Opt(c.job_id), int64_t{c.batch}, int64_t{c.failures}, c.message, store::Opt(c.soak_until),
       c.created_by, c.created_at, c.updated_at}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Campaign>> Store::FindCampaign(store::Tx& tx, std::string_view ref,
                                                          bool for_update, store::Backend backend) {
  std::string sql = std::string("SELECT ") + kCampaignColumns + " FROM fw_campaigns WHERE ";
  store::Params p;
  if (auto id = AsId(ref)) {
    sql += "id = ?";
    p.emplace_back(*id);
  } else {
    sql += "name = ?";
    p.emplace_back(std::string(ref));
  }
  if (for_update && backend == store::Backend::kPostgres) sql += " FOR UPDATE";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  if (rs.rows.empty()) return std::optional<Campaign>{};
  return std::optional<Campaign>(CampaignFromRow(rs.rows[0]));
}

core::Result<std::vector<Campaign>> Store::ListCampaigns(store::Tx& tx, int limit) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kCampaignColumns +
                                  " FROM fw_campaigns ORDER BY id DESC LIMIT ?",
                              {int64_t{limit}}));
  std::vector<Campaign> out;
  for (const auto& r : rs.rows) out.push_back(CampaignFromRow(r));
  return out;
}

core::Status Store::UpdateCampaign(store::Tx& tx, const Campaign& c, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE fw_campaigns SET state = ?, job_id = ?, batch = ?, failures = ?, message = ?, "
      "soak_until = ?, updated_at = ? WHERE id = ?",
      {c.state, store::Opt(c.job_id), int64_t{c.batch}, int64_t{c.failures}, c.message,
       store::Opt(c.soak_until), now, c.id}));
  return {};
}

core::Status Store::InsertCampaignNode(store::Tx& tx, int64_t campaign_id, const CampaignNode& n,
                                       core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO fw_campaign_nodes (campaign_id, server, batch, state, task, version_before, "
      "version_after, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {campaign_id, n.server, int64_t{n.batch}, n.state, n.task, n.version_before, n.version_after,
       n.message, now}));
  return {};
}

core::Result<std::vector<CampaignNode>> Store::CampaignNodes(store::Tx& tx, int64_t campaign_id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kNodeColumns +
                                  " FROM fw_campaign_nodes WHERE campaign_id = ? ORDER BY batch, server",
                              {campaign_id}));
  std::vector<CampaignNode> out;
  for (const auto& r : rs.rows) out.push_back(NodeFromRow(r));
  return out;
}

core::Status Store::UpdateCampaignNode(store::Tx& tx, int64_t campaign_id, const CampaignNode& n,
                                       core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE fw_campaign_nodes SET state = ?, task = ?, version_before = ?, version_after = ?, "
      "message = ?, updated_at = ? WHERE campaign_id = ? AND server = ?",
      {n.state, n.task, n.version_before, n.version_after, n.message, now, campaign_id, n.server}));
  return {};
}

}  // namespace gantry::hardware
