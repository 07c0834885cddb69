// KubeClient: server-side apply of the rendered objects.
//
// No Kubernetes API server runs here, so the client is tested against a recorded exchange: the
// exact PATCH requests Gantry must send are stored under tests/recorded/<scenario>/NN-request.http
// and compared byte for byte, and the API server's answers (written by hand in the shape a
// kube-apiserver returns: created objects with managedFields, Status bodies for 403 and 422; the
// message wording is modelled on real ones, not captured) are replayed from NN-response.http. GANTRY_UPDATE_GOLDEN=1 rewrites the request files,
// never the answers. The libcurl transport itself is only tested against a closed local port.
#include "integrations/kubernetes/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "integrations/kubernetes/tests/test_files.h"

namespace gantry::kubernetes {
namespace {

using testing::ReadFile;
using testing::TestDir;
using testing::UpdateGolden;
using testing::WriteFile;

constexpr char kServer[] = "https://kube.example.test:6443";
constexpr char kToken[] = "recorded-test-token";

std::string FormatRequest(const HttpRequest& r) {
  std::string out = r.method + " " + r.url + "\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\n";
  return out + "\n" + r.body;
}

// "HTTP/1.1 403 Forbidden\nContent-Type: application/json\n\n{...}"
HttpResponse ParseResponse(const std::string& text) {
  HttpResponse r;
  auto sp = text.find(' ');
  r.status = std::stoi(text.substr(sp + 1, 3));
  auto blank = text.find("\n\n");
  r.body = blank == std::string::npos ? "" : text.substr(blank + 2);
  return r;
}

// Replays tests/recorded/<scenario>/: request N must equal NN-request.http byte for byte.
class RecordedTransport : public Transport {
 public:
  explicit RecordedTransport(std::string scenario)
      : dir_(TestDir() / "recorded" / std::move(scenario)) {}

  core::Result<HttpResponse> Send(const HttpRequest& request) override {
    ++calls_;
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%02d", calls_);
    auto req_file = dir_ / (std::string(prefix) + "-request.http");
    auto resp_file = dir_ / (std::string(prefix) + "-response.http");
    if (UpdateGolden()) {
      WriteFile(req_file, FormatRequest(request));
    } else {
      EXPECT_TRUE(std::filesystem::exists(req_file)) << "unexpected request " << calls_;
      EXPECT_EQ(ReadFile(req_file), FormatRequest(request)) << "differs from " << req_file;
    }
    if (!std::filesystem::exists(resp_file))
      return core::Unavailable("no recorded answer " + resp_file.string());
    return ParseResponse(ReadFile(resp_file));
  }

  int calls() const { return calls_; }

 private:
  std::filesystem::path dir_;
  int calls_ = 0;
};

// Answers every request with one fixed response (for status mappings without a file).
class FixedTransport : public Transport {
 public:
  explicit FixedTransport(std::function<core::Result<HttpResponse>()> f) : f_(std::move(f)) {}
  core::Result<HttpResponse> Send(const HttpRequest&) override { return f_(); }

 private:
  std::function<core::Result<HttpResponse>()> f_;
};

KubeClientOptions Options() {
  return {.server = std::string(kServer) + "/", .token = kToken, .ca_file = "/dev/null"};
}

Rendered Objects() {
  constexpr int64_t kGi = int64_t{1} << 30;
  auto r = Render({.tenant = "acme",
                   .project = "vision",
                   .hard = {{"gpu/h100", 4}, {"cpu", 64}, {"memory", 512 * kGi}}});
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

TEST(KubeClient, AppliesNamespaceQuotaAndLimitRange) {
  auto transport = std::make_shared<RecordedTransport>("apply-project");
  KubeClient client(Options(), transport);
  auto objects = Objects();
  auto ns = client.ApplyNamespace(objects.namespace_obj);
  ASSERT_TRUE(ns) << ns.error().message;
  EXPECT_EQ("Active", ns->at("status").at("phase").as_string());
  auto quota = client.ApplyResourceQuota(objects.resource_quota);
  ASSERT_TRUE(quota) << quota.error().message;
  EXPECT_EQ("4", quota->at("spec").at("hard").at("requests.nvidia.com/gpu").as_string());
  auto lr = client.ApplyLimitRange(objects.limit_range);
  ASSERT_TRUE(lr) << lr.error().message;
  EXPECT_EQ(3, transport->calls());
}

TEST(KubeClient, ForbiddenQuotaIsPermissionDeniedAndStopsApplyAll) {
  auto transport = std::make_shared<RecordedTransport>("quota-forbidden");
  KubeClient client(Options(), transport);
  auto s = client.ApplyAll(Objects());
  ASSERT_FALSE(s);
  EXPECT_EQ(core::Code::kPermissionDenied, s.error().code);
  EXPECT_NE(std::string::npos,
            s.error().message.find("cannot patch resource \"resourcequotas\""))
      << s.error().message;
  EXPECT_NE(std::string::npos,
            s.error().message.find("ResourceQuota gantry-acme-vision/gantry-quota"));
  EXPECT_EQ(std::string::npos, s.error().message.find(kToken));
  EXPECT_EQ(2, transport->calls());  // the LimitRange is not attempted
}

TEST(KubeClient, InvalidLimitRangeIsInvalidArgumentWithTheStatusMessage) {
  // An object the renderer would refuse (request above limit), sent as is: the API server
  // validates it and answers 422.
  auto lr = Objects().limit_range;
  auto& item = lr["spec"].as_object()["limits"].as_array()[0].as_object();
  item["default"].as_object()["cpu"] = "2";
  item["defaultRequest"].as_object()["cpu"] = "4";
  auto transport = std::make_shared<RecordedTransport>("limitrange-invalid");
  KubeClient client(Options(), transport);
  auto r = client.ApplyLimitRange(lr);
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kInvalidArgument, r.error().code);
  EXPECT_NE(std::string::npos,
            r.error().message.find("LimitRange \"gantry-defaults\" is invalid: "
                                   "spec.limits[0].defaultRequest[cpu]"))
      << r.error().message;
  EXPECT_NE(std::string::npos, r.error().message.find("HTTP 422"));
}

TEST(KubeClient, StatusMapping) {
  auto status_body = [](int code, std::string reason, std::string message) {
    core::json::object o{{"kind", "Status"}, {"apiVersion", "v1"},   {"status", "Failure"},
                         {"message", message}, {"reason", reason}, {"code", code}};
    return HttpResponse{code, core::ToJson(o)};
  };
  struct Case {
    HttpResponse resp;
    core::Code code;
    std::string text;
  } cases[] = {
      {status_body(401, "Unauthorized", "Unauthorized"), core::Code::kPermissionDenied,
       "Unauthorized"},
      {status_body(409, "Conflict",
                   "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: "
                   ".spec.hard.requests.cpu"),
       core::Code::kInvalidArgument, "conflict with \"kubectl-edit\""},
      {status_body(404, "NotFound", "namespaces \"gantry-acme-vision\" not found"),
       core::Code::kNotFound, "not found"},
      {status_body(429, "TooManyRequests", "too many requests"), core::Code::kUnavailable,
       "too many"},
      {HttpResponse{503, "<html>upstream connect error</html>"}, core::Code::kUnavailable,
       "upstream connect error"},
      {HttpResponse{200, "not json"}, core::Code::kInternal, "not a JSON object"},
  };
  for (const auto& c : cases) {
    KubeClient client(Options(), std::make_shared<FixedTransport>([&] { return c.resp; }));
    auto r = client.ApplyResourceQuota(Objects().resource_quota);
    ASSERT_FALSE(r) << c.resp.status;
    EXPECT_EQ(c.code, r.error().code) << c.resp.status;
    EXPECT_NE(std::string::npos, r.error().message.find(c.text)) << r.error().message;
  }
}

TEST(KubeClient, TransportFailureIsUnavailable) {
  KubeClient client(Options(), std::make_shared<FixedTransport>([]() -> core::Result<HttpResponse> {
                      return core::Unavailable("kubernetes API server: Connection refused");
                    }));
  auto r = client.ApplyNamespace(Objects().namespace_obj);
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kUnavailable, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("Namespace gantry-acme-vision"));
}

TEST(KubeClient, RefusesBadNamesWithoutSending) {
  int sent = 0;
  KubeClient client(Options(), std::make_shared<FixedTransport>([&]() -> core::Result<HttpResponse> {
                      ++sent;
                      return HttpResponse{200, "{}"};
                    }));
  auto ns = Objects().namespace_obj;
  ns["metadata"].as_object()["name"] = "../kube-system";
  EXPECT_EQ(core::Code::kInvalidArgument, client.ApplyNamespace(ns).error().code);
  auto quota = Objects().resource_quota;
  quota["metadata"].as_object().erase("namespace");
  EXPECT_EQ(core::Code::kInvalidArgument, client.ApplyResourceQuota(quota).error().code);
  EXPECT_EQ(0, sent);
}

// The real libcurl transport against a port nobody listens on.
TEST(KubeClient, CurlTransportClosedPortIsUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  socklen_t len = sizeof addr;
  ASSERT_EQ(0, ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len));
  int port = ntohs(addr.sin_port);
  ::close(fd);  // bound, never listened: the port is closed

  KubeClient client({.server = "http://127.0.0.1:" + std::to_string(port),
                     .token = kToken,
                     .connect_timeout = std::chrono::milliseconds(2000),
                     .timeout = std::chrono::milliseconds(3000)});
  auto start = std::chrono::steady_clock::now();
  auto s = client.ApplyAll(Objects());
  ASSERT_FALSE(s);
  EXPECT_EQ(core::Code::kUnavailable, s.error().code);
  EXPECT_NE(std::string::npos, s.error().message.find("127.0.0.1:" + std::to_string(port)))
      << s.error().message;
  EXPECT_NE(std::string::npos, s.error().message.find("onnect")) << s.error().message;
  EXPECT_EQ(std::string::npos, s.error().message.find(kToken));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace gantry::kubernetes
