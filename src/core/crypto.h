// Cryptographic helpers on OpenSSL 3: SHA-256, a CSPRNG, hex and base64url, Ed25519 signatures
// and AES-256-GCM. All functions are thread-safe. Keys are raw bytes held in std::string.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::core {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256 for long streams (audit verify). Not copyable.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  Sha256Digest Finish();  // resets the hasher for reuse

 private:
  void* ctx_;
};

std::string RandomBytes(size_t n);
// n random bytes as URL-safe base64 without padding.
std::string RandomToken(size_t n);

std::string HexEncode(std::string_view bytes);
std::string HexEncode(const Sha256Digest& d);
Result<std::string> HexDecode(std::string_view hex);
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

// Compares in time independent of where the inputs differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

struct Ed25519KeyPair {
  std::string private_key;  // 32 raw bytes
  std::string public_key;   // 32 raw bytes
};
Ed25519KeyPair Ed25519Generate();
Result<std::string> Ed25519PublicFromPrivate(std::string_view private_key);
Result<std::string> Ed25519Sign(std::string_view private_key, std::string_view message);
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

// AES-256-GCM with a random 96-bit nonce; output = nonce || ciphertext || tag.
// `aad` binds the ciphertext to its context (for example the row it belongs to).
Result<std::string> AesGcmEncrypt(std::string_view key32, std::string_view plaintext,
                                  std::string_view aad = {});
Result<std::string> AesGcmDecrypt(std::string_view key32, std::string_view sealed,
                                  std::string_view aad = {});

}  // namespace gantry::core
