#include "metering/store.h"

#include <algorithm>

namespace gantry::metering {

namespace {

std::string Marks(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

Sku SkuFromRow(const store::Row& r) {
  return Sku{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Int(4), r.Str(5), r.Int(6)};
}

constexpr char kInvoiceColumns[] =
    "id, number, kind, tenant_id, tenant, period_start, period_end, currency, total_micros, "
    "corrects, reason, issued_by, issued_at";

Invoice InvoiceFromRow(const store::Row& r) {
  Invoice i;
  i.id = r.Int(0);
  i.number = r.Str(1);
  i.kind = r.Str(2);
  i.tenant_id = r.Int(3);
  i.tenant = r.Str(4);
  i.period_start = r.Int(5);
  i.period_end = r.Int(6);
  i.currency = r.Str(7);
  i.total_micros = r.Int(8);
  i.corrects = r.OptInt(9);
  i.reason = r.Str(10);
  i.issued_by = r.Str(11);
  i.issued_at = r.Int(12);
  return i;
}

core::Status UpsertBuckets(store::Tx& tx, const char* table, const Rollups& rows) {
  // Multi-row upserts of at most 100 rows per statement.
  auto it = rows.begin();
  while (it != rows.end()) {
    std::string sql = std::string("INSERT INTO ") + table +
                      " (tenant_id, project_id, sku, kind, bucket, quantity) VALUES ";
    store::Params p;
    int n = 0;
    for (; it != rows.end() && n < 100; ++it, ++n) {
      const auto& [k, q] = *it;
      sql += n ? ", (?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?)";
      p.emplace_back(std::get<0>(k));
      p.emplace_back(std::get<1>(k));
      p.emplace_back(std::get<2>(k));
      p.emplace_back(std::get<3>(k));
      p.emplace_back(std::get<4>(k));
      p.emplace_back(q);
    }
    sql += std::string(" ON CONFLICT (tenant_id, project_id, sku, kind, bucket) DO UPDATE SET "
                       "quantity = ") +
           table + ".quantity + excluded.quantity";
    GANTRY_TRY_STATUS(tx.Exec(sql, p));
  }
  return {};
}

}  // namespace

// ---- price book -------------------------------------------------------------------------------

core::Status Store::EnsureSkus(store::Tx& tx, const std::vector<Sku>& skus, core::UnixNanos now) {
  for (const auto& s : skus) {
    GANTRY_TRY_STATUS(tx.Exec(
        "INSERT INTO metering_skus (name, description, base_unit, price_unit, base_per_price_unit, "
        "policy, gpu_permille, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        {s.name, s.description, s.base_unit, s.price_unit, s.base_per_price_unit, s.policy,
         s.gpu_permille, now, now}));
  }
  return {};
}

core::Result<std::vector<Sku>> Store::ListSkus(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT name, description, base_unit, price_unit, "
                              "base_per_price_unit, policy, gpu_permille FROM metering_skus "
                              "ORDER BY name"));
  std::vector<Sku> out;
  for (const auto& r : rs.rows) out.push_back(SkuFromRow(r));
  return out;
}

core::Status Store::UpsertSku(store::Tx& tx, const Sku& s, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO metering_skus (name, description, base_unit, price_unit, base_per_price_unit, "
      "policy, gpu_permille, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
      "policy = excluded.policy, updated_at = excluded.updated_at",
      {s.name, s.description, s.base_unit, s.price_unit, s.base_per_price_unit, s.policy,
       s.gpu_permille, now, now}));
  return {};
}

core::Result<int64_t> Store::InsertPrice(store::Tx& tx, const Price& p, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO metering_prices (sku, effective_from, "
                              "unit_price_micros, currency, created_by, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                              {p.sku, p.effective_from, p.unit_price_micros, p.currency,
                               p.created_by, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::vector<Price>> Store::ListPrices(store::Tx& tx, const std::string& sku) {
  std::string sql =
      "SELECT id, sku, effective_from, unit_price_micros, currency, created_by FROM "
      "metering_prices";
  store::Params p;
  if (!sku.empty()) {
    sql += " WHERE sku = ?";
    p.emplace_back(sku);
  }
  sql += " ORDER BY sku, effective_from";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Price> out;
  for (const auto& r : rs.rows) {
    out.push_back(Price{r.Int(0), r.Str(1), r.Int(2), r.Int(3), r.Str(4), r.Str(5)});
  }
  return out;
}

// ---- usage -----------------------------------------------------------------------------------

core::Result<bool> Store::InsertRecord(store::Tx& tx, const StoredRecord& r, core::UnixNanos now) {
  GANTRY_TRY(auto rs,
             tx.Exec("INSERT INTO usage_records (key, tenant_id, project_id, sku, kind, quantity, "
                     "start_at, end_at, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (key) DO NOTHING",
                     {r.key, r.tenant_id, r.project_id, r.sku, r.kind, r.quantity, r.start, r.end,
                      r.source, now}));
  return rs.affected > 0;
}

core::Result<std::set<std::string>> Store::InsertRecords(store::Tx& tx,
                                                         const std::vector<StoredRecord>& records,
                                                         core::UnixNanos now) {
  std::set<std::string> inserted;
  size_t i = 0;
  while (i < records.size()) {
    std::string sql =
        "INSERT INTO usage_records (key, tenant_id, project_id, sku, kind, quantity, start_at, "
        "end_at, source, received_at) VALUES ";
    store::Params p;
    for (int n = 0; i < records.size() && n < 100; ++i, ++n) {
      const auto& r = records[i];
      sql += n ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      p.insert(p.end(), {r.key, r.tenant_id, r.project_id, r.sku, r.kind, r.quantity, r.start,
                         r.end, r.source, now});
    }
    sql += " ON CONFLICT (key) DO NOTHING RETURNING key";
    GANTRY_TRY(auto rs, tx.Exec(sql, p));
    for (const auto& row : rs.rows) inserted.insert(row.Str(0));
  }
  return inserted;
}

core::Result<std::map<std::string, std::pair<int64_t, std::string>, std::less<>>>
Store::ResolveTenants(store::Tx& tx, const std::set<std::string>& refs) {
  std::map<std::string, std::pair<int64_t, std::string>, std::less<>> out;
  std::vector<std::string> slugs;
  std::vector<int64_t> ids;
  for (const auto& r : refs) {
    bool digits = !r.empty() && r.size() < 19 &&
                  std::all_of(r.begin(), r.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) ids.push_back(std::stoll(r));
    else slugs.push_back(r);
  }
  for (size_t i = 0; i < slugs.size(); i += 500) {
    size_t n = std::min<size_t>(500, slugs.size() - i);
    store::Params p(slugs.begin() + i, slugs.begin() + i + n);
    GANTRY_TRY(auto rs, tx.Exec("SELECT id, slug FROM tenants WHERE slug IN (" + Marks(n) + ")", p));
    for (const auto& row : rs.rows) out[row.Str(1)] = {row.Int(0), row.Str(1)};
  }
  for (size_t i = 0; i < ids.size(); i += 500) {
    size_t n = std::min<size_t>(500, ids.size() - i);
    store::Params p(ids.begin() + i, ids.begin() + i + n);
    GANTRY_TRY(auto rs, tx.Exec("SELECT id, slug FROM tenants WHERE id IN (" + Marks(n) + ")", p));
    for (const auto& row : rs.rows) out[std::to_string(row.Int(0))] = {row.Int(0), row.Str(1)};
  }
  return out;
}

core::Result<std::map<std::pair<int64_t, std::string>, int64_t>> Store::ProjectsOf(
    store::Tx& tx, const std::set<int64_t>& tenant_ids) {
  std::map<std::pair<int64_t, std::string>, int64_t> out;
  std::vector<int64_t> ids(tenant_ids.begin(), tenant_ids.end());
  for (size_t i = 0; i < ids.size(); i += 500) {
    size_t n = std::min<size_t>(500, ids.size() - i);
    store::Params p(ids.begin() + i, ids.begin() + i + n);
    GANTRY_TRY(auto rs, tx.Exec("SELECT id, tenant_id, slug FROM projects WHERE tenant_id IN (" +
                                    Marks(n) + ")",
                                p));
    for (const auto& row : rs.rows) {
      out[{row.Int(1), row.Str(2)}] = row.Int(0);
      out[{row.Int(1), std::to_string(row.Int(0))}] = row.Int(0);
    }
  }
  return out;
}

core::Result<std::set<std::pair<int64_t, core::UnixNanos>>> Store::InvoicedMonths(
    store::Tx& tx, const std::set<core::UnixNanos>& months) {
  std::set<std::pair<int64_t, core::UnixNanos>> out;
  if (months.empty()) return out;
  store::Params p(months.begin(), months.end());
  GANTRY_TRY(auto rs, tx.Exec("SELECT i.tenant_id, i.period_start FROM invoices i WHERE "
                              "i.period_start IN (" + Marks(months.size()) + ") AND "
                              "i.kind = 'invoice' AND NOT EXISTS (SELECT 1 FROM invoices c WHERE "
                              "c.corrects = i.id AND c.kind = 'credit_note' AND "
                              "c.total_micros = -i.total_micros)",
                              p));
  for (const auto& row : rs.rows) out.insert({row.Int(0), row.Int(1)});
  return out;
}

core::Status Store::InsertQuarantine(store::Tx& tx, const std::string& key,
                                     const std::string& source, std::string_view reason,
                                     const std::string& detail, const std::string& record,
                                     core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO usage_quarantine (key, source, reason, detail, record, received_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET reason = excluded.reason, "
      "detail = excluded.detail, received_at = excluded.received_at",
      {key, source, std::string(reason), detail, record, now}));
  return {};
}

core::Status Store::AddRollups(store::Tx& tx, const Rollups& hourly) {
  if (hourly.empty()) return {};
  Rollups daily;
  for (const auto& [k, q] : hourly) {
    auto [t, p, s, kind, bucket] = k;
    int64_t day = bucket / kNanosPerDay * kNanosPerDay;
    if (bucket < 0 && bucket % kNanosPerDay) day -= kNanosPerDay;
    daily[{t, p, s, kind, day}] += q;
  }
  GANTRY_TRY_STATUS(UpsertBuckets(tx, "usage_hourly", hourly));
  return UpsertBuckets(tx, "usage_daily", daily);
}

core::Result<std::vector<RollupRow>> Store::QueryRollups(store::Tx& tx, const RollupQuery& q) {
  std::string sql = std::string("SELECT tenant_id, project_id, sku, kind, bucket, quantity FROM ") +
                    (q.daily ? "usage_daily" : "usage_hourly") + " WHERE bucket >= ? AND bucket < ?";
  store::Params p{q.since, q.until};
  if (!q.tenant_ids.empty()) {
    sql += " AND tenant_id IN (" + Marks(q.tenant_ids.size()) + ")";
    for (auto id : q.tenant_ids) p.emplace_back(id);
  }
  if (q.project_id) {
    sql += " AND project_id = ?";
    p.emplace_back(*q.project_id);
  }
  if (q.sku) {
    sql += " AND sku = ?";
    p.emplace_back(*q.sku);
  }
  if (q.kind) {
    sql += " AND kind = ?";
    p.emplace_back(*q.kind);
  }
  sql += " ORDER BY tenant_id, project_id, sku, kind, bucket";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<RollupRow> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) {
    out.push_back(RollupRow{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4), r.Int(5)});
  }
  return out;
}

core::Result<std::vector<Store::RollupSum>> Store::SumRollups(store::Tx& tx, int64_t tenant_id,
                                                              std::optional<int64_t> project_id,
                                                              core::UnixNanos since,
                                                              core::UnixNanos until) {
  std::string sql =
      "SELECT project_id, sku, kind, SUM(quantity), MIN(bucket), MAX(bucket) FROM usage_hourly "
      "WHERE tenant_id = ? AND bucket >= ? AND bucket < ?";
  store::Params p{tenant_id, since, until};
  if (project_id) {
    sql += " AND project_id = ?";
    p.emplace_back(*project_id);
  }
  sql += " GROUP BY project_id, sku, kind ORDER BY project_id, sku, kind";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<RollupSum> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) {
    out.push_back(RollupSum{r.Int(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Int(5)});
  }
  return out;
}

core::Result<std::vector<Quarantined>> Store::ListQuarantine(store::Tx& tx,
                                                             std::optional<std::string> reason,
                                                             std::optional<int64_t> before_id,
                                                             int limit) {
  std::string sql =
      "SELECT id, key, source, reason, detail, record, received_at FROM usage_quarantine WHERE "
      "id < ?";
  store::Params p{before_id.value_or(INT64_MAX)};
  if (reason) {
    sql += " AND reason = ?";
    p.emplace_back(*reason);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.emplace_back(int64_t{limit});
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Quarantined> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Int(6)});
  }
  return out;
}

// ---- remote-write counter state ---------------------------------------------------------------

core::Result<std::vector<std::string>> Store::LoadSeriesLog(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT states FROM metering_series_log ORDER BY id"));
  std::vector<std::string> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) out.push_back(r.Str(0));
  return out;
}

core::Status Store::AppendSeriesLog(store::Tx& tx, const std::string& blob, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("INSERT INTO metering_series_log (states, created_at) VALUES (?, ?)",
                            {blob, now}));
  return {};
}

core::Status Store::ReplaceSeriesLog(store::Tx& tx, const std::vector<std::string>& blobs,
                                     core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM metering_series_log"));
  for (const auto& b : blobs) GANTRY_TRY_STATUS(AppendSeriesLog(tx, b, now));
  return {};
}

// ---- allocations ----------------------------------------------------------------------------

namespace {
constexpr char kAllocationColumns[] =
    "id, key, tenant_id, project_id, sku, resource, quantity, started_at, stopped_at, "
    "billed_until";
Store::Allocation AllocationFromRow(const store::Row& r) {
  return Store::Allocation{r.Int(0), r.Str(1), r.Int(2), r.Int(3), r.Str(4),
                           r.Str(5), r.Int(6), r.Int(7), r.OptInt(8), r.Int(9)};
}
}  // namespace

core::Result<bool> Store::InsertAllocation(store::Tx& tx, const Allocation& a) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO metering_allocations (key, tenant_id, project_id, sku, "
                              "resource, quantity, started_at, billed_until) VALUES "
                              "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                              {a.key, a.tenant_id, a.project_id, a.sku, a.resource, a.quantity,
                               a.started_at, a.billed_until}));
  return rs.affected > 0;
}

core::Result<std::optional<Store::Allocation>> Store::OpenAllocation(store::Tx& tx,
                                                                     int64_t tenant_id,
                                                                     const std::string& resource) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kAllocationColumns +
                                  " FROM metering_allocations WHERE tenant_id = ? AND resource = ? "
                                  "AND stopped_at IS NULL ORDER BY id DESC LIMIT 1",
                              {tenant_id, resource}));
  if (rs.rows.empty()) return std::optional<Allocation>{};
  return std::optional<Allocation>(AllocationFromRow(rs.rows[0]));
}

core::Result<std::vector<Store::Allocation>> Store::OpenAllocations(store::Tx& tx,
                                                                    int64_t tenant_id,
                                                                    core::UnixNanos started_before) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kAllocationColumns +
                                  " FROM metering_allocations WHERE tenant_id = ? AND stopped_at "
                                  "IS NULL AND started_at < ? ORDER BY id",
                              {tenant_id, started_before}));
  std::vector<Allocation> out;
  for (const auto& r : rs.rows) out.push_back(AllocationFromRow(r));
  return out;
}

core::Status Store::AdvanceAllocation(store::Tx& tx, int64_t id, core::UnixNanos billed_until,
                                      std::optional<core::UnixNanos> stopped_at) {
  GANTRY_TRY_STATUS(tx.Exec("UPDATE metering_allocations SET billed_until = ?, stopped_at = ? "
                            "WHERE id = ?",
                            {billed_until, store::Opt(stopped_at), id}));
  return {};
}

// ---- discounts ---------------------------------------------------------------------------------

core::Result<int64_t> Store::InsertDiscount(store::Tx& tx, const Discount& d, const std::string& by,
                                            core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO metering_discounts (tenant_id, kind, sku, basis_points, "
                              "quantity, effective_from, effective_until, created_by, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                              {d.tenant_id, d.kind, d.sku, d.basis_points, d.quantity,
                               d.effective_from, store::Opt(d.effective_until), by, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::vector<Discount>> Store::ListDiscounts(store::Tx& tx, int64_t tenant_id) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, tenant_id, kind, sku, basis_points, quantity, "
                              "effective_from, effective_until FROM metering_discounts "
                              "WHERE tenant_id = ? ORDER BY id",
                              {tenant_id}));
  std::vector<Discount> out;
  for (const auto& r : rs.rows) {
    out.push_back(Discount{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4), r.Int(5), r.Int(6),
                           r.OptInt(7)});
  }
  return out;
}

core::Status Store::DeleteDiscount(store::Tx& tx, int64_t tenant_id, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec("DELETE FROM metering_discounts WHERE tenant_id = ? AND id = ?",
                              {tenant_id, id}));
  if (rs.affected == 0) return core::NotFound("no discount " + std::to_string(id));
  return {};
}

// ---- invoices ----------------------------------------------------------------------------------

core::Result<int64_t> Store::InsertInvoice(store::Tx& tx, const Invoice& inv) {
  GANTRY_TRY(auto rs,
             tx.Exec("INSERT INTO invoices (number, kind, tenant_id, tenant, period_start, "
                     "period_end, currency, total_micros, corrects, reason, issued_by, issued_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     {inv.number, inv.kind, inv.tenant_id, inv.tenant, inv.period_start,
                      inv.period_end, inv.currency, inv.total_micros, store::Opt(inv.corrects),
                      inv.reason, inv.issued_by, inv.issued_at}));
  int64_t id = rs.rows.at(0).Int(0);
  for (const auto& l : inv.lines) {
    GANTRY_TRY_STATUS(tx.Exec(
        "INSERT INTO invoice_lines (invoice_id, line_no, project, sku, policy, description, "
        "quantity, base_unit, price_unit, base_per_price_unit, unit_price_micros, discount_bp, "
        "amount_micros, charge_start, charge_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        {id, l.line_no, l.project, l.sku, l.policy, l.description, l.quantity, l.base_unit,
         l.price_unit, l.base_per_price_unit, l.unit_price_micros, l.discount_bp, l.amount_micros,
         l.charge_start, l.charge_end}));
  }
  return id;
}

core::Result<std::optional<Invoice>> Store::GetInvoice(store::Tx& tx, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kInvoiceColumns +
                                  " FROM invoices WHERE id = ?",
                              {id}));
  if (rs.rows.empty()) return std::optional<Invoice>{};
  Invoice inv = InvoiceFromRow(rs.rows[0]);
  GANTRY_TRY(auto lines,
             tx.Exec("SELECT line_no, project, sku, policy, description, quantity, base_unit, "
                     "price_unit, base_per_price_unit, unit_price_micros, discount_bp, "
                     "amount_micros, charge_start, charge_end FROM invoice_lines "
                     "WHERE invoice_id = ? ORDER BY line_no",
                     {id}));
  for (const auto& r : lines.rows) {
    inv.lines.push_back(InvoiceLine{r.Int(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5),
                                    r.Str(6), r.Str(7), r.Int(8), r.Int(9), r.Int(10), r.Int(11),
                                    r.Int(12), r.Int(13)});
  }
  return std::optional<Invoice>(std::move(inv));
}

core::Result<std::vector<Invoice>> Store::ListInvoices(store::Tx& tx,
                                                       std::optional<int64_t> tenant_id,
                                                       std::optional<core::UnixNanos> period) {
  std::string sql = std::string("SELECT ") + kInvoiceColumns + " FROM invoices WHERE 1 = 1";
  store::Params p;
  if (tenant_id) {
    sql += " AND tenant_id = ?";
    p.emplace_back(*tenant_id);
  }
  if (period) {
    sql += " AND period_start = ?";
    p.emplace_back(*period);
  }
  sql += " ORDER BY id";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Invoice> out;
  for (const auto& r : rs.rows) out.push_back(InvoiceFromRow(r));
  return out;
}

core::Result<int64_t> Store::LiveInvoices(store::Tx& tx, int64_t tenant_id,
                                          core::UnixNanos period_start) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT COUNT(*) FROM invoices i WHERE i.tenant_id = ? AND "
                              "i.period_start = ? AND i.kind = 'invoice' AND NOT EXISTS (SELECT 1 "
                              "FROM invoices c WHERE c.corrects = i.id AND c.kind = 'credit_note' "
                              "AND c.total_micros = -i.total_micros)",
                              {tenant_id, period_start}));
  return rs.rows.at(0).Int(0);
}

core::Result<int64_t> Store::NextInvoiceSeq(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT COALESCE(MAX(id), 0) + 1 FROM invoices"));
  return rs.rows.at(0).Int(0);
}

// ---- budgets -----------------------------------------------------------------------------------

core::Result<int64_t> Store::UpsertBudget(store::Tx& tx, const Budget& b, core::UnixNanos now) {
  GANTRY_TRY(auto rs,
             tx.Exec("INSERT INTO budgets (tenant_id, project_id, metric, limit_amount, hard, "
                     "hold_slurm, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (tenant_id, project_id, metric) DO UPDATE SET "
                     "limit_amount = excluded.limit_amount, hard = excluded.hard, "
                     "hold_slurm = excluded.hold_slurm, updated_at = excluded.updated_at "
                     "RETURNING id",
                     {b.tenant_id, b.project_id, b.metric, b.limit, int64_t{b.hard ? 1 : 0},
                      int64_t{b.hold_slurm ? 1 : 0}, now, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::vector<Budget>> Store::ListBudgets(store::Tx& tx,
                                                     std::optional<int64_t> tenant_id) {
  std::string sql =
      "SELECT b.id, b.tenant_id, t.slug, b.project_id, COALESCE(p.slug, ''), b.metric, "
      "b.limit_amount, b.hard, b.hold_slurm FROM budgets b JOIN tenants t ON t.id = b.tenant_id "
      "LEFT JOIN projects p ON p.id = b.project_id";
  store::Params p;
  if (tenant_id) {
    sql += " WHERE b.tenant_id = ?";
    p.emplace_back(*tenant_id);
  }
  sql += " ORDER BY b.id";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Budget> out;
  for (const auto& r : rs.rows) {
    out.push_back(Budget{r.Int(0), r.Int(1), r.Str(2), r.Int(3), r.Str(4), r.Str(5), r.Int(6),
                         r.Bool(7), r.Bool(8)});
  }
  return out;
}

core::Result<std::set<int64_t>> Store::BudgetedTenants(store::Tx& tx) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT DISTINCT tenant_id FROM budgets"));
  std::set<int64_t> out;
  for (const auto& r : rs.rows) out.insert(r.Int(0));
  return out;
}

core::Result<std::vector<Budget>> Store::BudgetsOfTenants(store::Tx& tx,
                                                          const std::set<int64_t>& tenant_ids) {
  std::vector<Budget> out;
  std::vector<int64_t> ids(tenant_ids.begin(), tenant_ids.end());
  for (size_t i = 0; i < ids.size(); i += 500) {
    size_t n = std::min<size_t>(500, ids.size() - i);
    store::Params p(ids.begin() + i, ids.begin() + i + n);
    GANTRY_TRY(auto rs,
               tx.Exec("SELECT b.id, b.tenant_id, t.slug, b.project_id, COALESCE(p.slug, ''), "
                       "b.metric, b.limit_amount, b.hard, b.hold_slurm FROM budgets b JOIN tenants t "
                       "ON t.id = b.tenant_id LEFT JOIN projects p ON p.id = b.project_id WHERE "
                       "b.tenant_id IN (" + Marks(n) + ") ORDER BY b.id", p));
    for (const auto& r : rs.rows) {
      out.push_back(Budget{r.Int(0), r.Int(1), r.Str(2), r.Int(3), r.Str(4), r.Str(5), r.Int(6),
                           r.Bool(7), r.Bool(8)});
    }
  }
  return out;
}

core::Status Store::DeleteBudget(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM budget_alerts WHERE budget_id = ?", {id}));
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM budgets WHERE id = ?", {id}));
  return {};
}

core::Result<std::vector<int64_t>> Store::BudgetAlerts(store::Tx& tx, int64_t budget_id,
                                                       core::UnixNanos period_start) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT threshold FROM budget_alerts WHERE budget_id = ? AND "
                              "period_start = ? ORDER BY threshold",
                              {budget_id, period_start}));
  std::vector<int64_t> out;
  for (const auto& r : rs.rows) out.push_back(r.Int(0));
  return out;
}

core::Result<bool> Store::InsertBudgetAlert(store::Tx& tx, int64_t budget_id,
                                            core::UnixNanos period_start, int64_t threshold,
                                            int64_t spent, int64_t limit, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO budget_alerts (budget_id, period_start, threshold, "
                              "spent, limit_amount, raised_at) VALUES (?, ?, ?, ?, ?, ?) "
                              "ON CONFLICT (budget_id, period_start, threshold) DO NOTHING",
                              {budget_id, period_start, threshold, spent, limit, now}));
  return rs.affected > 0;
}

}  // namespace gantry::metering
