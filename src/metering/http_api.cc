#include "metering/http_api.h"

#include "http/params.h"

namespace gantry::metering {

using core::Result;
using http::Context;
using http::Response;

namespace {

Result<core::UnixNanos> GetTime(const core::json::object& o, std::string_view key) {
  GANTRY_TRY(auto s, core::GetString(o, key));
  auto t = core::ParseRfc3339(s);
  if (!t) return core::InvalidArgument(std::string(key) + " must be an RFC 3339 time", std::string(key));
  return *t;
}

Result<UsageRecord> ParseRecord(const core::json::value& v) {
  if (!v.is_object()) return core::InvalidArgument("every record must be an object", "records");
  const auto& o = v.as_object();
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"key", "tenant", "project", "sku", "kind", "quantity",
                                         "start", "end"}));
  UsageRecord r;
  GANTRY_TRY(r.key, core::GetString(o, "key"));
  GANTRY_TRY(r.tenant, core::GetString(o, "tenant"));
  GANTRY_TRY(auto project, core::OptString(o, "project"));
  r.project = project.value_or("");
  GANTRY_TRY(r.sku, core::GetString(o, "sku"));
  GANTRY_TRY(auto kind, core::OptString(o, "kind"));
  r.kind = kind.value_or(kAllocated);
  GANTRY_TRY(r.quantity, core::GetInt(o, "quantity"));
  GANTRY_TRY(r.start, GetTime(o, "start"));
  GANTRY_TRY(r.end, GetTime(o, "end"));
  return r;
}

core::json::object ResultJson(const IngestResult& r) {
  core::json::array q;
  for (const auto& [key, reason] : r.quarantine) q.push_back(core::json::object{{"key", key}, {"reason", reason}});
  return {{"accepted", r.accepted},
          {"duplicates", r.duplicates},
          {"quarantined", r.quarantined},
          {"quarantine", std::move(q)}};
}

template <class T>
Response Items(const std::vector<T>& list) {
  core::json::array items;
  for (const auto& x : list) items.push_back(ToJson(x));
  return http::ListResponse(std::move(items), std::nullopt);
}

Result<std::optional<core::UnixNanos>> OptTime(const core::json::object& o, std::string_view key) {
  GANTRY_TRY(auto s, core::OptString(o, key));
  if (!s) return std::optional<core::UnixNanos>{};
  auto t = core::ParseRfc3339(*s);
  if (!t) return core::InvalidArgument(std::string(key) + " must be an RFC 3339 time", std::string(key));
  return std::optional<core::UnixNanos>(*t);
}

void RegisterUsageRoutes(http::Router& router, Service& service) {
  router.Add({"POST", "/api/v1/metering/records", "metering.write"},
             [&service](Context& c) -> Result<Response> {
               auto body = core::ParseObject(c.request.body);
               if (!body) {
                 service.CountRejected("api", "malformed");
                 return body.error();
               }
               GANTRY_TRY_STATUS(core::OnlyFields(*body, {"records", "source"}));
               auto it = body->find("records");
               if (it == body->end() || !it->value().is_array()) {
                 service.CountRejected("api", "malformed");
                 return core::InvalidArgument("field 'records' must be an array", "records");
               }
               GANTRY_TRY(auto source, core::OptString(*body, "source"));
               std::string src = source.value_or("api");
               if (src.empty() || src.size() > 32) {
                 return core::InvalidArgument("source must be 1-32 characters", "source");
               }
               std::vector<UsageRecord> records;
               for (const auto& v : it->value().as_array()) {
                 auto r = ParseRecord(v);
                 if (!r) {
                   service.CountRejected(src, "malformed");
                   return r.error();
                 }
                 records.push_back(std::move(*r));
               }
               GANTRY_TRY(auto result, service.Ingest(c.rc, src, records));
               return Response::Json(ResultJson(result));
             });

  router.Add({"POST", "/api/v1/metering/events", "metering.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"key", "tenant", "project", "resource",
                                                         "sku", "event", "quantity", "time"}));
               AllocationEvent e;
               GANTRY_TRY(e.key, core::GetString(body, "key"));
               GANTRY_TRY(e.tenant, core::GetString(body, "tenant"));
               GANTRY_TRY(auto project, core::OptString(body, "project"));
               e.project = project.value_or("");
               GANTRY_TRY(e.resource, core::GetString(body, "resource"));
               GANTRY_TRY(auto sku, core::OptString(body, "sku"));
               if (sku) e.sku = *sku;
               GANTRY_TRY(e.event, core::GetString(body, "event"));
               GANTRY_TRY(auto q, core::OptInt(body, "quantity"));
               e.quantity = q.value_or(1);
               GANTRY_TRY(e.time, GetTime(body, "time"));
               GANTRY_TRY(auto result, service.PostAllocationEvent(c.rc, e));
               return Response::Json(ResultJson(result));
             });

  router.Add({"GET", "/api/v1/metering/usage", "usage.read"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"tenant", "project", "sku", "kind",
                                                             "since", "until", "granularity"}));
               UsageQuery q;
               q.tenant = c.request.Query("tenant");
               q.project = c.request.Query("project");
               q.sku = c.request.Query("sku");
               q.kind = c.request.Query("kind");
               if (q.project && !q.tenant) {
                 return core::InvalidArgument("project needs tenant", "project");
               }
               GANTRY_TRY(auto since, http::TimeParam(c.request, "since"));
               GANTRY_TRY(auto until, http::TimeParam(c.request, "until"));
               auto now = service.clock().Now();
               q.until = until.value_or(now);
               q.since = since.value_or(q.until - 7 * kNanosPerDay);
               auto g = c.request.Query("granularity").value_or("hour");
               if (g != "hour" && g != "day") {
                 return core::InvalidArgument("granularity must be hour or day", "granularity");
               }
               q.daily = g == "day";
               GANTRY_TRY(auto rows, service.Usage(c.rc, q));
               if (rows.size() > 100000) {
                 return core::InvalidArgument("more than 100000 rows; narrow the query", "since");
               }
               core::json::array items;
               for (const auto& r : rows) {
                 items.push_back(core::json::object{{"tenant", r.tenant},
                                                    {"project", r.project},
                                                    {"sku", r.sku},
                                                    {"kind", r.kind},
                                                    {"start", core::FormatRfc3339(r.bucket)},
                                                    {"quantity", r.quantity}});
               }
               return http::ListResponse(std::move(items), std::nullopt);
             });

  router.Add({"GET", "/api/v1/metering/quarantine", "usage.read"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"reason", "limit", "cursor"}));
               GANTRY_TRY(int limit, http::LimitParam(c.request));
               GANTRY_TRY(auto cursor, http::IntParam(c.request, "cursor"));
               GANTRY_TRY(auto list, service.Quarantine(c.rc, c.request.Query("reason"), cursor, limit));
               core::json::array items;
               for (const auto& q : list) items.push_back(ToJson(q));
               std::optional<std::string> next;
               if (static_cast<int>(list.size()) == limit) next = std::to_string(list.back().id);
               return http::ListResponse(std::move(items), next);
             });
}

void RegisterPriceRoutes(http::Router& router, Service& service) {
  router.Add({"GET", "/api/v1/metering/skus", "usage.read"}, [&service](Context&) -> Result<Response> {
    GANTRY_TRY(auto list, service.Skus());
    return Items(list);
  });
  router.Add({"PATCH", "/api/v1/metering/skus/{sku}", "prices.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"policy"}));
               GANTRY_TRY(auto policy, core::GetString(body, "policy"));
               GANTRY_TRY(auto s, service.SetSkuPolicy(c.rc, c.Param("sku"), policy));
               return Response::Json(ToJson(s));
             });
  router.Add({"GET", "/api/v1/metering/prices", "usage.read"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"sku"}));
               GANTRY_TRY(auto list, service.Prices(c.request.Query("sku").value_or("")));
               return Items(list);
             });
  router.Add({"POST", "/api/v1/metering/prices", "prices.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(
                   body, {"sku", "unit_price_micros", "effective_from", "currency"}));
               Price p;
               GANTRY_TRY(p.sku, core::GetString(body, "sku"));
               GANTRY_TRY(p.unit_price_micros, core::GetInt(body, "unit_price_micros"));
               GANTRY_TRY(p.effective_from, GetTime(body, "effective_from"));
               GANTRY_TRY(auto currency, core::OptString(body, "currency"));
               p.currency = currency.value_or("");
               GANTRY_TRY(auto created, service.AddPrice(c.rc, p));
               return Response::Json(ToJson(created), 201);
             });
}

void RegisterBillingRoutes(http::Router& router, Billing& billing) {
  router.Add({"GET", "/api/v1/invoices", "invoices.read"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"tenant", "month"}));
    GANTRY_TRY(auto list, billing.List(c.rc, c.request.Query("tenant"), c.request.Query("month")));
    return Items(list);
  });
  router.Add({"POST", "/api/v1/invoices", "invoices.write"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"tenant", "month"}));
    GANTRY_TRY(auto tenant, core::GetString(body, "tenant"));
    GANTRY_TRY(auto month, core::GetString(body, "month"));
    GANTRY_TRY(auto inv, billing.Issue(c.rc, tenant, month));
    return Response::Json(ToJson(inv), 201);
  });
  router.Add({"GET", "/api/v1/invoices/preview", "invoices.read"},
             [&billing](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"tenant", "month"}));
               auto tenant = c.request.Query("tenant");
               auto month = c.request.Query("month");
               if (!tenant || !month) {
                 return core::InvalidArgument("tenant and month are required", "tenant");
               }
               GANTRY_TRY(auto inv, billing.Preview(c.rc, *tenant, *month));
               return Response::Json(ToJson(inv));
             });
  router.Add({"GET", "/api/v1/invoices/{id}", "invoices.read"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"format"}));
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto inv, billing.Get(c.rc, id));
    auto format = c.request.Query("format").value_or("json");
    if (format == "json") return Response::Json(ToJson(inv));
    GANTRY_TRY(auto text, ExportInvoice(inv, format));
    auto r = Response::Text(std::move(text), "text/csv; charset=utf-8");
    r.SetHeader("content-disposition",
                "attachment; filename=\"" + inv.number + (format == "focus" ? "-focus" : "") + ".csv\"");
    return r;
  });
  router.Add({"POST", "/api/v1/invoices/{id}/credit-notes", "invoices.write"},
             [&billing](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, http::IdParam(c));
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"reason", "amount_micros"}));
               GANTRY_TRY(auto reason, core::GetString(body, "reason"));
               GANTRY_TRY(auto amount, core::OptInt(body, "amount_micros"));
               GANTRY_TRY(auto cn, billing.CreditNote(c.rc, id, reason, amount));
               return Response::Json(ToJson(cn), 201);
             });

  std::string tenant = "/api/v1/tenants/{tenant}";
  router.Add({"GET", tenant + "/discounts", "invoices.read"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, billing.Discounts(c.rc, c.Param("tenant")));
    return Items(list);
  });
  router.Add({"POST", tenant + "/discounts", "prices.write"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"kind", "sku", "basis_points", "quantity",
                                              "effective_from", "effective_until"}));
    Discount d;
    GANTRY_TRY(d.kind, core::GetString(body, "kind"));
    GANTRY_TRY(auto sku, core::OptString(body, "sku"));
    d.sku = sku.value_or("");
    GANTRY_TRY(d.basis_points, core::GetInt(body, "basis_points"));
    GANTRY_TRY(auto q, core::OptInt(body, "quantity"));
    d.quantity = q.value_or(0);
    GANTRY_TRY(auto from, OptTime(body, "effective_from"));
    d.effective_from = from.value_or(0);
    GANTRY_TRY(d.effective_until, OptTime(body, "effective_until"));
    GANTRY_TRY(auto created, billing.AddDiscount(c.rc, c.Param("tenant"), d));
    return Response::Json(ToJson(created), 201);
  });
  router.Add({"DELETE", tenant + "/discounts/{id}", "prices.write"},
             [&billing](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, http::IdParam(c));
               GANTRY_TRY_STATUS(billing.DeleteDiscount(c.rc, c.Param("tenant"), id));
               return Response::NoContent();
             });

  router.Add({"GET", tenant + "/budgets", "invoices.read"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, billing.Budgets(c.rc, c.Param("tenant")));
    return Items(list);
  });
  router.Add({"PUT", tenant + "/budgets", "budgets.write"}, [&billing](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"project", "metric", "limit", "hard", "hold_slurm"}));
    Budget b;
    GANTRY_TRY(auto project, core::OptString(body, "project"));
    GANTRY_TRY(b.metric, core::GetString(body, "metric"));
    GANTRY_TRY(b.limit, core::GetInt(body, "limit"));
    GANTRY_TRY(auto hard, core::OptBool(body, "hard"));
    GANTRY_TRY(auto hold, core::OptBool(body, "hold_slurm"));
    b.hard = hard.value_or(false);
    b.hold_slurm = hold.value_or(false);
    GANTRY_TRY(auto st, billing.SetBudget(c.rc, c.Param("tenant"), project.value_or(""), b));
    return Response::Json(ToJson(st));
  });
  router.Add({"DELETE", tenant + "/budgets/{id}", "budgets.write"},
             [&billing](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, http::IdParam(c));
               GANTRY_TRY_STATUS(billing.DeleteBudget(c.rc, c.Param("tenant"), id));
               return Response::NoContent();
             });
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& service, Billing& billing) {
  RegisterUsageRoutes(router, service);
  RegisterPriceRoutes(router, service);
  RegisterBillingRoutes(router, billing);
}

}  // namespace gantry::metering
