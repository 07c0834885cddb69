#include "http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gantry::http {

namespace {

std::string ContentType(const std::filesystem::path& p) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".json", "application/json"},
      {".svg", "image/svg+xml"},              {".png", "image/png"},
      {".ico", "image/x-icon"},               {".woff2", "font/woff2"},
      {".map", "application/json"},           {".txt", "text/plain; charset=utf-8"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

constexpr char kNoPortal[] =
    "<!doctype html><title>Gantry</title><h1>Gantry</h1><p>The web portal is not built. "
    "Run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then start "
    "<code>gantry serve --web-root web/dist</code>. The API is at <code>/api/v1</code>.</p>";

}  // namespace

StaticFiles StaticFiles::Load(const std::string& root) {
  StaticFiles sf;
  std::error_code ec;
  if (!root.empty() && std::filesystem::is_directory(root, ec)) {
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec || !it->is_regular_file()) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string rel = "/" + std::filesystem::relative(it->path(), root).generic_string();
      sf.files_[rel] = File{ContentType(it->path()), ss.str()};
    }
  }
  if (!sf.files_.count("/index.html")) {
    sf.files_["/index.html"] = File{"text/html; charset=utf-8", kNoPortal};
  }
  return sf;
}

std::optional<Response> StaticFiles::Serve(std::string_view path) const {
  if (path.find("..") != std::string_view::npos) return std::nullopt;
  if (path.starts_with("/api/")) return std::nullopt;
  auto it = files_.find(path);
  bool is_asset = it != files_.end() && path != "/index.html";
  if (it == files_.end()) {
    // A missing file with an extension is a real 404; anything else is an SPA route.
    auto slash = path.rfind('/');
    if (path.substr(slash == std::string_view::npos ? 0 : slash).find('.') !=
        std::string_view::npos) {
      return std::nullopt;
    }
    it = files_.find("/index.html");
  }
  Response r = Response::Text(it->second.body, it->second.content_type);
  r.SetHeader("cache-control", is_asset && path.starts_with("/assets/")
                                   ? "public, max-age=31536000, immutable"
                                   : "no-cache");
  return r;
}

}  // namespace gantry::http
