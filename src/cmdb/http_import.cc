// Bulk import and export of the CMDB:
//
//   POST /api/v1/cmdb/import?dry_run=true|false&kind=cis|relations   (cmdb.write)
//   GET  /api/v1/cmdb/export?format=json|csv&type=T&kind=cis|relations (cmdb.read)
//
// Import takes JSON ({"cis": [...], "relations": [...]}; an element's "line" is its 1-based
// position and its column reads "cis[3].attributes.gpu_count") or RFC 4180 CSV with a header row
// (kind=cis: type,name[,tenant][,status] and attr.<name> columns; kind=relations: type,from,to and
// attr.<name>; an empty cell means "absent"; ints and bools are converted by the attribute's
// kind). Every row is checked by Service::Import, which writes nothing when any row is bad; the
// bad rows come back in a 400 problem+json whose `errors` list names line, column and message.
// Export writes the same shapes, so an export imports back unchanged.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cmdb/csv.h"
#include "cmdb/http_api.h"
#include "http/params.h"
#include "http/problem.h"

namespace gantry::cmdb {

using core::Result;
using http::Context;
using http::Response;

namespace {

constexpr size_t kMaxImportRows = 200'000;
constexpr size_t kMaxExportCis = 1'000'000;
constexpr int kExportPage = 5000;
// Relation rows of a JSON import are handed to the service with their line moved up by this
// much, so that its errors (which carry only a line) can be told apart from CI rows' errors.
constexpr int64_t kRelationLineBase = 1'000'000'000;

enum class Section { kCis, kRelations };

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "text/csv; charset=utf-8" → "text/csv".
std::string MediaType(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A CSV cell → the JSON value of an attribute of `def`'s kind. Whole numbers become integers and
// true/false booleans only when they parse exactly; anything else stays a string, so the service
// reports the row with its usual message ("must be an integer").
core::json::value CellValue(const AttrDef* def, const std::string& cell) {
  if (!def) return core::json::value(cell);
  if (def->kind == AttrKind::kInt) {
    int64_t n = 0;
    const char* b = cell.data();
    const char* e = b + cell.size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (!cell.empty() && ec == std::errc() && p == e) return core::json::value(n);
  } else if (def->kind == AttrKind::kBool) {
    std::string l = Lower(cell);
    if (l == "true") return core::json::value(true);
    if (l == "false") return core::json::value(false);
  }
  return core::json::value(cell);
}

// A JSON attribute value as a CSV cell.
std::string CellText(const core::json::value& v) {
  switch (v.kind()) {
    case core::json::kind::null: return "";
    case core::json::kind::string: return std::string(v.get_string());
    case core::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case core::json::kind::int64: return std::to_string(v.get_int64());
    case core::json::kind::uint64: return std::to_string(v.get_uint64());
    default: return core::json::serialize(v);
  }
}

// ---- import ---------------------------------------------------------------------------------

// The rows of one import request, and what was wrong before the service saw them.
struct Batch {
  bool csv = false;
  std::vector<std::pair<int64_t, NewCi>> cis;
  std::vector<std::pair<int64_t, NewRelation>> relations;
  std::vector<ImportReport::RowError> errors;  // rows (JSON shape) or header (CSV) problems
  int64_t excluded = 0;                        // rows not handed to the service (bad shape)
  bool header_error = false;
};

core::Error TooManyRows() {
  return core::Error(core::Code::kTooLarge, "more than " + std::to_string(kMaxImportRows) +
                                                " rows in one import; split the file");
}

// One CSV header: which column holds what.
struct CsvColumns {
  std::map<std::string, size_t> fixed;                     // type, name, tenant, status / from, to
  std::vector<std::pair<std::string, size_t>> attrs;      // attribute name, column
};

// Reads the header row; problems go to batch.errors (against the header's line).
CsvColumns ReadHeader(const csv::Record& header, Section section, Batch& batch) {
  std::vector<std::string> fixed = section == Section::kCis
                                       ? std::vector<std::string>{"type", "name", "tenant", "status"}
                                       : std::vector<std::string>{"type", "from", "to"};
  std::vector<std::string> required = section == Section::kCis ? std::vector<std::string>{"type", "name"}
                                                               : std::vector<std::string>{"type", "from", "to"};
  CsvColumns cols;
  std::set<std::string> seen;
  auto error = [&](const std::string& column, const std::string& message) {
    batch.errors.push_back({header.line, column, message});
    batch.header_error = true;
  };
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name(Trim(header.fields[i]));
    if (!seen.insert(name).second) {
      error(name, "column '" + name + "' appears twice");
      continue;
    }
    if (std::find(fixed.begin(), fixed.end(), name) != fixed.end()) {
      cols.fixed[name] = i;
    } else if (name.starts_with("attr.") && name.size() > 5) {
      cols.attrs.emplace_back(name.substr(5), i);
    } else {
      error(name, "unknown column '" + name + "'; valid columns: " + Join(fixed) + ", attr.<attribute>");
    }
  }
  for (const auto& r : required) {
    if (!cols.fixed.count(r)) error(r, "the header has no '" + r + "' column");
  }
  return cols;
}

Result<Batch> ParseCsv(const Service& s, std::string_view body, std::optional<std::string> kind) {
  csv::Reader reader(body);
  std::vector<csv::Record> records;
  csv::Record rec;
  while (true) {
    auto more = reader.Next(rec);
    if (!more) return core::InvalidArgument("CSV syntax error on " + more.error().message);
    if (!*more) break;
    if (records.size() > kMaxImportRows) return TooManyRows();  // the header plus the rows
    records.push_back(std::move(rec));
  }
  if (records.empty()) return core::InvalidArgument("the CSV body is empty: it needs a header row");
  const csv::Record& header = records.front();
  if (!kind) {
    // No kind given: a header with from and to columns is a relations file.
    bool from = false, to = false;
    for (const auto& f : header.fields) {
      from = from || Trim(f) == "from";
      to = to || Trim(f) == "to";
    }
    kind = from && to ? "relations" : "cis";
  }
  Section section = *kind == "relations" ? Section::kRelations : Section::kCis;
  Batch batch;
  batch.csv = true;
  CsvColumns cols = ReadHeader(header, section, batch);
  if (batch.header_error) {
    batch.excluded = static_cast<int64_t>(records.size()) - 1;
    return batch;
  }
  auto cell = [&](const csv::Record& r, const char* name) -> std::string {
    auto it = cols.fixed.find(name);
    return it == cols.fixed.end() ? std::string() : r.fields[it->second];
  };
  if (section == Section::kCis) {
    std::map<std::string, std::optional<CiType>, std::less<>> types;
    for (size_t i = 1; i < records.size(); ++i) {
      const auto& r = records[i];
      NewCi ci;
      ci.type = cell(r, "type");
      ci.name = cell(r, "name");
      if (std::string t = cell(r, "tenant"); !t.empty()) ci.tenant = t;
      if (std::string st = cell(r, "status"); !st.empty()) ci.status = st;
      auto it = types.find(ci.type);
      if (it == types.end()) {
        auto t = s.GetType(ci.type);
        it = types.emplace(ci.type, t ? std::optional<CiType>(*t) : std::nullopt).first;
      }
      for (const auto& [attr, col] : cols.attrs) {
        const std::string& v = r.fields[col];
        if (v.empty()) continue;
        ci.attrs[attr] = CellValue(it->second ? it->second->Find(attr) : nullptr, v);
      }
      batch.cis.emplace_back(r.line, std::move(ci));
    }
  } else {
    std::map<std::string, RelationType, std::less<>> rtypes;
    for (auto& t : s.RelationTypes()) rtypes.emplace(t.name, t);
    for (size_t i = 1; i < records.size(); ++i) {
      const auto& r = records[i];
      NewRelation rel;
      rel.type = cell(r, "type");
      rel.from = cell(r, "from");
      rel.to = cell(r, "to");
      rel.source = "import";
      auto it = rtypes.find(rel.type);
      for (const auto& [attr, col] : cols.attrs) {
        const std::string& v = r.fields[col];
        if (v.empty()) continue;
        const AttrDef* def = nullptr;
        if (it != rtypes.end()) {
          for (const auto& d : it->second.attributes) {
            if (d.name == attr) def = &d;
          }
        }
        rel.attrs[attr] = CellValue(def, v);
      }
      batch.relations.emplace_back(r.line, std::move(rel));
    }
  }
  return batch;
}

std::string Where(Section section, size_t index) {
  return (section == Section::kCis ? "cis[" : "relations[") + std::to_string(index) + "]";
}

Result<Batch> ParseJsonBody(std::string_view body, std::optional<std::string> kind) {
  GANTRY_TRY(auto o, core::ParseObject(body));
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"cis", "relations"}));
  Batch batch;
  for (Section section : {Section::kCis, Section::kRelations}) {
    const char* key = section == Section::kCis ? "cis" : "relations";
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) continue;
    if (!it->value().is_array()) return core::InvalidArgument(std::string("'") + key + "' must be an array", key);
    const auto& arr = it->value().get_array();
    if (kind && *kind != key && !arr.empty()) {
      return core::InvalidArgument("kind=" + *kind + ", but the body has '" + key + "'", "kind");
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      if (batch.cis.size() + batch.relations.size() + static_cast<size_t>(batch.excluded) >= kMaxImportRows) {
        return TooManyRows();
      }
      int64_t line = static_cast<int64_t>(i + 1);
      std::string where = Where(section, i + 1);
      auto bad = [&](const core::Error& e) {
        batch.errors.push_back({line, e.field.empty() ? where : where + "." + e.field, e.message});
        ++batch.excluded;
      };
      if (!arr[i].is_object()) {
        bad(core::InvalidArgument("each element must be an object"));
        continue;
      }
      const auto& e = arr[i].get_object();
      auto parsed = [&]() -> core::Status {
        if (section == Section::kCis) {
          GANTRY_TRY_STATUS(core::OnlyFields(e, {"type", "name", "attributes", "tenant", "status"}));
          NewCi ci;
          GANTRY_TRY(ci.type, core::GetString(e, "type"));
          GANTRY_TRY(ci.name, core::GetString(e, "name"));
          GANTRY_TRY(auto attrs, core::OptObject(e, "attributes"));
          if (attrs) ci.attrs = std::move(*attrs);
          GANTRY_TRY(ci.tenant, core::OptString(e, "tenant"));
          GANTRY_TRY(auto status, core::OptString(e, "status"));
          ci.status = status.value_or("active");
          batch.cis.emplace_back(line, std::move(ci));
        } else {
          GANTRY_TRY_STATUS(core::OnlyFields(e, {"type", "from", "to", "attributes"}));
          NewRelation rel;
          GANTRY_TRY(rel.type, core::GetString(e, "type"));
          GANTRY_TRY(rel.from, core::GetString(e, "from"));
          GANTRY_TRY(rel.to, core::GetString(e, "to"));
          GANTRY_TRY(auto attrs, core::OptObject(e, "attributes"));
          if (attrs) rel.attrs = std::move(*attrs);
          rel.source = "import";
          batch.relations.emplace_back(kRelationLineBase + line, std::move(rel));
        }
        return {};
      }();
      if (!parsed) bad(parsed.error());
    }
  }
  return batch;
}

// The column of a service error: the service names a field ("type", "name", an attribute);
// a reference it cannot resolve is named only in its message, so from/to is looked for there.
std::string ColumnOf(const Batch& b, Section section, size_t index, const ImportReport::RowError& e) {
  static const std::set<std::string> kCiFields = {"type", "name", "tenant", "status"};
  static const std::set<std::string> kRelFields = {"type", "from", "to"};
  std::string field = e.column;
  bool is_attr = false;
  int64_t position = 0;  // JSON: 1-based position in its array
  if (section == Section::kCis) {
    is_attr = !field.empty() && !kCiFields.count(field);
    position = b.cis[index].first;
  } else {
    const NewRelation& rel = b.relations[index].second;
    if (field.empty()) {
      if (e.message.find("'" + rel.from + "'") != std::string::npos) {
        field = "from";
      } else if (e.message.find("'" + rel.to + "'") != std::string::npos) {
        field = "to";
      }
    }
    is_attr = !field.empty() && !kRelFields.count(field);
    position = b.relations[index].first - kRelationLineBase;
  }
  if (b.csv) return is_attr ? "attr." + field : field;
  std::string where = Where(section, static_cast<size_t>(position));
  if (field.empty()) return where;
  return where + (is_attr ? ".attributes." : ".") + field;
}

core::json::object ReportJson(const ImportReport& rep, const std::vector<ImportReport::RowError>& errors) {
  core::json::array errs;
  for (const auto& e : errors) {
    errs.push_back({{"line", e.line}, {"column", e.column}, {"message", e.message}});
  }
  return {{"dry_run", rep.dry_run}, {"rows", rep.rows},           {"created", rep.created},
          {"updated", rep.updated}, {"relations", rep.relations}, {"errors", errs}};
}

Result<Response> Import(Service& s, Context& c) {
  const auto& r = c.request;
  GANTRY_TRY_STATUS(http::OnlyQuery(r, {"dry_run", "kind"}));
  GANTRY_TRY(bool dry_run, http::BoolParam(r, "dry_run", false));
  auto kind = r.Query("kind");
  if (kind && *kind != "cis" && *kind != "relations") {
    return core::InvalidArgument("kind must be 'cis' or 'relations'", "kind");
  }
  std::string media = MediaType(r.Header("content-type"));
  Batch batch;
  if (media == "text/csv" || media == "application/csv") {
    auto ct = Lower(r.Header("content-type"));
    if (auto cs = ct.find("charset="); cs != std::string::npos) {
      std::string charset(Trim(ct.substr(cs + 8)));
      if (charset != "utf-8" && charset != "\"utf-8\"" && charset != "us-ascii") {
        return core::Error(core::Code::kUnsupportedMedia, "CSV must be UTF-8, not " + charset);
      }
    }
    GANTRY_TRY(batch, ParseCsv(s, r.body, kind));
  } else if (media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))) {
    GANTRY_TRY(batch, ParseJsonBody(r.body, kind));
  } else {
    return core::Error(core::Code::kUnsupportedMedia,
                       "content type '" + std::string(r.Header("content-type")) +
                           "' is not supported; send application/json or text/csv");
  }

  ImportReport rep;
  rep.dry_run = dry_run;
  std::vector<ImportReport::RowError> errors = batch.errors;
  if (!batch.header_error) {
    // With rows already known to be bad, the service only checks the rest (a dry run).
    GANTRY_TRY(rep, s.Import(c.rc, batch.cis, batch.relations, dry_run || !errors.empty()));
    rep.dry_run = dry_run;
    // Map each service error back to its row to name the column.
    std::map<int64_t, size_t> ci_at, rel_at;
    for (size_t i = 0; i < batch.cis.size(); ++i) ci_at.emplace(batch.cis[i].first, i);
    for (size_t i = 0; i < batch.relations.size(); ++i) rel_at.emplace(batch.relations[i].first, i);
    for (auto e : rep.errors) {
      bool relation = batch.csv ? batch.cis.empty() : e.line >= kRelationLineBase;
      Section section = relation ? Section::kRelations : Section::kCis;
      auto& at = relation ? rel_at : ci_at;
      if (auto it = at.find(e.line); it != at.end()) e.column = ColumnOf(batch, section, it->second, e);
      if (!batch.csv && relation) e.line -= kRelationLineBase;
      errors.push_back(std::move(e));
    }
  }
  rep.rows = static_cast<int64_t>(batch.cis.size() + batch.relations.size()) + batch.excluded;
  if (errors.empty()) return Response::Json(ReportJson(rep, errors));

  // Order: CIs before relations (JSON), then by line.
  auto rank = [&](const ImportReport::RowError& e) {
    return std::make_pair(e.column.starts_with("relations[") ? 1 : 0, e.line);
  };
  std::stable_sort(errors.begin(), errors.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  rep.created = rep.updated = rep.relations = 0;
  std::set<std::pair<int, int64_t>> bad_rows;
  for (const auto& e : errors) bad_rows.insert(rank(e));
  std::string detail;
  if (batch.header_error) {
    detail = "the CSV header is invalid (" + errors.front().message + "); nothing was imported";
  } else {
    detail = std::to_string(bad_rows.size()) + " of " + std::to_string(rep.rows) +
             " rows are invalid; nothing was imported";
  }
  core::json::object o{{"type", "https://gantry.dev/problems/invalid-argument"},
                       {"title", http::ReasonPhrase(400)},
                       {"status", 400},
                       {"detail", detail},
                       {"instance", r.path},
                       {"request_id", c.rc.request_id}};
  for (auto& kv : ReportJson(rep, errors)) o[kv.key()] = kv.value();
  Response resp = Response::Json(o, 400);
  resp.SetHeader("content-type", "application/problem+json");
  return resp;
}

// ---- export ---------------------------------------------------------------------------------

Result<std::vector<Ci>> AllCis(Service& s, const core::RequestContext& rc, std::optional<std::string> type) {
  std::vector<Ci> out;
  CiFilter f;
  f.type = std::move(type);
  f.limit = kExportPage;
  while (true) {
    GANTRY_TRY(auto page, s.ListCis(rc, f));
    for (auto& ci : page) out.push_back(std::move(ci));
    if (out.size() > kMaxExportCis) {
      return core::Error(core::Code::kTooLarge, "more than " + std::to_string(kMaxExportCis) +
                                                    " CIs to export; export one type at a time (type=...)");
    }
    if (static_cast<int>(page.size()) < f.limit) break;
    f.after_id = out.back().id;
  }
  return out;
}

// The relationships among `cis` (both ends exported), in id order.
Result<std::vector<Relation>> RelationsAmong(Service& s, const std::vector<Ci>& cis,
                                             const std::map<int64_t, std::string>& labels,
                                             const std::optional<std::string>& type) {
  std::map<int64_t, Relation> by_id;
  constexpr size_t kChunk = 20'000;
  for (size_t start = 0; start < cis.size(); start += kChunk) {
    std::vector<int64_t> ids;
    for (size_t i = start; i < std::min(cis.size(), start + kChunk); ++i) ids.push_back(cis[i].id);
    GANTRY_TRY(auto rels, s.RelationsOfMany(ids));
    for (auto& r : rels) {
      if (type && r.type != *type) continue;
      if (!labels.count(r.from_id) || !labels.count(r.to_id)) continue;
      by_id.emplace(r.id, std::move(r));
    }
  }
  std::vector<Relation> out;
  out.reserve(by_id.size());
  for (auto& [_, r] : by_id) out.push_back(std::move(r));
  return out;
}

Result<Response> Export(Service& s, Context& c) {
  const auto& r = c.request;
  GANTRY_TRY_STATUS(http::OnlyQuery(r, {"format", "type", "kind"}));
  std::string format = r.Query("format").value_or("json");
  if (format != "json" && format != "csv") return core::InvalidArgument("format must be 'json' or 'csv'", "format");
  auto kind = r.Query("kind");
  if (kind && *kind != "cis" && *kind != "relations") {
    return core::InvalidArgument("kind must be 'cis' or 'relations'", "kind");
  }
  if (format == "csv" && !kind) kind = "cis";
  auto type = r.Query("type");
  bool want_cis = !kind || *kind == "cis";
  bool want_rels = !kind || *kind == "relations";
  // `type` is the CI type, except for kind=relations where it is the relationship type.
  std::optional<std::string> ci_type = kind && *kind == "relations" ? std::nullopt : type;
  std::optional<std::string> rel_type = kind && *kind == "relations" ? type : std::nullopt;
  std::optional<CiType> ci_def;
  if (ci_type) {
    GANTRY_TRY(ci_def, s.GetType(*ci_type));
  } else if (format == "csv" && want_cis) {
    std::vector<std::string> names;
    for (const auto& t : s.Types()) names.push_back(t.name);
    return core::InvalidArgument("a CSV export of CIs needs type=... (its attribute columns depend on the type); "
                                     "valid types: " + Join(names),
                                 "type");
  }
  auto rtypes = s.RelationTypes();
  if (rel_type) {
    bool known = false;
    std::vector<std::string> names;
    for (const auto& t : rtypes) {
      known = known || t.name == *rel_type;
      names.push_back(t.name);
    }
    if (!known) {
      return core::InvalidArgument("unknown relation type '" + *rel_type + "'; valid types: " + Join(names), "type");
    }
  }

  GANTRY_TRY(auto cis, AllCis(s, c.rc, ci_type));
  std::map<int64_t, std::string> labels;
  for (const auto& ci : cis) labels.emplace(ci.id, Label(ci));
  std::vector<Relation> rels;
  if (want_rels) {
    GANTRY_TRY(rels, RelationsAmong(s, cis, labels, rel_type));
  }

  if (format == "json") {
    core::json::object o;
    if (want_cis) {
      core::json::array items;
      items.reserve(cis.size());
      for (const auto& ci : cis) {
        core::json::object e{{"type", ci.type}, {"name", ci.name}, {"attributes", ci.attrs}};
        if (ci.tenant) e["tenant"] = *ci.tenant;
        e["status"] = ci.status;
        items.push_back(std::move(e));
      }
      o["cis"] = std::move(items);
    }
    if (want_rels) {
      core::json::array items;
      items.reserve(rels.size());
      for (const auto& rel : rels) {
        items.push_back({{"type", rel.type}, {"from", labels.at(rel.from_id)}, {"to", labels.at(rel.to_id)},
                         {"attributes", rel.attrs}});
      }
      o["relations"] = std::move(items);
    }
    return Response::Json(o);
  }

  std::string out;
  std::string filename;
  if (want_cis) {
    std::vector<std::string> header = {"type", "name", "tenant", "status"};
    for (const auto& a : ci_def->attributes) header.push_back("attr." + a.name);
    csv::AppendRecord(out, header);
    std::vector<std::string> row;
    for (const auto& ci : cis) {
      row = {ci.type, ci.name, ci.tenant.value_or(""), ci.status};
      for (const auto& a : ci_def->attributes) {
        const auto* v = ci.attrs.if_contains(a.name);
        row.push_back(v ? CellText(*v) : "");
      }
      csv::AppendRecord(out, row);
    }
    filename = "cmdb-" + ci_def->name + ".csv";
  } else {
    // Attribute columns: those of the relationship types present, in definition order.
    std::set<std::string> present;
    for (const auto& rel : rels) present.insert(rel.type);
    std::vector<std::string> attrs;
    for (const auto& t : rtypes) {
      if (!present.count(t.name)) continue;
      for (const auto& a : t.attributes) {
        if (std::find(attrs.begin(), attrs.end(), a.name) == attrs.end()) attrs.push_back(a.name);
      }
    }
    std::vector<std::string> header = {"type", "from", "to"};
    for (const auto& a : attrs) header.push_back("attr." + a);
    csv::AppendRecord(out, header);
    std::vector<std::string> row;
    for (const auto& rel : rels) {
      row = {rel.type, labels.at(rel.from_id), labels.at(rel.to_id)};
      for (const auto& a : attrs) {
        const auto* v = rel.attrs.if_contains(a);
        row.push_back(v ? CellText(*v) : "");
      }
      csv::AppendRecord(out, row);
    }
    filename = "cmdb-relations" + (rel_type ? "-" + *rel_type : std::string()) + ".csv";
  }
  Response resp = Response::Text(std::move(out), "text/csv; charset=utf-8");
  resp.SetHeader("content-disposition", "attachment; filename=\"" + filename + "\"");
  return resp;
}

}  // namespace

void RegisterImportRoutes(http::Router& router, Service& s) {
  router.Add({"POST", "/api/v1/cmdb/import", "cmdb.write", http::Auth::kRequired, /*raw_body=*/true},
             [&s](Context& c) -> Result<Response> { return Import(s, c); });
  router.Add({"GET", "/api/v1/cmdb/export", "cmdb.read"},
             [&s](Context& c) -> Result<Response> { return Export(s, c); });
}

}  // namespace gantry::cmdb
