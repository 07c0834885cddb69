// Invoice exports: CSV (one row per line), JSON (the API object) and FinOps FOCUS 1.0 (CSV with
// the FOCUS 1.0 column set; Gantry is provider, publisher and invoice issuer; a tenant is the
// billing account and a project the sub account).
#include <sstream>

#include "metering/billing.h"

namespace gantry::metering {

namespace {

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void Row(std::ostringstream& o, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) o << (i ? "," : "") << Csv(cells[i]);
  o << "\r\n";
}

const std::vector<std::string>& FocusColumns() {
  static const std::vector<std::string> cols = {
      "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
      "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
      "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
      "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
      "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
      "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
      "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
      "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
      "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
      "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags"};
  return cols;
}

}  // namespace

core::Result<std::string> ExportInvoice(const Invoice& inv, const std::string& format) {
  std::ostringstream o;
  if (format == "json") return core::ToJson(ToJson(inv));
  if (format == "csv") {
    Row(o, {"invoice", "kind", "tenant", "period", "line", "project", "sku", "policy",
            "description", "quantity", "base_unit", "priced_quantity", "price_unit",
            "unit_price", "discount_bp", "amount", "currency"});
    for (const auto& l : inv.lines) {
      Row(o, {inv.number, inv.kind, inv.tenant, FormatMonth(inv.period_start),
              std::to_string(l.line_no), l.project, l.sku, l.policy, l.description,
              std::to_string(l.quantity), l.base_unit,
              PriceUnits(l.quantity < 0 ? -l.quantity : l.quantity, l.base_per_price_unit),
              l.price_unit, Money(l.unit_price_micros), std::to_string(l.discount_bp),
              Money(l.amount_micros), inv.currency});
    }
    return o.str();
  }
  if (format == "focus") {
    Row(o, FocusColumns());
    for (const auto& l : inv.lines) {
      bool credit = inv.kind == "credit_note";
      bool commitment = l.description.starts_with("Commitment shortfall");
      auto list_cost = RateAmount(l.quantity < 0 ? -l.quantity : l.quantity, l.unit_price_micros,
                                  l.base_per_price_unit, 0);
      int64_t list = list_cost ? *list_cost : 0;
      if (l.quantity < 0) list = -list;
      std::string priced = PriceUnits(l.quantity < 0 ? -l.quantity : l.quantity,
                                      l.base_per_price_unit);
      if (l.quantity < 0) priced = "-" + priced;
      Row(o, {"",
              Money(l.amount_micros),
              inv.tenant,
              inv.tenant,
              inv.currency,
              core::FormatRfc3339(inv.period_end),
              core::FormatRfc3339(inv.period_start),
              credit ? "Credit" : "Usage",
              credit ? "Correction" : "",
              l.description,
              commitment ? "Recurring" : "Usage-Based",
              core::FormatRfc3339(l.charge_end),
              core::FormatRfc3339(l.charge_start),
              commitment ? "Usage" : "",
              commitment ? l.sku : "",
              commitment ? "commitment " + l.sku : "",
              commitment ? "Unused" : "",
              commitment ? "commitment" : "",
              priced,
              l.price_unit,
              Money(l.amount_micros),
              Money(l.unit_price_micros),
              Money(l.amount_micros),
              "Gantry",
              Money(list),
              Money(l.unit_price_micros),
              l.discount_bp ? "Committed" : "Standard",
              priced,
              l.price_unit,
              "Gantry",
              "Gantry",
              "",
              "",
              "",
              "",
              l.sku.starts_with("gpu-") || l.sku.starts_with("mig-") ? "GPU" : "",
              l.sku.starts_with("storage") ? "Storage" : "Compute",
              "Gantry GPU platform",
              l.sku,
              l.sku + "@" + std::to_string(l.unit_price_micros),
              l.project.empty() ? inv.tenant : inv.tenant + "/" + l.project,
              l.project,
              "{\"policy\":\"" + l.policy + "\",\"invoice\":\"" + inv.number + "\"}"});
    }
    return o.str();
  }
  return core::InvalidArgument("format must be csv, json or focus", "format");
}

}  // namespace gantry::metering
