#include "http/router.h"

#include <stdexcept>

namespace gantry::http {

void Router::Add(RouteSpec spec, Handler handler) {
  for (const auto& r : routes_) {
    if (r.spec.method == spec.method && r.spec.pattern == spec.pattern) {
      throw std::logic_error("duplicate route " + spec.method + " " + spec.pattern);
    }
  }
  routes_.push_back(Route{std::move(spec), std::move(handler)});
}

bool Router::MatchPattern(std::string_view pattern, std::string_view path,
                          std::map<std::string, std::string, std::less<>>* params, int* score) {
  *score = 0;
  while (true) {
    if (pattern.empty() || path.empty()) return pattern.empty() && path.empty();
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    size_t ps = pattern.find('/');
    size_t qs = path.find('/');
    std::string_view pseg = pattern.substr(0, ps);
    std::string_view qseg = path.substr(0, qs);
    if (pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (qseg.empty()) return false;
      (*params)[std::string(pseg.substr(1, pseg.size() - 2))] = PercentDecode(qseg);
    } else if (pseg != qseg) {
      return false;
    } else {
      ++*score;
    }
    pattern = ps == std::string_view::npos ? std::string_view() : pattern.substr(ps);
    path = qs == std::string_view::npos ? std::string_view() : path.substr(qs);
  }
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  if (method == "HEAD") method = "GET";  // the server sends a GET's headers without its body
  Match best;
  int best_score = -1;
  for (const auto& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    int score = 0;
    if (!MatchPattern(r.spec.pattern, path, &params, &score)) continue;
    if (r.spec.method != method) {
      best.allowed_methods.push_back(r.spec.method);
      continue;
    }
    if (score > best_score) {
      best_score = score;
      best.route = &r;
      best.params = std::move(params);
    }
  }
  if (best.route) best.allowed_methods.clear();
  return best;
}

}  // namespace gantry::http
