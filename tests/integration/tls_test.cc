// gantry serve with --tls-cert/--tls-key: HTTPS answers with the certificate, plain HTTP on the
// same port does not, and session cookies are marked Secure. Uses openssl and curl from Debian.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "support/process.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

using namespace std::chrono_literals;

RunResult Sh(const std::vector<std::string>& args, const std::string& in = {},
             std::chrono::seconds timeout = std::chrono::seconds(60)) {
  return ::gantry::testing::Run(args, in, timeout);
}

std::string Bin() {
  const char* b = std::getenv("GANTRY_BIN");
  return b ? b : "";
}

TEST(Tls, ServesHttpsWithTheGivenCertificate) {
  if (Bin().empty()) GTEST_SKIP() << "GANTRY_BIN not set";
  std::string dir = MakeTempDir("gantry-tls");
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  auto gen = Sh({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                  "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(0, gen.status) << gen.output;
  std::string db = "sqlite:" + dir + "/g.db";
  auto init = Sh({Bin(), "admin", "init", "--db", db, "--data-dir", dir + "/data", "--password-stdin"},
                  "tls-test-password-1\n");
  ASSERT_EQ(0, init.status) << init.output;
  SpawnOptions so;
  so.args = {Bin(), "serve", "--db", db, "--data-dir", dir + "/data", "--listen", "127.0.0.1:0",
             "--port-file", dir + "/port", "--tls-cert", cert, "--tls-key", key};
  so.log_file = dir + "/serve.log";
  Process server = Process::Spawn(so);
  std::string port;
  for (int i = 0; i < 300 && port.empty(); ++i) {
    if (std::filesystem::exists(dir + "/port")) port = ReadFile(dir + "/port");
    if (port.empty()) std::this_thread::sleep_for(50ms);
  }
  while (!port.empty() && (port.back() == '\n')) port.pop_back();
  ASSERT_FALSE(port.empty()) << ReadFile(dir + "/serve.log");
  std::string base = "https://127.0.0.1:" + port;

  auto ok = Sh({"curl", "-sS", "--max-time", "10", "--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}",
                 base + "/healthz"});
  EXPECT_EQ(0, ok.status) << ok.output;
  EXPECT_EQ("200", ok.output);

  // Without trusting the certificate the client refuses; plain HTTP gets no HTTP answer.
  auto untrusted = Sh({"curl", "-sS", "--max-time", "10", "-o", "/dev/null", base + "/healthz"});
  EXPECT_NE(0, untrusted.status);
  auto plain = Sh({"curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:" + port + "/healthz"});
  EXPECT_NE("200", plain.output);

  auto login = Sh({"curl", "-sS", "--max-time", "10", "--cacert", cert, "-D", "-", "-o", "/dev/null",
                    "-H", "Content-Type: application/json", "-d",
                    R"({"username":"admin","password":"tls-test-password-1"})", base + "/api/v1/auth/login"});
  EXPECT_EQ(0, login.status) << login.output;
  EXPECT_NE(std::string::npos, login.output.find("gantry_session=")) << login.output;
  EXPECT_NE(std::string::npos, login.output.find("; Secure")) << login.output;

  server.Signal(SIGTERM);
  auto rc = server.Wait(20s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(0, *rc);
}

TEST(Tls, BadCertificateFilesStopTheStartWithAClearError) {
  if (Bin().empty()) GTEST_SKIP() << "GANTRY_BIN not set";
  std::string dir = MakeTempDir("gantry-tls");
  std::string db = "sqlite:" + dir + "/g.db";
  ASSERT_EQ(0, Sh({Bin(), "admin", "init", "--db", db, "--data-dir", dir + "/data"}).status);
  auto r = Sh({Bin(), "serve", "--db", db, "--data-dir", dir + "/data", "--listen", "127.0.0.1:0",
                "--tls-cert", dir + "/missing.pem", "--tls-key", dir + "/missing.key"},
               {}, 30s);
  EXPECT_NE(0, r.status);
  EXPECT_NE(std::string::npos, r.output.find("TLS certificate")) << r.output;
}

}  // namespace
}  // namespace gantry::testing
