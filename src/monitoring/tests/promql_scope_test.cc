// Tenant scoping of PromQL: every selector gets the tenant matcher, label lists and functions are
// left alone, and what cannot be scoped safely is refused.
#include "monitoring/promql_scope.h"

#include <gtest/gtest.h>

namespace gantry::monitoring {
namespace {

std::string Scope(std::string_view q, std::vector<std::string> tenants = {"acme"}) {
  auto r = ScopeToTenants(q, tenants);
  EXPECT_TRUE(r) << q << ": " << r.error().message;
  return r ? *r : "";
}

core::Code Refused(std::string_view q) {
  auto r = ScopeToTenants(q, {"acme"});
  EXPECT_FALSE(r) << q << " was accepted as " << *r;
  return r ? core::Code::kInternal : r.error().code;
}

TEST(PromqlScope, EverySelectorGetsTheTenant) {
  EXPECT_EQ(Scope("up"), "up{tenant=\"acme\"}");
  EXPECT_EQ(Scope("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"}"), "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",tenant=\"acme\"}");
  EXPECT_EQ(Scope("{__name__=~\"node_.*\"}"), "{__name__=~\"node_.*\",tenant=\"acme\"}");
  EXPECT_EQ(Scope("up{}"), "up{tenant=\"acme\"}");
  EXPECT_EQ(Scope("up{job=\"a\",}"), "up{job=\"a\",tenant=\"acme\"}");
  EXPECT_EQ(Scope("rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])"),
            "rate(node_cpu_seconds_total{mode!=\"idle\",tenant=\"acme\"}[5m])");
  EXPECT_EQ(Scope("sum by (rack, le) (rate(x_bucket[5m])) / on(rack) group_left(site) y"),
            "sum by (rack, le) (rate(x_bucket{tenant=\"acme\"}[5m])) / on(rack) group_left(site) y{tenant=\"acme\"}");
  EXPECT_EQ(Scope("sum(a) without (instance) > bool 3 and b offset 5m"),
            "sum(a{tenant=\"acme\"}) without (instance) > bool 3 and b{tenant=\"acme\"} offset 5m");
  EXPECT_EQ(Scope("max_over_time(a[1h:5m]) or vector(0)"), "max_over_time(a{tenant=\"acme\"}[1h:5m]) or vector(0)");
  EXPECT_EQ(Scope("label_replace(up, \"x\", \"$1\", \"instance\", \"(.*):.*\")"),
            "label_replace(up{tenant=\"acme\"}, \"x\", \"$1\", \"instance\", \"(.*):.*\")");
  EXPECT_EQ(Scope("a{b=\"}{tenant\"}"), "a{b=\"}{tenant\",tenant=\"acme\"}");  // braces inside strings
  EXPECT_EQ(Scope("1.5e+3 * up"), "1.5e+3 * up{tenant=\"acme\"}");
}

TEST(PromqlScope, SeveralTenantsUseAnAnchoredRegex) {
  EXPECT_EQ(Scope("up", {"acme", "a.b"}), "up{tenant=~\"^(?:acme|a\\\\.b)$\"}");
}

TEST(PromqlScope, RefusesWhatCannotBeScoped) {
  EXPECT_EQ(Refused("up{tenant=\"beta\"}"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("up{tenant!=\"acme\"}"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("{tenant=~\".+\"}"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("up{job=\"a\""), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("up{job=(\"a\")}"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("\"unterminated"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused("up; drop"), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused(std::string(9000, 'a')), core::Code::kInvalidArgument);
  EXPECT_EQ(Refused(""), core::Code::kInvalidArgument);
  EXPECT_EQ(ScopeToTenants("up", {}).error().code, core::Code::kPermissionDenied);
}

}  // namespace
}  // namespace gantry::monitoring
