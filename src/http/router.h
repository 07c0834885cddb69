// Routes requests by method and path pattern. Patterns are literal segments and `{name}`
// parameters ("/api/v1/jobs/{id}/cancel"); a literal segment wins over a parameter.
// Build the router at start-up, then share it read-only between threads.
#pragma once

#include <string>
#include <vector>

#include "http/types.h"

namespace gantry::http {

class Router {
 public:
  // Throws std::logic_error on a duplicate (method, pattern): a wiring bug.
  void Add(RouteSpec spec, Handler handler);

  struct Match {
    const Route* route = nullptr;  // null: see not_found / allowed_methods
    std::map<std::string, std::string, std::less<>> params;
    std::vector<std::string> allowed_methods;  // non-empty: path exists, method does not
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool MatchPattern(std::string_view pattern, std::string_view path,
                           std::map<std::string, std::string, std::less<>>* params, int* score);
  std::vector<Route> routes_;
};

}  // namespace gantry::http
