// Password hashing with Argon2id (libargon2), PHC string format. Parameters follow OWASP's
// recommendation (m = 19 MiB, t = 2, p = 1). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::auth {

core::Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);
// Rejects passwords that are too short or too long; names the rule.
core::Status CheckPasswordPolicy(std::string_view password);
// 24 random characters from an unambiguous alphabet.
std::string GeneratePassword();

}  // namespace gantry::auth
