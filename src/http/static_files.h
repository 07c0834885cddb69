// Serves the built web portal (web/dist) at "/": exact files by extension, index.html for any
// other GET path outside /api (single-page-app routing). Files are read at start-up and held in
// memory; paths with ".." never reach the file system.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/error.h"
#include "http/types.h"

namespace gantry::http {

class StaticFiles {
 public:
  // Loads every file under `root`. An empty or missing root gives a portal page saying how to
  // build it.
  static StaticFiles Load(const std::string& root);
  std::optional<Response> Serve(std::string_view path) const;
  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  std::map<std::string, File, std::less<>> files_;
};

}  // namespace gantry::http
