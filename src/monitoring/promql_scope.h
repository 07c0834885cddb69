// Scoping a PromQL expression to tenants: every vector selector gets a `tenant` matcher (the label
// Gantry's HTTP SD puts on every target), so a tenant's query sees only series of its own nodes
// whatever it says. The expression is tokenised (strings, numbers, durations, identifiers,
// punctuation); vector selectors are found by PromQL's grammar (an identifier that is not a
// keyword, a function call or a label list after by/without/on/ignoring/group_left/group_right;
// or a bare `{...}`). Refused (InvalidArgument, nothing sent to Prometheus): an expression that
// names the `tenant` label itself in a selector, that does not tokenise, or that is longer than
// 8 KiB. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::monitoring {

// `v` with the RE2 metacharacters escaped, for a regex matcher (Prometheus, Alertmanager).
std::string RegexEscape(std::string_view v);

// `tenants` non-empty: the matcher is tenant="t" for one, tenant=~"^(?:a|b)$" for several.
core::Result<std::string> ScopeToTenants(std::string_view promql, const std::vector<std::string>& tenants);

}  // namespace gantry::monitoring
