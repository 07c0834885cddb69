#include "auth/password.h"

#include <argon2.h>

#include "core/crypto.h"

namespace gantry::auth {

namespace {
constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kParallelism = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kHashLen = 32;
}  // namespace

core::Result<std::string> HashPassword(std::string_view password) {
  std::string salt = core::RandomBytes(kSaltLen);
  size_t enc_len = argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltLen, kHashLen,
                                     Argon2_id);
  std::string encoded(enc_len, '\0');
  int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashLen,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return core::Internal(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
  std::string enc(encoded_hash);
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

core::Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < 12) {
    return core::InvalidArgument("password must be at least 12 characters", "password");
  }
  if (password.size() > 256) {
    return core::InvalidArgument("password must be at most 256 characters", "password");
  }
  return {};
}

std::string GeneratePassword() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  constexpr unsigned kN = sizeof(kAlphabet) - 1;
  constexpr unsigned kLimit = 256 - 256 % kN;  // rejection sampling: no modulo bias
  std::string out;
  while (out.size() < 24) {
    for (char b : core::RandomBytes(32)) {
      auto v = static_cast<uint8_t>(b);
      if (v < kLimit && out.size() < 24) out += kAlphabet[v % kN];
    }
  }
  return out;
}

}  // namespace gantry::auth
