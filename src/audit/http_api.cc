#include "audit/http_api.h"

#include <spdlog/spdlog.h>

#include "http/params.h"

namespace gantry::audit {

void SecurityEventsSink::Record(const core::RequestContext& rc, std::string_view kind,
                                std::string_view action, std::string_view target,
                                std::string_view reason) {
  core::json::object details{{"reason", reason}};
  if (!action.empty()) details["required_action"] = action;
  auto e = Service::MakeEvent(rc, std::string(kind), "route", std::string(target), details,
                              kind == "auth.failed" ? kFailure : kDenied);
  if (auto st = service_.AppendStandalone(std::move(e)); !st) {
    spdlog::error("cannot record {} in the audit trail: {}", kind, st.error().message);
  }
}

void RegisterRoutes(http::Router& router, Service& service) {
  router.Add({"GET", "/api/v1/audit/events", "audit.read"},
             [&service](http::Context& c) -> core::Result<http::Response> {
               const auto& r = c.request;
               GANTRY_TRY_STATUS(http::OnlyQuery(r, {"actor", "action", "target", "tenant",
                                                     "result", "since", "until", "limit", "cursor"}));
               SearchFilter f;
               f.actor = r.Query("actor");
               f.action = r.Query("action");
               f.target = r.Query("target");
               f.tenant = r.Query("tenant");
               f.result = r.Query("result");
               if (f.result && *f.result != kSuccess && *f.result != kDenied && *f.result != kFailure) {
                 return core::InvalidArgument("result must be success, denied or failure", "result");
               }
               GANTRY_TRY(f.since, http::TimeParam(r, "since"));
               GANTRY_TRY(f.until, http::TimeParam(r, "until"));
               GANTRY_TRY(f.limit, http::LimitParam(r));
               GANTRY_TRY(f.before_seq, http::IntParam(r, "cursor"));
               GANTRY_TRY(auto events, service.Search(f));
               core::json::array items;
               for (const auto& e : events) items.push_back(ToJson(e));
               std::optional<std::string> next;
               if (static_cast<int>(events.size()) == f.limit) next = std::to_string(events.back().seq);
               return http::ListResponse(std::move(items), next);
             });
  router.Add({"GET", "/api/v1/audit/verify", "audit.verify"},
             [&service](http::Context& c) -> core::Result<http::Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {}));
               GANTRY_TRY(auto rep, service.Verify());
               core::json::object o{{"ok", rep.ok}, {"events", rep.events},
                                    {"checkpoints", rep.checkpoints}};
               o["first_bad_seq"] = rep.first_bad_seq ? core::json::value(*rep.first_bad_seq)
                                                      : core::json::value(nullptr);
               o["problem"] = rep.problem;
               return http::Response::Json(o);
             });
}

}  // namespace gantry::audit
