#include "hardware/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"

namespace gantry::hardware {

namespace {

std::string Aad(const std::string& bmc_name) { return "gantry-bmc:" + bmc_name; }

core::Status WriteNewKey(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  // Created 0600 from the start: the key is never readable by others, not even for a moment.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return core::Internal("cannot create BMC credential key '" + path + "'");
  std::string hex = core::HexEncode(core::RandomBytes(32)) + "\n";
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return core::Internal("cannot write BMC credential key '" + path + "'");
  // link() fails when another process created the key meanwhile; that key wins.
  if (::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    ::unlink(tmp.c_str());
    return core::Internal("cannot write BMC credential key '" + path + "'");
  }
  ::unlink(tmp.c_str());
  return {};
}

}  // namespace

std::string CredentialKeyPath(const std::string& data_dir) {
  return (data_dir.empty() ? std::string(".") : data_dir) + "/bmc-credentials.key";
}

core::Result<CredentialBox> CredentialBox::Open(const std::string& key_path, bool create) {
  std::error_code ec;
  if (!std::filesystem::exists(key_path, ec)) {
    if (!create) {
      return core::FailedPrecondition("BMC credential key '" + key_path + "' not found");
    }
    GANTRY_TRY_STATUS(WriteNewKey(key_path));
  }
  struct stat st{};
  if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return core::FailedPrecondition("BMC credential key '" + key_path +
                                    "' is readable by others; chmod 600 it");
  }
  std::ifstream in(key_path);
  std::string hex;
  in >> hex;
  auto key = core::HexDecode(hex);
  if (!key || key->size() != 32) {
    return core::FailedPrecondition("BMC credential key '" + key_path + "' is not 32 bytes of hex");
  }
  return CredentialBox(std::move(*key));
}

core::Result<CredentialBox> CredentialBox::FromKey(std::string key32) {
  if (key32.size() != 32) return core::InvalidArgument("the credential key must be 32 bytes");
  return CredentialBox(std::move(key32));
}

core::Result<std::string> CredentialBox::Seal(const std::string& bmc_name,
                                              const Credentials& c) const {
  core::json::object o{{"username", c.username}, {"password", c.password}};
  GANTRY_TRY(auto sealed, core::AesGcmEncrypt(key_, core::json::serialize(o), Aad(bmc_name)));
  return core::HexEncode(sealed);
}

core::Result<Credentials> CredentialBox::Open(const std::string& bmc_name,
                                              const std::string& sealed) const {
  auto raw = core::HexDecode(sealed);
  if (!raw) return core::Internal("sealed credentials of BMC '" + bmc_name + "' are damaged");
  auto plain = core::AesGcmDecrypt(key_, *raw, Aad(bmc_name));
  if (!plain) {
    return core::FailedPrecondition("credentials of BMC '" + bmc_name +
                                    "' do not open with this key (key file replaced?)");
  }
  auto o = core::ParseObject(*plain);
  if (!o) return core::Internal("sealed credentials of BMC '" + bmc_name + "' are damaged");
  auto user = core::GetString(*o, "username");
  auto pass = core::GetString(*o, "password");
  if (!user || !pass) return core::Internal("sealed credentials of BMC '" + bmc_name + "' are damaged");
  return Credentials{std::move(*user), std::move(*pass)};
}

}  // namespace gantry::hardware
