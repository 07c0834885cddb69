// The full route table of `gantry serve`: system routes (health, readiness, metrics, OpenAPI)
// and every domain's http_api. Kept in one place so the OpenAPI test checks exactly what runs.
#pragma once

#include <string_view>

#include "app/platform.h"
#include "http/router.h"

namespace gantry::jobs {
class WorkerPool;
}

namespace gantry::app {

struct RouteOptions {
  bool metrics_public = false;
  jobs::WorkerPool* workers = nullptr;
};

void BuildRouter(http::Router& router, Platform& platform, const RouteOptions& options);

// The OpenAPI document compiled into the binary (api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace gantry::app
