#include "app/client/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "app/client/api_client.h"

namespace gantry::app::client {

namespace fs = std::filesystem;

namespace {

std::string Errno(int err) { return std::strerror(err); }

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

// mkdir -p where every directory created here gets mode 0700.
core::Status MakePrivateDirs(const fs::path& dir) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  GANTRY_TRY_STATUS(MakePrivateDirs(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return core::Unavailable("cannot create directory " + dir.string() + ": " + Errno(errno));
  }
  return {};
}

std::string ScalarOr(const YAML::Node& root, const char* key) {
  const YAML::Node n = root[key];
  if (!n || n.IsNull()) return {};
  if (!n.IsScalar()) throw YAML::Exception(n.Mark(), std::string("'") + key + "' must be a string");
  return n.as<std::string>();
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

core::Result<fs::path> ConfigPath(const EnvLookup& env) {
  if (auto p = NonEmpty(env, "GANTRY_CONFIG")) return fs::path(*p);
  if (auto xdg = NonEmpty(env, "XDG_CONFIG_HOME")) return fs::path(*xdg) / "gantry" / "config.yaml";
  if (auto home = NonEmpty(env, "HOME")) {
    return fs::path(*home) / ".config" / "gantry" / "config.yaml";
  }
  return core::InvalidArgument(
      "cannot locate the config file: set HOME, XDG_CONFIG_HOME or GANTRY_CONFIG");
}

core::Result<ConfigFile> LoadConfig(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return ConfigFile{};
  ConfigFile out;
  try {
    YAML::Node root = YAML::LoadFile(path.string());
    if (!root || root.IsNull()) return out;
    if (!root.IsMap()) {
      return core::InvalidArgument("config file " + path.string() + " must be a YAML mapping");
    }
    out.server = ScalarOr(root, "server");
    out.username = ScalarOr(root, "username");
    out.token = ScalarOr(root, "token");
    out.ca_file = ScalarOr(root, "ca_file");
    if (auto id = root["token_id"]; id && !id.IsNull()) out.token_id = id.as<int64_t>();
  } catch (const YAML::Exception& e) {
    return core::InvalidArgument("cannot read config file " + path.string() + ": " + e.what());
  }
  return out;
}

core::Status SaveConfig(const fs::path& path, const ConfigFile& config) {
  GANTRY_TRY_STATUS(MakePrivateDirs(path.parent_path()));

  YAML::Emitter yaml;
  yaml << YAML::Comment("Written by 'gantry login'. Holds an API token: keep it private.");
  yaml << YAML::BeginMap;
  if (!config.server.empty()) yaml << YAML::Key << "server" << YAML::Value << config.server;
  if (!config.username.empty()) yaml << YAML::Key << "username" << YAML::Value << config.username;
  if (!config.token.empty()) yaml << YAML::Key << "token" << YAML::Value << config.token;
  if (config.token_id) yaml << YAML::Key << "token_id" << YAML::Value << *config.token_id;
  if (!config.ca_file.empty()) yaml << YAML::Key << "ca_file" << YAML::Value << config.ca_file;
  yaml << YAML::EndMap;
  std::string text = std::string(yaml.c_str()) + "\n";

  // mkstemp creates the file with mode 0600; the rename makes the new content appear at once.
  std::string tmp = path.string() + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return core::Unavailable("cannot write " + path.string() + ": " + Errno(errno));
  }
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return core::Unavailable(std::string("cannot ") + what + " " + path.string() + ": " +
                             Errno(err));
  };
  if (::fchmod(fd, 0600) != 0) return fail("protect");
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("write");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return core::Unavailable("cannot write " + path.string() + ": " + Errno(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return core::Unavailable("cannot replace " + path.string() + ": " + Errno(err));
  }
  return {};
}

core::Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env,
                                           const ConfigFile& file) {
  Connection c;
  std::string raw;
  if (!flags.server.empty()) {
    raw = flags.server;
    c.server_source = "--server";
  } else if (auto v = NonEmpty(env, "GANTRY_SERVER")) {
    raw = *v;
    c.server_source = "GANTRY_SERVER";
  } else if (!file.server.empty()) {
    raw = file.server;
    c.server_source = "config file";
  } else {
    raw = std::string(kDefaultServer);
    c.server_source = "default";
  }
  GANTRY_TRY(c.server, NormalizeServerUrl(raw));

  // The stored credentials are bound to the stored server.
  bool file_applies = false;
  if (!file.server.empty()) {
    auto file_server = NormalizeServerUrl(file.server);
    file_applies = file_server && *file_server == c.server;
  }

  if (!flags.token.empty()) {
    c.token = flags.token;
    c.token_source = "--token";
  } else if (auto v = NonEmpty(env, "GANTRY_TOKEN")) {
    c.token = *v;
    c.token_source = "GANTRY_TOKEN";
  } else if (file_applies && !file.token.empty()) {
    c.token = file.token;
    c.token_source = "config file";
  }

  if (!flags.ca_file.empty()) {
    c.ca_file = flags.ca_file;
  } else if (file_applies) {
    c.ca_file = file.ca_file;
  }
  return c;
}

}  // namespace gantry::app::client
