// SQL for hardware control (store_sql.cc is the only file with hardware SQL). Every function
// runs inside the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hardware/campaign_types.h"
#include "hardware/types.h"
#include "store/database.h"

namespace gantry::hardware {

// A health/power observation of one BMC, written after a fan-out.
struct HealthUpdate {
  int64_t bmc_id = 0;
  std::string health;
  std::string message;
  std::optional<std::string> power_state;
};

class Store {
 public:
  static core::Result<int64_t> InsertBmc(store::Tx& tx, const Bmc& b);
  // `ref`: an id, a BMC name, or the server it controls.
  static core::Result<std::optional<Bmc>> FindBmc(store::Tx& tx, std::string_view ref);
  static core::Result<std::vector<Bmc>> ListBmcs(store::Tx& tx, std::optional<int64_t> after_id, int limit);
  // BMCs named (or controlling servers named) in `refs`, in one query per 500 names.
  static core::Result<std::vector<Bmc>> FindBmcs(store::Tx& tx, const std::vector<std::string>& refs);
  static core::Status DeleteBmc(store::Tx& tx, int64_t id);
  static core::Status UpdateHealth(store::Tx& tx, const HealthUpdate& u, core::UnixNanos now);

  // Campaigns.
  static core::Result<int64_t> InsertCampaign(store::Tx& tx, const Campaign& c);
  static core::Result<std::optional<Campaign>> FindCampaign(store::Tx& tx, std::string_view ref,
                                                            bool for_update, store::Backend backend);
  static core::Result<std::vector<Campaign>> ListCampaigns(store::Tx& tx, int limit);
  static core::Status UpdateCampaign(store::Tx& tx, const Campaign& c, core::UnixNanos now);
  static core::Status InsertCampaignNode(store::Tx& tx, int64_t campaign_id, const CampaignNode& n,
                                         core::UnixNanos now);
  static core::Result<std::vector<CampaignNode>> CampaignNodes(store::Tx& tx, int64_t campaign_id);
  static core::Status UpdateCampaignNode(store::Tx& tx, int64_t campaign_id, const CampaignNode& n,
                                         core::UnixNanos now);
};

}  // namespace gantry::hardware
