// Install-configuration templates (kickstart, preseed, cloud-init/autoinstall, plain scripts):
// a small logic-less language rendered with per-node variables.
//
//   {{name}}                      the value of `name` (string, integer or bool)
//   {{#if name}}…{{else}}…{{/if}} present and not empty/false/0
//   {{#each list}}…{{.}}…{{/each}} once per element; {{.field}} reads an object element's field
//   {{! comment }}
//
// Every name must exist: an unknown variable, an unclosed block or a stray tag is an error that
// names the line, so a broken template fails its job before the node is powered. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/json.h"

namespace gantry::lifecycle {

core::Result<std::string> RenderTemplate(std::string_view text, const core::json::object& vars);
// Checks the blocks and tags only (every variable may be missing): for saving a template.
core::Status CheckTemplateSyntax(std::string_view text);

}  // namespace gantry::lifecycle
