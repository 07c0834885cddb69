#include "auth/policy.h"

namespace gantry::auth {

using core::Role;

const std::vector<PolicyRule>& PolicyTable() {
  static const std::vector<Role> kEveryone = {Role::kAdmin,       Role::kOperator,
                                              Role::kAuditor,     Role::kTenantAdmin,
                                              Role::kTenantMember, Role::kViewer};
  static const std::vector<PolicyRule> table = {
      // Own identity and own API tokens.
      {"self.read", kEveryone},
      {"tokens.own", kEveryone},
      // Other people's accounts and tokens.
      {"users.read", {Role::kAdmin, Role::kAuditor}},
      {"users.write", {Role::kAdmin}},
      {"tokens.admin", {Role::kAdmin}},
      // The audit trail: read-only, for admins and auditors.
      {"audit.read", {Role::kAdmin, Role::kAuditor}},
      {"audit.verify", {Role::kAdmin, Role::kAuditor}},
      // Jobs: everyone reads (tenant users see their own); operators start and cancel.
      {"jobs.read", kEveryone},
      {"jobs.write", {Role::kAdmin, Role::kOperator}},
      {"jobs.cancel", {Role::kAdmin, Role::kOperator}},
      // CMDB: everyone reads (tenant members see their own CIs); operators change it.
      {"cmdb.read", kEveryone},
      {"cmdb.write", {Role::kAdmin, Role::kOperator}},
      {"cmdb.schema", {Role::kAdmin}},
      {"cmdb.observe", {Role::kAdmin, Role::kOperator}},
      {"cmdb.change.propose", {Role::kAdmin, Role::kOperator}},
      {"cmdb.change.approve", {Role::kAdmin, Role::kOperator}},
      // Monitoring: Alertmanager posts alerts with an operator token; Prometheus reads the HTTP SD
      // targets with a viewer (or operator) token; everyone reads incidents (tenant users see
      // those about their own CIs); operators acknowledge, assign, annotate and resolve them.
      {"monitoring.ingest", {Role::kAdmin, Role::kOperator}},
      {"monitoring.targets", {Role::kAdmin, Role::kOperator, Role::kViewer}},
      {"incidents.read", kEveryone},
      {"incidents.write", {Role::kAdmin, Role::kOperator}},
      // Tenant users query metrics scoped to their tenants' series; maintenance silences are
      // operators' work; the peers' status is for everyone who reads the estate.
      {"metrics.query", kEveryone},
      {"monitoring.silences", {Role::kAdmin, Role::kOperator}},
      {"monitoring.status", {Role::kAdmin, Role::kOperator, Role::kAuditor, Role::kViewer}},
      // Tenancy: everyone reads (non-operators see only their tenants); admins create tenants
      // and projects and set quotas; tenant-admins manage their own tenant's members (checked
      // in the tenancy service); tenant users reserve capacity of their own tenant.
      {"tenants.read", kEveryone},
      {"tenants.write", {Role::kAdmin}},
      {"tenants.members", {Role::kAdmin, Role::kTenantAdmin}},
      {"quotas.write", {Role::kAdmin}},
      {"quotas.reserve", {Role::kAdmin, Role::kOperator, Role::kTenantAdmin, Role::kTenantMember}},
      // Hardware control: BMC records (credentials are never returned), node operations through
      // the BMCs (power status, SEL and health are reads), firmware campaigns.
      {"bmcs.read", {Role::kAdmin, Role::kOperator, Role::kAuditor, Role::kViewer}},
      {"bmcs.write", {Role::kAdmin}},
      {"nodes.read", {Role::kAdmin, Role::kOperator, Role::kAuditor, Role::kViewer}},
      {"nodes.control", {Role::kAdmin, Role::kOperator}},
      {"firmware.read", {Role::kAdmin, Role::kOperator, Role::kAuditor, Role::kViewer}},
      {"firmware.write", {Role::kAdmin, Role::kOperator}},
      // Metering and billing: operators (and agents with operator tokens) post usage; everyone
      // reads usage, prices, invoices and budgets of the tenants they see; admins set prices and
      // discounts and issue invoices; tenant-admins set their own tenant's budgets.
      {"metering.write", {Role::kAdmin, Role::kOperator}},
      {"usage.read", kEveryone},
      {"prices.write", {Role::kAdmin}},
      {"invoices.read", kEveryone},
      {"invoices.write", {Role::kAdmin}},
      {"budgets.write", {Role::kAdmin, Role::kTenantAdmin}},
      // Server metrics.
      {"metrics.read", {Role::kAdmin, Role::kOperator, Role::kAuditor, Role::kViewer}},
  };
  return table;
}

bool Allowed(const core::Principal& p, std::string_view action) {
  for (const auto& rule : PolicyTable()) {
    if (rule.action != action) continue;
    for (Role r : rule.roles) {
      if (p.HasRole(r)) return true;
      // A tenant membership grants only tenant roles: a tenant's "viewer" reads what tenant
      // members read, and never gains a global role such as the estate-wide viewer.
      for (const auto& m : p.tenants) {
        Role granted = m.role == Role::kViewer ? Role::kTenantMember : m.role;
        if (granted != Role::kTenantAdmin && granted != Role::kTenantMember) continue;
        if (m.role == Role::kViewer && !action.ends_with(".read")) continue;
        if (granted == r) return true;
      }
    }
    return false;
  }
  return false;  // an action missing from the table is denied
}

bool SeesAllTenants(const core::Principal& p) {
  return p.HasRole(Role::kAdmin) || p.HasRole(Role::kOperator) || p.HasRole(Role::kAuditor) ||
         p.HasRole(Role::kViewer);
}

}  // namespace gantry::auth
