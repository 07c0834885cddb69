// The hash chain. hash(N) = SHA-256(hash(N-1) || canonical(N)), where canonical() is a
// length-prefixed encoding of every stored field of event N (so no two events encode alike).
// A checkpoint is an Ed25519 signature by the instance's audit key over
// "gantry-audit-checkpoint\n<seq>\n<hash>".
#pragma once

#include <string>
#include <string_view>

#include "audit/types.h"
#include "core/crypto.h"

namespace gantry::audit {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Appends the canonical encoding of `e` (all fields but prev_hash and hash) to `out`.
void AppendCanonical(const Event& e, std::string& out);
// hex SHA-256 of prev_hash || canonical(e). `scratch` is reused between calls.
std::string ComputeHash(const Event& e, std::string_view prev_hash, std::string& scratch);

std::string CheckpointMessage(int64_t seq, std::string_view hash);
std::string KeyId(std::string_view public_key);

// Returns a copy of `details` with secret-looking keys (password, secret, token, key,
// credential, authorization, cookie) replaced by "[redacted]", recursively.
core::json::object Redact(const core::json::object& details);

}  // namespace gantry::audit
