// How client commands print results: `-o table` (the default, for people) or `-o json` (the
// API's JSON, pretty-printed with a 2-space indent, for scripts).
//
// Tables have a header row, columns aligned with two spaces between them, no borders, no
// trailing blanks; an empty cell shows as "-". Times are printed as the API sends them
// (RFC 3339, UTC). Text from the server is passed through Sanitize so that a crafted name or
// log line cannot move the cursor or change the terminal.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace gantry::app::client {

enum class OutputFormat { kTable, kJson };

// "table" | "json".
core::Result<OutputFormat> ParseOutputFormat(std::string_view name);

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Missing cells are empty; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t size() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One column of a table built from a list of API objects.
struct Column {
  std::string header;
  std::function<std::string(const core::json::object&)> cell;
};
// A column showing the field `key` as CellText.
Column FieldColumn(std::string header, std::string key);
Table MakeTable(const core::json::array& items, const std::vector<Column>& columns);

// "KEY  value" lines for one object, keys aligned; empty values show as "-".
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// Text of a JSON value for a cell: a string as is, null → "", a bool as true/false, an array of
// scalars comma-separated, an object or nested array as compact JSON; sanitised.
std::string CellText(const core::json::value& v);
// CellText of obj[key]; "" when absent or when `v` is not an object.
std::string FieldText(const core::json::value& v, std::string_view key);

// Replaces control characters (ESC, CR, ...) by '?', and tabs and newlines by a space.
std::string Sanitize(std::string_view s);
// Number of characters on screen (UTF-8 code points).
size_t DisplayWidth(std::string_view s);

// Pretty-printed JSON with a 2-space indent and a final newline.
std::string PrettyJson(const core::json::value& v);

}  // namespace gantry::app::client
