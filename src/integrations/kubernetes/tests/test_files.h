// Files of the kubernetes tests: golden renderings and recorded exchanges under
// src/integrations/kubernetes/tests/, found through GANTRY_SOURCE_DIR (set by gantry_test).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace gantry::kubernetes::testing {

inline std::filesystem::path TestDir() {
  const char* src = std::getenv("GANTRY_SOURCE_DIR");
  std::filesystem::path root = src ? src : GANTRY_KUBE_SOURCE_DIR_FALLBACK;
  return root / "src" / "integrations" / "kubernetes" / "tests";
}

inline bool UpdateGolden() {
  const char* v = std::getenv("GANTRY_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Compares byte for byte with the file; GANTRY_UPDATE_GOLDEN=1 rewrites it instead.
inline void ExpectMatchesFile(const std::filesystem::path& p, const std::string& actual) {
  if (UpdateGolden()) {
    WriteFile(p, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(p))
      << p << " is missing; run the test with GANTRY_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(ReadFile(p), actual) << "differs from " << p
                                 << " (GANTRY_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace gantry::kubernetes::testing
