// gantry usage show|quarantine, gantry price list|skus|set|policy,
// gantry invoice list|preview|issue|show|credit, gantry budget list|set|delete
#include <charconv>

#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

const json::array& Items(const Session& s, const json::value& list) {
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) s.Fail(core::Unavailable("unexpected answer from " + s.connection().server));
  return items->get_array();
}

// "2.50" → 2500000 micro-units; at most 6 decimals.
core::Result<int64_t> ParseMoney(const std::string& text) {
  auto bad = core::InvalidArgument("a price is a decimal amount with at most 6 decimals, e.g. 2.50");
  auto dot = text.find('.');
  std::string whole = text.substr(0, dot), frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > 6) return bad;
  frac.resize(6, '0');
  int64_t w = 0, f = 0;
  for (const auto* s : {&whole, &frac}) {
    for (char c : *s) {
      if (c < '0' || c > '9') return bad;
    }
  }
  auto r1 = std::from_chars(whole.data(), whole.data() + whole.size(), w);
  auto r2 = std::from_chars(frac.data(), frac.data() + frac.size(), f);
  if (r1.ec != std::errc() || r2.ec != std::errc() || w > 1'000'000'000) return bad;
  return w * 1'000'000 + f;
}

void UsageShow(const GlobalFlags& flags, const std::map<std::string, std::string>& filters, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  for (const auto& [k, v] : filters) {
    if (!v.empty()) q.emplace_back(k, v);
  }
  auto list = s->Check(s->api().Get("/api/v1/metering/usage", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("START", "start"), FieldColumn("TENANT", "tenant"),
                              FieldColumn("PROJECT", "project"), FieldColumn("SKU", "sku"),
                              FieldColumn("KIND", "kind"), FieldColumn("QUANTITY", "quantity")})
      .Print(s->out());
}

void Quarantine(const GlobalFlags& flags, const std::string& reason, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!reason.empty()) q.emplace_back("reason", reason);
  auto list = s->Check(s->api().Get("/api/v1/metering/quarantine", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("ID", "id"), FieldColumn("KEY", "key"),
                              FieldColumn("SOURCE", "source"), FieldColumn("REASON", "reason"),
                              FieldColumn("DETAIL", "detail"), FieldColumn("RECEIVED", "received_at")})
      .Print(s->out());
}

void PriceList(const GlobalFlags& flags, const std::string& sku, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!sku.empty()) q.emplace_back("sku", sku);
  auto list = s->Check(s->api().Get("/api/v1/metering/prices", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("SKU", "sku"), FieldColumn("FROM", "effective_from"),
                              FieldColumn("PRICE", "unit_price"), FieldColumn("CURRENCY", "currency"),
                              FieldColumn("BY", "created_by")})
      .Print(s->out());
}

void SkuList(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get("/api/v1/metering/skus"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("SKU", "name"), FieldColumn("PRICE UNIT", "price_unit"),
                              FieldColumn("BASE UNIT", "base_unit"),
                              FieldColumn("BASE/PRICE UNIT", "base_per_price_unit"),
                              FieldColumn("POLICY", "policy"), FieldColumn("DESCRIPTION", "description")})
      .Print(s->out());
}

struct PriceArgs {
  std::string sku, price, from, policy;
};

void PriceSet(const GlobalFlags& flags, const PriceArgs& a, const Io& io) {
  auto micros = ParseMoney(a.price);
  if (!micros) app::Fail(kExitUsage, micros.error().message);
  auto s = Session::Open(flags, io);
  auto p = s->Check(s->api().Post("/api/v1/metering/prices",
                                  json::object{{"sku", a.sku},
                                               {"unit_price_micros", *micros},
                                               {"effective_from", a.from}}));
  if (s->json()) return s->PrintJson(p);
  s->out() << FieldText(p, "sku") << " costs " << FieldText(p, "unit_price") << " "
           << FieldText(p, "currency") << " from " << FieldText(p, "effective_from") << "\n";
}

void SkuPolicy(const GlobalFlags& flags, const PriceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  auto p = s->Check(s->api().Patch("/api/v1/metering/skus/" + PathSegment(a.sku),
                                   json::object{{"policy", a.policy}}));
  if (s->json()) return s->PrintJson(p);
  s->out() << FieldText(p, "name") << " bills " << FieldText(p, "policy") << " usage\n";
}

void PrintInvoice(const Session& s, const json::value& inv) {
  PrintFields(s.out(), {{"NUMBER", FieldText(inv, "number")},
                        {"KIND", FieldText(inv, "kind")},
                        {"TENANT", FieldText(inv, "tenant")},
                        {"PERIOD", FieldText(inv, "period")},
                        {"ISSUED", FieldText(inv, "issued_at")},
                        {"TOTAL", FieldText(inv, "total") + " " + FieldText(inv, "currency")}});
  const auto* lines = inv.is_object() ? inv.get_object().if_contains("lines") : nullptr;
  if (!lines || !lines->is_array()) return;
  s.out() << "\n";
  MakeTable(lines->get_array(),
            {FieldColumn("#", "line"), FieldColumn("PROJECT", "project"), FieldColumn("SKU", "sku"),
             FieldColumn("POLICY", "policy"), FieldColumn("QUANTITY", "priced_quantity"),
             FieldColumn("UNIT", "price_unit"), FieldColumn("PRICE µ", "unit_price_micros"),
             FieldColumn("DISC bp", "discount_bp"), FieldColumn("AMOUNT", "amount")})
      .Print(s.out());
}

struct InvoiceArgs {
  std::string tenant, month, format = "json", reason;
  int64_t id = 0;
  std::string amount;
};

void InvoiceList(const GlobalFlags& flags, const InvoiceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!a.tenant.empty()) q.emplace_back("tenant", a.tenant);
  if (!a.month.empty()) q.emplace_back("month", a.month);
  auto list = s->Check(s->api().Get("/api/v1/invoices", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("ID", "id"), FieldColumn("NUMBER", "number"),
                              FieldColumn("KIND", "kind"), FieldColumn("TENANT", "tenant"),
                              FieldColumn("PERIOD", "period"), FieldColumn("TOTAL", "total"),
                              FieldColumn("CURRENCY", "currency"), FieldColumn("ISSUED", "issued_at")})
      .Print(s->out());
}

void InvoicePreview(const GlobalFlags& flags, const InvoiceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  auto inv = s->Check(s->api().Get("/api/v1/invoices/preview", {{"tenant", a.tenant}, {"month", a.month}}));
  if (s->json()) return s->PrintJson(inv);
  s->out() << "Draft (not issued)\n";
  PrintInvoice(*s, inv);
}

void InvoiceIssue(const GlobalFlags& flags, const InvoiceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  auto inv = s->Check(s->api().Post("/api/v1/invoices", json::object{{"tenant", a.tenant}, {"month", a.month}}));
  if (s->json()) return s->PrintJson(inv);
  PrintInvoice(*s, inv);
}

void InvoiceShow(const GlobalFlags& flags, const InvoiceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  std::string path = "/api/v1/invoices/" + std::to_string(a.id);
  if (a.format == "csv" || a.format == "focus") {
    auto r = s->Check(s->api().Send("GET", path, {{"format", a.format}}, nullptr, "application/json",
                                    "text/csv, application/problem+json"));
    if (r.status != 200) s->Fail(ErrorFromResponse(r.status, r.body, r.request_id));
    s->out() << r.body;
    return;
  }
  if (a.format != "json") app::Fail(kExitUsage, "--format must be json, csv or focus");
  auto inv = s->Check(s->api().Get(path));
  if (s->json()) return s->PrintJson(inv);
  PrintInvoice(*s, inv);
}

void InvoiceCredit(const GlobalFlags& flags, const InvoiceArgs& a, const Io& io) {
  json::object body{{"reason", a.reason}};
  if (!a.amount.empty()) {
    auto micros = ParseMoney(a.amount);
    if (!micros) app::Fail(kExitUsage, micros.error().message);
    body["amount_micros"] = *micros;
  }
  auto s = Session::Open(flags, io);
  auto cn = s->Check(s->api().Post("/api/v1/invoices/" + std::to_string(a.id) + "/credit-notes", body));
  if (s->json()) return s->PrintJson(cn);
  PrintInvoice(*s, cn);
}

struct BudgetArgs {
  std::string tenant, metric, project;
  int64_t limit = 0, id = 0;
  bool hard = false, hold = false;
};

void BudgetList(const GlobalFlags& flags, const BudgetArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get("/api/v1/tenants/" + PathSegment(a.tenant) + "/budgets"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("ID", "id"), FieldColumn("PROJECT", "project"),
                              FieldColumn("METRIC", "metric"), FieldColumn("LIMIT", "limit"),
                              FieldColumn("SPENT", "spent"), FieldColumn("%", "percent"),
                              FieldColumn("HARD", "hard"), FieldColumn("HOLD SLURM", "hold_slurm"),
                              FieldColumn("EXHAUSTED", "exhausted"), FieldColumn("ALERTS", "alerts")})
      .Print(s->out());
}

void BudgetSet(const GlobalFlags& flags, const BudgetArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"metric", a.metric}, {"limit", a.limit}, {"hard", a.hard}, {"hold_slurm", a.hold}};
  if (!a.project.empty()) body["project"] = a.project;
  std::string text = core::ToJson(body);
  auto r = s->Check(s->api().Send("PUT", "/api/v1/tenants/" + PathSegment(a.tenant) + "/budgets", {}, &text));
  if (r.status != 200) s->Fail(ErrorFromResponse(r.status, r.body, r.request_id));
  auto st = core::ParseJson(r.body);
  if (!st) s->Fail(core::Unavailable("the answer is not JSON"));
  if (s->json()) return s->PrintJson(*st);
  s->out() << "Budget " << FieldText(*st, "id") << ": " << FieldText(*st, "spent") << " of "
           << FieldText(*st, "limit") << " (" << FieldText(*st, "metric") << ", "
           << FieldText(*st, "percent") << "%) this month\n";
}

void BudgetDelete(const GlobalFlags& flags, const BudgetArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete("/api/v1/tenants/" + PathSegment(a.tenant) + "/budgets/" + std::to_string(a.id)));
  if (s->json()) return s->PrintJson(json::object{{"deleted", a.id}});
  s->out() << "Budget " << a.id << " deleted\n";
}

template <class Args, class Fn>
CLI::App* Add(CLI::App* parent, const char* name, const char* help, IoPtr io, Fn fn,
              std::shared_ptr<Args> args, std::shared_ptr<GlobalFlags> flags) {
  auto* cmd = parent->add_subcommand(name, help);
  AddGlobalFlags(cmd, *flags);
  cmd->callback([flags, args, io, fn] { fn(*flags, *args, *io); });
  return cmd;
}

}  // namespace

void RegisterMeteringCommands(CLI::App& app, IoPtr io) {
  auto* usage = app.add_subcommand("usage", "Metered usage: roll-ups and the quarantine");
  usage->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto f = std::make_shared<std::map<std::string, std::string>>();
    auto* cmd = usage->add_subcommand("show", "Hourly or daily usage per tenant, project and SKU");
    for (const char* k : {"tenant", "project", "sku", "kind", "since", "until", "granularity"}) {
      cmd->add_option(std::string("--") + k, (*f)[k], std::string("Filter: ") + k);
    }
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry usage show --tenant acme --granularity day\n"
                "  gantry usage show --tenant acme --project train --sku gpu-h100-hour --since 2026-11-01T00:00:00Z\n"
                "Quantities are in the SKU's base unit (milli-GPU-seconds: 3600000 = one GPU-hour).");
    cmd->callback([flags, f, io] { UsageShow(*flags, *f, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto reason = std::make_shared<std::string>();
    auto* cmd = usage->add_subcommand("quarantine", "Records that were not counted, with the reason");
    cmd->add_option("--reason", *reason, "late, clock_skew, unknown_tenant, unknown_sku, ...");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, reason, io] { Quarantine(*flags, *reason, *io); });
  }

  auto* price = app.add_subcommand("price", "The price book: SKUs and effective-dated prices");
  price->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<PriceArgs>();
    auto* cmd = price->add_subcommand("list", "Prices, oldest first per SKU");
    cmd->add_option("--sku", a->sku, "Only this SKU");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { PriceList(*flags, a->sku, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = price->add_subcommand("skus", "The SKUs with their units and billing policy");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] { SkuList(*flags, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<PriceArgs>();
    auto* cmd = Add(price, "set", "Add a price effective from a time (admin)", io, PriceSet, a, flags);
    cmd->add_option("SKU", a->sku, "e.g. gpu-h100-hour")->required();
    cmd->add_option("PRICE", a->price, "Per price unit, e.g. 2.50")->required();
    cmd->add_option("--from", a->from, "RFC 3339 time the price takes effect")->required();
    cmd->footer("Examples:\n  gantry price set gpu-h100-hour 2.50 --from 2026-12-01T00:00:00Z\n"
                "Issued invoices never change when a price does.");
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<PriceArgs>();
    auto* cmd = Add(price, "policy", "Bill a SKU by allocated or used time (admin)", io, SkuPolicy, a, flags);
    cmd->add_option("SKU", a->sku, "SKU name")->required();
    cmd->add_option("POLICY", a->policy, "allocated or used")->required()->check(CLI::IsMember({"allocated", "used"}));
  }

  auto* invoice = app.add_subcommand("invoice", "Monthly invoices, credit notes and exports");
  invoice->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<InvoiceArgs>();
    auto* cmd = Add(invoice, "list", "Issued invoices and credit notes", io, InvoiceList, a, flags);
    cmd->add_option("--tenant", a->tenant, "Tenant slug or id");
    cmd->add_option("--month", a->month, "YYYY-MM");
  }
  for (auto [name, help, fn] : {std::tuple{"preview", "The month's invoice as it stands (not stored)", &InvoicePreview},
                                std::tuple{"issue", "Issue a tenant's invoice for an ended month (admin)", &InvoiceIssue}}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<InvoiceArgs>();
    auto* cmd = Add(invoice, name, help, io, fn, a, flags);
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("MONTH", a->month, "YYYY-MM")->required();
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<InvoiceArgs>();
    auto* cmd = Add(invoice, "show", "Show or export an invoice", io, InvoiceShow, a, flags);
    cmd->add_option("ID", a->id, "Invoice id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--format", a->format, "json (table), csv or focus (FinOps FOCUS 1.0)");
    cmd->footer("Examples:\n  gantry invoice show 12 --format focus > acme-2026-11-focus.csv");
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<InvoiceArgs>();
    auto* cmd = Add(invoice, "credit", "Correct an invoice with a credit note (admin)", io, InvoiceCredit, a, flags);
    cmd->add_option("ID", a->id, "Invoice id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--reason", a->reason, "Why")->required();
    cmd->add_option("--amount", a->amount, "Credit this amount (e.g. 100.00); default: every line");
  }

  auto* budget = app.add_subcommand("budget", "Budgets per tenant or project and month");
  budget->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<BudgetArgs>();
    auto* cmd = Add(budget, "list", "Budgets with this month's spend", io, BudgetList, a, flags);
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<BudgetArgs>();
    auto* cmd = Add(budget, "set", "Set a budget (admin, tenant-admin)", io, BudgetSet, a, flags);
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("METRIC", a->metric, "cost (micro-units) or gpu_hours")->required()->check(CLI::IsMember({"cost", "gpu_hours"}));
    cmd->add_option("LIMIT", a->limit, "Per month")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--project", a->project, "Budget of this project");
    cmd->add_flag("--hard", a->hard, "Admission refuses new (GPU) work once spent");
    cmd->add_flag("--hold-slurm", a->hold, "Also hold the queued Slurm jobs (metering.budgets job)");
    cmd->footer("Examples:\n  gantry budget set acme gpu_hours 10000 --project train --hard --hold-slurm\n"
                "Alerts are raised at 50, 80 and 100 %.");
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<BudgetArgs>();
    auto* cmd = Add(budget, "delete", "Delete a budget", io, BudgetDelete, a, flags);
    cmd->add_option("TENANT", a->tenant, "Tenant slug or id")->required();
    cmd->add_option("ID", a->id, "Budget id")->required()->check(CLI::PositiveNumber);
  }
}

}  // namespace gantry::app::client
