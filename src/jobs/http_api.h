// REST routes for jobs.
#pragma once

#include "http/router.h"
#include "jobs/service.h"

namespace gantry::jobs {

class WorkerPool;

// `pool` (may be null) is poked after an enqueue so a worker starts at once.
void RegisterRoutes(http::Router& router, Service& service, WorkerPool* pool);

}  // namespace gantry::jobs
