// Test databases on both backends.
//
// Repository tests are parameterised over TestBackends(). The environment variable
// GANTRY_TEST_BACKENDS ("sqlite", "postgres" or "sqlite,postgres"; default both) chooses which,
// so CTest runs each such executable twice: once labelled `unit` (SQLite) and once labelled
// `integration` (PostgreSQL, which starts a real server).
//
// The PostgreSQL server is started once per test process (initdb into /tmp/pgfix.XXXXXX, a free
// port on 127.0.0.1, run as the `postgres` user when the tests run as root) and stopped at exit;
// every call to NewTestDatabase gets a fresh database on it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/database.h"

namespace gantry::testing {

std::vector<store::Backend> TestBackends();
std::string BackendName(const ::testing::TestParamInfo<store::Backend>& info);

// URL of a new, empty database ("sqlite:/tmp/.../N.db" or "postgres://postgres@127.0.0.1:P/t_N").
std::string NewTestDatabaseUrl(store::Backend backend);
// A new database with every migration applied.
std::unique_ptr<store::Database> NewTestDatabase(store::Backend backend);

// A fresh directory under /tmp, removed when the test process exits.
std::string MakeTempDir(const std::string& prefix = "gantry-test");

}  // namespace gantry::testing

#define GANTRY_INSTANTIATE_BACKENDS(Suite)                                          \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                        \
                           ::testing::ValuesIn(::gantry::testing::TestBackends()), \
                           ::gantry::testing::BackendName)
