#include "app/client/output.h"

#include <algorithm>

namespace gantry::app::client {

namespace json = core::json;

namespace {

constexpr std::string_view kEmptyCell = "-";

void Pad(std::ostream& out, size_t n) {
  for (size_t i = 0; i < n; ++i) out << ' ';
}

void WritePretty(std::string& out, const json::value& v, int indent) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        out += json::serialize(json::string(kv.key()));
        out += ": ";
        WritePretty(out, kv.value(), indent + 1);
      }
      newline(indent);
      out += '}';
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        WritePretty(out, e, indent + 1);
      }
      newline(indent);
      out += ']';
      return;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

core::Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  return core::InvalidArgument("output format must be table or json", "output");
}

std::string Sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\t' || c == '\n') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += ch;
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;  // skip continuation bytes
  }
  return n;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(headers_.size(), 0);
  auto shown = [](const std::string& cell) -> std::string_view {
    return cell.empty() ? kEmptyCell : std::string_view(cell);
  };
  for (size_t i = 0; i < headers_.size(); ++i) width[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], DisplayWidth(shown(row[i])));
  }
  auto print_row = [&](const std::vector<std::string>& row, bool header) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::string_view text = header ? std::string_view(row[i]) : shown(row[i]);
      out << text;
      if (i + 1 < row.size()) Pad(out, width[i] - DisplayWidth(text) + 2);
    }
    out << '\n';
  };
  print_row(headers_, true);
  for (const auto& row : rows_) print_row(row, false);
}

Column FieldColumn(std::string header, std::string key) {
  return {std::move(header), [key = std::move(key)](const json::object& o) {
            auto it = o.find(key);
            return it == o.end() ? std::string() : CellText(it->value());
          }};
}

Table MakeTable(const json::array& items, const std::vector<Column>& columns) {
  std::vector<std::string> headers;
  for (const auto& c : columns) headers.push_back(c.header);
  Table t(std::move(headers));
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(c.cell(item.get_object()));
    t.AddRow(std::move(row));
  }
  return t;
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, DisplayWidth(k));
  for (const auto& [k, v] : fields) {
    out << k;
    Pad(out, width - DisplayWidth(k) + 2);
    out << (v.empty() ? kEmptyCell : std::string_view(v)) << '\n';
  }
}

std::string CellText(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "";
    case json::kind::string:
      return Sanitize(v.get_string());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::array: {
      std::string out;
      for (const auto& e : v.get_array()) {
        if (e.is_object() || e.is_array()) return Sanitize(json::serialize(v));
        if (!out.empty()) out += ",";
        out += CellText(e);
      }
      return out;
    }
    case json::kind::object:
      return Sanitize(json::serialize(v));
    default:
      return json::serialize(v);
  }
}

std::string FieldText(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  auto it = v.get_object().find(key);
  return it == v.get_object().end() ? std::string() : CellText(it->value());
}

std::string PrettyJson(const json::value& v) {
  std::string out;
  WritePretty(out, v, 0);
  out += '\n';
  return out;
}

}  // namespace gantry::app::client
