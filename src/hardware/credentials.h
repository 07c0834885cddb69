// CredentialBox: seals BMC credentials with AES-256-GCM under a 32-byte key kept in a file of
// the data directory (bmc-credentials.key, mode 0600, created on first use). Each sealed value
// is bound to its BMC's name (the AAD), so a row copied onto another BMC does not open.
// The key never leaves this object; nothing here logs. Thread-safe (immutable after Make).
#pragma once

#include <string>

#include "hardware/types.h"

namespace gantry::hardware {

class CredentialBox {
 public:
  // Loads the key file, creating it (0600) when missing and `create` is set.
  static core::Result<CredentialBox> Open(const std::string& key_path, bool create);
  // A box over a raw 32-byte key (tests).
  static core::Result<CredentialBox> FromKey(std::string key32);

  // Hex of nonce || ciphertext || tag.
  core::Result<std::string> Seal(const std::string& bmc_name, const Credentials& c) const;
  core::Result<Credentials> Open(const std::string& bmc_name, const std::string& sealed) const;

 private:
  explicit CredentialBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// <data_dir>/bmc-credentials.key
std::string CredentialKeyPath(const std::string& data_dir);

}  // namespace gantry::hardware
