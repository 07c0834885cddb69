// Metering: usage records, SKUs, prices, discounts, invoices and budgets.
//
// Quantities are integers in the SKU's base unit (for example milli-GPU-seconds for
// gpu-h100-hour); a SKU's price is in integer micro-units of the currency per *price unit*
// (one GPU-hour), and base_per_price_unit says how many base units make one price unit
// (3,600,000 milli-GPU-seconds per GPU-hour). Times are UTC nanoseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::metering {

inline constexpr char kAllocated[] = "allocated";
inline constexpr char kUsed[] = "used";

// Largest quantity of one record (2^60 base units).
inline constexpr int64_t kMaxQuantity = int64_t{1} << 60;
inline constexpr int64_t kNanosPerHour = 3600 * core::kNanosPerSecond;
inline constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

// One usage record as a source reports it. `tenant` and `project` are slugs (or ids);
// `project` empty is the tenant level. [start, end) is the interval the quantity covers.
struct UsageRecord {
  std::string key;  // idempotency key: 1-200 printable ASCII characters
  std::string tenant;
  std::string project;
  std::string sku;
  std::string kind = kAllocated;  // allocated or used
  int64_t quantity = 0;
  core::UnixNanos start = 0;
  core::UnixNanos end = 0;
};

// Why a record was not counted. Each reason is a label value of
// gantry_metering_quarantined_total.
enum class Reason {
  kUnknownTenant,
  kUnknownProject,
  kUnknownSku,
  kBadKind,
  kBadQuantity,  // negative or above 2^60
  kBadInterval,  // end before start, or longer than 31 days
  kLate,         // ended before now - late window
  kClockSkew,    // starts after now + allowed skew
  kPeriodInvoiced,  // the tenant's month is already invoiced
};
std::string_view ReasonName(Reason r);
const std::vector<Reason>& AllReasons();

struct Quarantined {
  int64_t id = 0;
  std::string key;
  std::string source;
  std::string reason;
  std::string detail;
  std::string record;  // the record as JSON
  core::UnixNanos received_at = 0;
};

struct IngestResult {
  int64_t accepted = 0;
  int64_t duplicates = 0;   // keys already counted (a replay)
  int64_t quarantined = 0;  // this time (a replay of a quarantined record counts again here)
  std::vector<std::pair<std::string, std::string>> quarantine;  // key, reason
};

// ---- price book ----------------------------------------------------------------------------

struct Sku {
  std::string name;  // [a-z0-9.-]{1,64}: gpu-h100-hour, mig-1g.10gb-hour, storage-gib-month
  std::string description;
  std::string base_unit;   // milligpu-second, mib-second, ...
  std::string price_unit;  // GPU-hour, GiB-month, ...
  int64_t base_per_price_unit = 1;
  std::string policy = kAllocated;  // which kind of usage the bill counts
  int64_t gpu_permille = 0;  // share of one GPU per base unit for GPU-hour budgets (0: none)
};

struct Price {
  int64_t id = 0;
  std::string sku;
  core::UnixNanos effective_from = 0;
  int64_t unit_price_micros = 0;
  std::string currency;
  std::string created_by;
};

inline constexpr char kPercentage[] = "percentage";
inline constexpr char kTier[] = "tier";
inline constexpr char kCommitment[] = "commitment";

struct Discount {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string kind;  // percentage, tier, commitment
  std::string sku;   // empty: every SKU (percentage only)
  int64_t basis_points = 0;
  int64_t quantity = 0;  // tier: from this monthly quantity on; commitment: committed quantity
  core::UnixNanos effective_from = 0;
  std::optional<core::UnixNanos> effective_until;
};

// ---- invoices -------------------------------------------------------------------------------

struct InvoiceLine {
  int64_t line_no = 0;
  std::string project;  // slug; empty: tenant level
  std::string sku;
  std::string policy;
  std::string description;
  int64_t quantity = 0;  // base units
  std::string base_unit;
  std::string price_unit;
  int64_t base_per_price_unit = 1;
  int64_t unit_price_micros = 0;
  int64_t discount_bp = 0;
  int64_t amount_micros = 0;
  core::UnixNanos charge_start = 0, charge_end = 0;
};

struct Invoice {
  int64_t id = 0;  // 0: a preview, not issued
  std::string number;
  std::string kind = "invoice";  // invoice or credit_note
  int64_t tenant_id = 0;
  std::string tenant;
  core::UnixNanos period_start = 0, period_end = 0;
  std::string currency;
  int64_t total_micros = 0;
  std::optional<int64_t> corrects;  // credit notes: the invoice they correct
  std::string reason;
  std::string issued_by;
  core::UnixNanos issued_at = 0;
  std::vector<InvoiceLine> lines;
};

// ---- budgets ---------------------------------------------------------------------------------

struct Budget {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string tenant;
  int64_t project_id = 0;
  std::string project;
  std::string metric;  // cost (micro-units) or gpu_hours
  int64_t limit = 0;
  bool hard = false;
  bool hold_slurm = false;
};

struct BudgetStatus {
  Budget budget;
  core::UnixNanos period_start = 0, period_end = 0;
  int64_t spent = 0;  // same unit as limit (micro-units, or whole GPU-hours rounded down)
  int64_t spent_base = 0;  // gpu_hours: milli-GPU-seconds
  int64_t percent = 0;
  bool exhausted = false;
  std::vector<int64_t> alerts;  // thresholds raised this period (50, 80, 100)
};

// ---- helpers ---------------------------------------------------------------------------------

// Calendar month (UTC) containing t: [start, end).
std::pair<core::UnixNanos, core::UnixNanos> MonthOf(core::UnixNanos t);
// "2026-11" → its month; InvalidArgument otherwise.
core::Result<std::pair<core::UnixNanos, core::UnixNanos>> ParseMonth(std::string_view s);
std::string FormatMonth(core::UnixNanos month_start);

core::Status ValidateSkuName(std::string_view name);
core::Status ValidateKey(std::string_view key, std::string_view field = "key");

// Splits `quantity` over the hours [start, end) touches, in proportion to the overlap; the
// parts add up to quantity exactly (each part is floor(Q·cum/total) − floor(Q·prev/total)).
// A zero-length interval puts everything in start's hour. Returns (hour start, part) pairs.
std::vector<std::pair<core::UnixNanos, int64_t>> SplitByHour(int64_t quantity,
                                                             core::UnixNanos start,
                                                             core::UnixNanos end);

// Rounds num/den half to even (den > 0).
int64_t DivRoundHalfEven(__int128 num, __int128 den);
// The one rounding point of rating: quantity × price × (10000 − discount_bp) /
// (base_per_price_unit × 10000), rounded half to even to whole micro-units. kInvalidArgument when
// the result does not fit in int64.
core::Result<int64_t> RateAmount(int64_t quantity, int64_t unit_price_micros,
                                 int64_t base_per_price_unit, int64_t discount_bp);
// "12.5" (GPU-hours) from base units, exact up to 6 decimals (truncated beyond).
std::string PriceUnits(int64_t quantity, int64_t base_per_price_unit);
// "1234.567890" from micro-units.
std::string Money(int64_t micros);

core::json::object ToJson(const Sku& s);
core::json::object ToJson(const Price& p);
core::json::object ToJson(const Discount& d);
core::json::object ToJson(const Quarantined& q);
core::json::object ToJson(const InvoiceLine& l);
core::json::object ToJson(const Invoice& i);
core::json::object ToJson(const BudgetStatus& b);
core::json::object ToJson(const UsageRecord& r);

// The default price book's SKUs (prices are set by operators).
const std::vector<Sku>& DefaultSkus();

}  // namespace gantry::metering
