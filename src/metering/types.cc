#include "metering/types.h"

#include <ctime>

#include "tenancy/types.h"

namespace gantry::metering {

std::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kUnknownTenant: return "unknown_tenant";
    case Reason::kUnknownProject: return "unknown_project";
    case Reason::kUnknownSku: return "unknown_sku";
    case Reason::kBadKind: return "bad_kind";
    case Reason::kBadQuantity: return "bad_quantity";
    case Reason::kBadInterval: return "bad_interval";
    case Reason::kLate: return "late";
    case Reason::kClockSkew: return "clock_skew";
    case Reason::kPeriodInvoiced: return "period_invoiced";
  }
  return "unknown";
}

const std::vector<Reason>& AllReasons() {
  static const std::vector<Reason> all = {
      Reason::kUnknownTenant, Reason::kUnknownProject, Reason::kUnknownSku,
      Reason::kBadKind,       Reason::kBadQuantity,    Reason::kBadInterval,
      Reason::kLate,          Reason::kClockSkew,      Reason::kPeriodInvoiced};
  return all;
}

std::pair<core::UnixNanos, core::UnixNanos> MonthOf(core::UnixNanos t) {
  time_t secs = static_cast<time_t>(t / core::kNanosPerSecond - (t % core::kNanosPerSecond < 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::tm start{};
  start.tm_year = tm.tm_year;
  start.tm_mon = tm.tm_mon;
  start.tm_mday = 1;
  std::tm end = start;
  end.tm_mon += 1;
  return {static_cast<int64_t>(timegm(&start)) * core::kNanosPerSecond,
          static_cast<int64_t>(timegm(&end)) * core::kNanosPerSecond};
}

core::Result<std::pair<core::UnixNanos, core::UnixNanos>> ParseMonth(std::string_view s) {
  auto bad = core::InvalidArgument("month must look like 2026-11", "month");
  if (s.size() != 7 || s[4] != '-') return bad;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (s[i] < '0' || s[i] > '9') return bad;
  }
  int year = std::stoi(std::string(s.substr(0, 4)));
  int month = std::stoi(std::string(s.substr(5, 2)));
  if (year < 1970 || year > 9999 || month < 1 || month > 12) return bad;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = 1;
  return MonthOf(static_cast<int64_t>(timegm(&tm)) * core::kNanosPerSecond);
}

std::string FormatMonth(core::UnixNanos month_start) {
  return core::FormatRfc3339(month_start).substr(0, 7);
}

core::Status ValidateSkuName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() >= 'a' && name.front() <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  }
  if (ok) return {};
  return core::InvalidArgument("SKU names are 1-64 characters of a-z, 0-9, '-' and '.', "
                               "starting with a letter",
                               "sku");
}

core::Status ValidateKey(std::string_view key, std::string_view field) {
  if (key.empty() || key.size() > 200) {
    return core::InvalidArgument(std::string(field) + " must be 1-200 characters", std::string(field));
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return core::InvalidArgument(std::string(field) + " must be printable ASCII without spaces",
                                   std::string(field));
    }
  }
  return {};
}

std::vector<std::pair<core::UnixNanos, int64_t>> SplitByHour(int64_t quantity,
                                                             core::UnixNanos start,
                                                             core::UnixNanos end) {
  auto floor_hour = [](core::UnixNanos t) {
    int64_t h = t / kNanosPerHour;
    if (t % kNanosPerHour < 0) --h;
    return h * kNanosPerHour;
  };
  std::vector<std::pair<core::UnixNanos, int64_t>> out;
  if (end <= start) {
    out.emplace_back(floor_hour(start), quantity);
    return out;
  }
  __int128 total = end - start;
  __int128 cum = 0;
  int64_t given = 0;
  for (core::UnixNanos h = floor_hour(start); h < end; h += kNanosPerHour) {
    core::UnixNanos a = std::max(h, start), b = std::min(h + kNanosPerHour, end);
    cum += b - a;
    int64_t upto = static_cast<int64_t>(static_cast<__int128>(quantity) * cum / total);
    out.emplace_back(h, upto - given);
    given = upto;
  }
  return out;
}

int64_t DivRoundHalfEven(__int128 num, __int128 den) {
  bool neg = num < 0;
  if (neg) num = -num;
  __int128 q = num / den, r = num % den;
  __int128 twice = 2 * r;
  if (twice > den || (twice == den && (q % 2) == 1)) ++q;
  return static_cast<int64_t>(neg ? -q : q);
}

core::Result<int64_t> RateAmount(int64_t quantity, int64_t unit_price_micros,
                                 int64_t base_per_price_unit, int64_t discount_bp) {
  if (quantity < 0 || quantity > kMaxQuantity || unit_price_micros < 0 ||
      unit_price_micros > (int64_t{1} << 50) || base_per_price_unit <= 0 || discount_bp < 0 ||
      discount_bp > 10000) {
    return core::InvalidArgument("rating input out of range");
  }
  // 2^60 · 2^50 · 2^14 = 2^124 < 2^127: no overflow in 128 bits.
  __int128 num = static_cast<__int128>(quantity) * unit_price_micros * (10000 - discount_bp);
  __int128 den = static_cast<__int128>(base_per_price_unit) * 10000;
  __int128 q = num / den;
  if (q >= (static_cast<__int128>(1) << 62)) return core::InvalidArgument("amount overflows");
  return DivRoundHalfEven(num, den);
}

std::string PriceUnits(int64_t quantity, int64_t base_per_price_unit) {
  __int128 micro = static_cast<__int128>(quantity) * 1'000'000 / base_per_price_unit;
  int64_t whole = static_cast<int64_t>(micro / 1'000'000);
  int64_t frac = static_cast<int64_t>(micro % 1'000'000);
  std::string f = std::to_string(frac);
  f = std::string(6 - f.size(), '0') + f;
  while (!f.empty() && f.back() == '0') f.pop_back();
  return std::to_string(whole) + (f.empty() ? "" : "." + f);
}

std::string Money(int64_t micros) {
  bool neg = micros < 0;
  uint64_t m = neg ? static_cast<uint64_t>(-(micros + 1)) + 1 : static_cast<uint64_t>(micros);
  std::string f = std::to_string(m % 1'000'000);
  f = std::string(6 - f.size(), '0') + f;
  return (neg ? "-" : "") + std::to_string(m / 1'000'000) + "." + f;
}

namespace {

core::json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}

}  // namespace

core::json::object ToJson(const Sku& s) {
  return {{"name", s.name},
          {"description", s.description},
          {"base_unit", s.base_unit},
          {"price_unit", s.price_unit},
          {"base_per_price_unit", s.base_per_price_unit},
          {"policy", s.policy},
          {"gpu_permille", s.gpu_permille}};
}

core::json::object ToJson(const Price& p) {
  return {{"id", p.id},
          {"sku", p.sku},
          {"effective_from", core::FormatRfc3339(p.effective_from)},
          {"unit_price_micros", p.unit_price_micros},
          {"unit_price", Money(p.unit_price_micros)},
          {"currency", p.currency},
          {"created_by", p.created_by}};
}

core::json::object ToJson(const Discount& d) {
  return {{"id", d.id},
          {"kind", d.kind},
          {"sku", d.sku},
          {"basis_points", d.basis_points},
          {"quantity", d.quantity},
          {"effective_from", core::FormatRfc3339(d.effective_from)},
          {"effective_until", OptTime(d.effective_until)}};
}

core::json::object ToJson(const Quarantined& q) {
  core::json::value record(q.record);
  if (auto parsed = core::ParseJson(q.record)) record = *parsed;
  return {{"id", q.id},
          {"key", q.key},
          {"source", q.source},
          {"reason", q.reason},
          {"detail", q.detail},
          {"record", record},
          {"received_at", core::FormatRfc3339(q.received_at)}};
}

core::json::object ToJson(const InvoiceLine& l) {
  return {{"line", l.line_no},
          {"project", l.project},
          {"sku", l.sku},
          {"policy", l.policy},
          {"description", l.description},
          {"quantity", l.quantity},
          {"base_unit", l.base_unit},
          {"priced_quantity", PriceUnits(l.quantity, l.base_per_price_unit)},
          {"price_unit", l.price_unit},
          {"unit_price_micros", l.unit_price_micros},
          {"discount_bp", l.discount_bp},
          {"amount_micros", l.amount_micros},
          {"amount", Money(l.amount_micros)},
          {"charge_start", core::FormatRfc3339(l.charge_start)},
          {"charge_end", core::FormatRfc3339(l.charge_end)}};
}

core::json::object ToJson(const Invoice& i) {
  core::json::array lines;
  for (const auto& l : i.lines) lines.push_back(ToJson(l));
  return {{"id", i.id},
          {"number", i.number},
          {"kind", i.kind},
          {"tenant", i.tenant},
          {"period", FormatMonth(i.period_start)},
          {"period_start", core::FormatRfc3339(i.period_start)},
          {"period_end", core::FormatRfc3339(i.period_end)},
          {"currency", i.currency},
          {"total_micros", i.total_micros},
          {"total", Money(i.total_micros)},
          {"corrects", i.corrects ? core::json::value(*i.corrects) : core::json::value(nullptr)},
          {"reason", i.reason},
          {"issued", i.id != 0},
          {"issued_by", i.issued_by},
          {"issued_at", i.id ? core::json::value(core::FormatRfc3339(i.issued_at))
                             : core::json::value(nullptr)},
          {"lines", std::move(lines)}};
}

core::json::object ToJson(const BudgetStatus& b) {
  core::json::array alerts;
  for (auto a : b.alerts) alerts.push_back(a);
  return {{"id", b.budget.id},
          {"tenant", b.budget.tenant},
          {"project", b.budget.project},
          {"metric", b.budget.metric},
          {"limit", b.budget.limit},
          {"hard", b.budget.hard},
          {"hold_slurm", b.budget.hold_slurm},
          {"period_start", core::FormatRfc3339(b.period_start)},
          {"period_end", core::FormatRfc3339(b.period_end)},
          {"spent", b.spent},
          {"percent", b.percent},
          {"exhausted", b.exhausted},
          {"alerts", std::move(alerts)}};
}

core::json::object ToJson(const UsageRecord& r) {
  return {{"key", r.key},
          {"tenant", r.tenant},
          {"project", r.project},
          {"sku", r.sku},
          {"kind", r.kind},
          {"quantity", r.quantity},
          {"start", core::FormatRfc3339(r.start)},
          {"end", core::FormatRfc3339(r.end)}};
}

const std::vector<Sku>& DefaultSkus() {
  static const std::vector<Sku> skus = [] {
    std::vector<Sku> v;
    constexpr int64_t kMilliHour = 3'600'000;
    for (auto m : tenancy::GpuModels()) {
      std::string model(m);
      v.push_back({"gpu-" + model + "-hour", "Dedicated " + model + " GPU time",
                   "milligpu-second", "GPU-hour", kMilliHour, kAllocated, 1000});
      v.push_back({"gpu-" + model + "-shared-hour",
                   "Time-sliced " + model + " GPU, by measured share", "milligpu-second",
                   "GPU-hour", kMilliHour, kUsed, 1000});
    }
    for (auto p : tenancy::MigProfiles()) {
      std::string profile(p);
      int64_t slices = profile[0] - '0';  // "3g.40gb": 3 of 7 compute slices
      v.push_back({"mig-" + profile + "-hour", "MIG " + profile + " slice time",
                   "millislice-second", "slice-hour", kMilliHour, kAllocated,
                   (slices * 1000 + 3) / 7});
    }
    v.push_back({"cpu-core-hour", "CPU core time", "millicore-second", "core-hour", kMilliHour,
                 kAllocated, 0});
    v.push_back({"memory-gib-hour", "Memory", "mib-second", "GiB-hour", 1024 * 3600, kAllocated,
                 0});
    v.push_back({"storage-gib-month", "Storage capacity (a month is 730 hours)", "mib-second",
                 "GiB-month", int64_t{1024} * 730 * 3600, kAllocated, 0});
    v.push_back({"baremetal-node-hour", "Bare-metal node lease", "millinode-second",
                 "node-hour", kMilliHour, kAllocated, 0});
    v.push_back({"instance-hour", "Portal instance", "milliinstance-second", "instance-hour",
                 kMilliHour, kAllocated, 0});
    return v;
  }();
  return skus;
}

}  // namespace gantry::metering
