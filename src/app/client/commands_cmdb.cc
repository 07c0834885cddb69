// gantry ci ... (the CMDB: configuration items, relationships, history, graph questions, bulk
// import and export, types) and gantry change ... (change requests).
//
// A REF names one CI: its id, "type/name", or a name that is unique across types. In URL paths
// it goes through CiPath, which percent-encodes it as one segment (server%2Fnode-01).
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"
#include "core/clock.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

constexpr const char* kCmdb = "/api/v1/cmdb";

const json::array& EmptyArray() {
  static const json::array kEmpty;
  return kEmpty;
}
const json::object& EmptyObject() {
  static const json::object kEmpty;
  return kEmpty;
}

// Field accessors. The json::object overloads matter: passing an object where a json::value is
// expected would copy it into a temporary, and a reference into that would dangle.
const json::value* At(const json::object& o, std::string_view key) { return o.if_contains(key); }
const json::value* At(const json::value& v, std::string_view key) {
  return v.is_object() ? At(v.get_object(), key) : nullptr;
}
const json::array& ArrayAt(const json::object& o, std::string_view key) {
  const auto* f = At(o, key);
  return f && f->is_array() ? f->get_array() : EmptyArray();
}
const json::array& ArrayAt(const json::value& v, std::string_view key) {
  return v.is_object() ? ArrayAt(v.get_object(), key) : EmptyArray();
}
const json::object& ObjectAt(const json::object& o, std::string_view key) {
  const auto* f = At(o, key);
  return f && f->is_object() ? f->get_object() : EmptyObject();
}
const json::object& ObjectAt(const json::value& v, std::string_view key) {
  return v.is_object() ? ObjectAt(v.get_object(), key) : EmptyObject();
}
int64_t IntAt(const json::object& o, std::string_view key) {
  const auto* f = At(o, key);
  return f && f->is_int64() ? f->get_int64() : 0;
}
int64_t IntAt(const json::value& v, std::string_view key) { return v.is_object() ? IntAt(v.get_object(), key) : 0; }
bool BoolAt(const json::object& o, std::string_view key) {
  const auto* f = At(o, key);
  return f && f->is_bool() && f->get_bool();
}
bool BoolAt(const json::value& v, std::string_view key) { return v.is_object() && BoolAt(v.get_object(), key); }

const json::array& Items(const Session& s, const json::value& list) {
  const auto* items = At(list, "items");
  if (!items || !items->is_array()) {
    s.Fail(core::Unavailable("unexpected answer from " + s.connection().server + ": no 'items' list"));
  }
  return items->get_array();
}

// "type/name" of a CI object.
std::string CiLabel(const json::value& ci) {
  return Sanitize(FieldText(ci, "type") + "/" + FieldText(ci, "name"));
}

// "k=v, k=v" of an attributes object, in the server's order.
std::string AttrsText(const json::object& attrs) {
  std::string out;
  for (const auto& kv : attrs) {
    if (!out.empty()) out += ", ";
    out += Sanitize(kv.key()) + "=" + CellText(kv.value());
  }
  return out;
}

std::string Plural(int64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string JoinStrings(const json::array& a) {
  std::string out;
  for (const auto& v : a) {
    if (!out.empty()) out += ", ";
    out += CellText(v);
  }
  return out;
}

// A time flag: RFC 3339, "now", or an age such as 90s, 15m, 2h, 7d (that long ago).
core::Result<std::string> TimeArg(const std::string& flag, const std::string& text) {
  if (text == "now") return core::FormatRfc3339(core::NowNanos());
  if (auto t = core::ParseRfc3339(text)) return core::FormatRfc3339(*t);
  if (text.size() >= 2) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    int64_t unit = 0;
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
    }
    if (ec == std::errc() && end == text.data() + text.size() - 1 && unit > 0 && n >= 0 &&
        n < 3650LL * 86400) {
      return core::FormatRfc3339(core::NowNanos() - n * unit * core::kNanosPerSecond);
    }
  }
  return core::InvalidArgument(flag + " '" + text +
                               "' is not a time: use RFC 3339 (2026-11-20T09:00:00Z), 'now', or an "
                               "age such as 90s, 15m, 2h, 7d");
}

std::string TimeOrFail(const std::string& flag, const std::string& text) {
  auto t = TimeArg(flag, text);
  if (!t) app::Fail(kExitUsage, t.error().message);
  return *t;
}

// The "attributes" definitions of a CI type or relation type, by name.
std::map<std::string, json::object> AttrDefs(const json::value& type) {
  std::map<std::string, json::object> out;
  for (const auto& a : ArrayAt(type, "attributes")) {
    if (a.is_object()) out[FieldText(a, "name")] = a.get_object();
  }
  return out;
}

}  // namespace

std::string CiPath(std::string_view ref) { return std::string(kCmdb) + "/cis/" + PathSegment(ref); }

core::Result<json::object> ParseAttrArgs(const std::vector<std::string>& pairs, const json::value& type) {
  auto defs = AttrDefs(type);
  json::object out;
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return core::InvalidArgument("--attr '" + p + "' must look like name=value", "attr");
    }
    std::string key = p.substr(0, eq);
    std::string value = p.substr(eq + 1);
    if (out.contains(key)) return core::InvalidArgument("--attr '" + key + "' is given twice", "attr");
    auto it = defs.find(key);
    std::string kind = it == defs.end() ? "" : FieldText(it->second, "type");
    if (kind == "int") {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (!value.empty() && ec == std::errc() && end == value.data() + value.size()) {
        out[key] = n;
        continue;
      }
    } else if (kind == "bool" && (value == "true" || value == "false")) {
      out[key] = value == "true";
      continue;
    }
    // Strings, and values the server will refuse with a message naming the attribute.
    out[key] = value;
  }
  return out;
}

std::string HopsText(const json::value& hops) {
  std::string out;
  for (const auto& h : hops.is_array() ? hops.get_array() : EmptyArray()) {
    if (out.empty()) out = Sanitize(FieldText(h, "from"));
    std::string rel = Sanitize(FieldText(h, "relation"));
    if (FieldText(h, "direction") == "reverse") {
      out += " <-" + rel + "- ";
    } else {
      out += " -" + rel + "-> ";
    }
    out += Sanitize(FieldText(h, "to"));
  }
  return out;
}

std::string ByTypeText(const json::value& answer) {
  // Types in the order their first CI appears (nearest first), counted from the items; the
  // server's by_type covers the same CIs.
  std::vector<std::string> order;
  std::map<std::string, int64_t> counts;
  for (const auto& item : ArrayAt(answer, "items")) {
    const auto* ci = At(item, "ci");
    if (!ci) continue;
    std::string t = FieldText(*ci, "type");
    if (counts[t]++ == 0) order.push_back(t);
  }
  // Types counted by the server but cut from the items (truncated answers).
  for (const auto& kv : ObjectAt(answer, "by_type")) {
    std::string t(kv.key());
    if (!counts.count(t) && kv.value().is_int64()) {
      counts[t] = kv.value().get_int64();
      order.push_back(t);
    }
  }
  std::string out;
  for (const auto& t : order) {
    if (!out.empty()) out += ", ";
    out += std::to_string(counts[t]) + " " + Sanitize(t);
  }
  return out;
}

namespace {

// ---- shared printing ---------------------------------------------------------------------------

void PrintCi(const Session& s, const json::value& ci, bool attrs_inline) {
  std::string status = FieldText(ci, "status");
  if (BoolAt(ci, "stale")) status += " (stale)";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"ID", FieldText(ci, "id")},         {"TYPE", FieldText(ci, "type")},
      {"NAME", FieldText(ci, "name")},     {"STATUS", status},
      {"TENANT", FieldText(ci, "tenant")}, {"VERSION", FieldText(ci, "version")}};
  if (!attrs_inline) {
    fields.emplace_back("LAST SEEN", FieldText(ci, "last_seen_at"));
    fields.emplace_back("CREATED", FieldText(ci, "created_at"));
    fields.emplace_back("UPDATED", FieldText(ci, "updated_at"));
  } else {
    fields.emplace_back("ATTRIBUTES", AttrsText(ObjectAt(ci, "attributes")));
  }
  PrintFields(s.out(), fields);
}

// One "graph answer" (impact, root cause) as a summary line and a table with WHY paths.
void PrintTraversal(const Session& s, const json::value& a, bool impact) {
  const auto* origin = At(a, "ci");
  std::string name = origin ? Sanitize(FieldText(*origin, "name")) : "?";
  int64_t total = IntAt(a, "total");
  std::string line;
  if (impact) {
    line = total == 0 ? name + " failing affects no other CI"
                      : name + " failing affects " + Plural(total, "CI", "CIs") + ": " + ByTypeText(a);
  } else {
    line = total == 0 ? name + " depends on no other CI"
                      : name + " can be brought down by " + Plural(total, "CI", "CIs") + ": " + ByTypeText(a);
  }
  if (const auto& t = ArrayAt(a, "tenants"); !t.empty()) line += "; tenants: " + JoinStrings(t);
  if (const auto& sv = ArrayAt(a, "services"); !sv.empty()) line += "; services: " + JoinStrings(sv);
  s.out() << line << "\n";
  if (IntAt(a, "hidden") > 0) {
    s.out() << "(" << Plural(IntAt(a, "hidden"), "more CI", "more CIs")
            << " of other tenants affected, not shown)\n";
  }
  if (total > 0) {
    s.out() << "\n";
    Table table({"DEPTH", "CI", "STATUS", "TENANT", "WHY"});
    for (const auto& item : ArrayAt(a, "items")) {
      const auto* ci = At(item, "ci");
      if (!ci) continue;
      table.AddRow({FieldText(item, "depth"), CiLabel(*ci), FieldText(*ci, "status"), FieldText(*ci, "tenant"),
                    HopsText(At(item, "path") ? *At(item, "path") : json::value())});
    }
    table.Print(s.out());
  }
  if (BoolAt(a, "truncated")) {
    s.err() << "(answer truncated: raise --limit or --depth)\n";
  }
}

// ---- ci list / show / create / update / delete -----------------------------------------------

struct ListArgs {
  std::string type, status, tenant, q, related_to, relation;
  std::vector<std::string> attrs;
  int limit = 0;
  bool all = false;
  bool stale = false;
};

void CiList(const GlobalFlags& flags, const ListArgs& args, const Io& io) {
  Query q;
  auto add = [&q](const char* name, const std::string& v) {
    if (!v.empty()) q.emplace_back(name, v);
  };
  add("type", args.type);
  add("status", args.status);
  add("tenant", args.tenant);
  add("q", args.q);
  for (const auto& p : args.attrs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) app::Fail(kExitUsage, "--attr '" + p + "' must look like name=value");
    q.emplace_back("attr." + p.substr(0, eq), p.substr(eq + 1));
  }
  add("related_to", args.related_to);
  add("relation", args.relation);
  if (args.stale) q.emplace_back("stale", "true");
  auto s = Session::Open(flags, io);
  std::string path = std::string(kCmdb) + "/cis";
  json::value list;
  if (args.all) {
    list = s->Check(s->api().GetAll(path, q, args.limit > 0 ? args.limit : 1000));
  } else {
    if (args.limit > 0) q.emplace_back("limit", std::to_string(args.limit));
    list = s->Check(s->api().Get(path, q));
  }
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list),
            {FieldColumn("ID", "id"),
             FieldColumn("TYPE", "type"),
             FieldColumn("NAME", "name"),
             {"STATUS",
              [](const json::object& ci) {
                return FieldText(ci, "status") + (BoolAt(ci, "stale") ? " (stale)" : "");
              }},
             FieldColumn("TENANT", "tenant"),
             {"ATTRIBUTES", [](const json::object& ci) { return AttrsText(ObjectAt(ci, "attributes")); }}})
      .Print(s->out());
  const auto* next = At(list, "next_cursor");
  if (next && next->is_string()) {
    s->err() << "(more CIs match: add --all, raise --limit or narrow the search)\n";
  }
}

// Labels of the CIs related to `id` (one request), for naming relationship peers.
std::map<int64_t, std::string> PeerLabels(Session& s, int64_t id) {
  std::map<int64_t, std::string> out;
  auto peers = s.api().GetAll(std::string(kCmdb) + "/cis", {{"related_to", std::to_string(id)}}, 5000);
  if (!peers) return out;  // names are a convenience: fall back to ids
  for (const auto& p : ArrayAt(*peers, "items")) out[IntAt(p, "id")] = CiLabel(p);
  return out;
}

void CiShow(const GlobalFlags& flags, const std::string& ref, const std::string& at, const Io& io) {
  std::string when = at.empty() ? "" : TimeOrFail("--at", at);
  auto s = Session::Open(flags, io);
  if (!when.empty()) {
    auto state = s->Check(s->api().Get(CiPath(ref) + "/as-of", {{"time", when}}));
    if (s->json()) return s->PrintJson(state);
    if (!BoolAt(state, "exists")) {
      s->out() << Sanitize(ref) << " did not exist at " << when << "\n";
      return;
    }
    const auto* ci = At(state, "ci");
    s->out() << "As of " << when << " (version " << FieldText(state, "version") << "):\n";
    PrintCi(*s, ci ? *ci : json::value(), true);
    return;
  }
  auto ci = s->Check(s->api().Get(CiPath(ref)));
  int64_t id = IntAt(ci, "id");
  auto rels = s->Check(s->api().Get(CiPath(std::to_string(id)) + "/relations"));
  auto labels = PeerLabels(*s, id);
  labels[id] = CiLabel(ci);
  auto label = [&](int64_t other) {
    auto it = labels.find(other);
    return it == labels.end() ? "#" + std::to_string(other) : it->second;
  };
  if (s->json()) {
    json::array items;
    for (const auto& r : Items(*s, rels)) {
      json::object o = r.get_object();
      o["from"] = label(IntAt(r, "from_id"));
      o["to"] = label(IntAt(r, "to_id"));
      items.push_back(std::move(o));
    }
    return s->PrintJson(json::object{{"ci", ci}, {"relations", std::move(items)}});
  }
  PrintCi(*s, ci, false);
  s->out() << "\nATTRIBUTES\n";
  const auto& attrs = ObjectAt(ci, "attributes");
  if (attrs.empty()) {
    s->out() << "(none)\n";
  } else {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& kv : attrs) fields.emplace_back(std::string(kv.key()), CellText(kv.value()));
    PrintFields(s->out(), fields);
  }
  s->out() << "\nRELATIONSHIPS\n";
  const auto& list = Items(*s, rels);
  if (list.empty()) {
    s->out() << "(none)\n";
    return;
  }
  Table table({"ID", "RELATIONSHIP", "ATTRIBUTES"});
  for (const auto& r : list) {
    std::string type = Sanitize(FieldText(r, "type"));
    std::string text = IntAt(r, "from_id") == id ? "-" + type + "-> " + label(IntAt(r, "to_id"))
                                                 : "<-" + type + "- " + label(IntAt(r, "from_id"));
    table.AddRow({FieldText(r, "id"), text, AttrsText(ObjectAt(r, "attributes"))});
  }
  table.Print(s->out());
}

struct CreateArgs {
  std::string type, name, tenant, status;
  std::vector<std::string> attrs;
};

void CiCreate(const GlobalFlags& flags, const CreateArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  auto type = s->Check(s->api().Get(std::string(kCmdb) + "/types/" + PathSegment(args.type)));
  auto attrs = ParseAttrArgs(args.attrs, type);
  if (!attrs) app::Fail(kExitUsage, attrs.error().message);
  json::object body{{"type", args.type}, {"name", args.name}, {"attributes", std::move(*attrs)}};
  if (!args.tenant.empty()) body["tenant"] = args.tenant;
  if (!args.status.empty()) body["status"] = args.status;
  auto ci = s->Check(s->api().Post(std::string(kCmdb) + "/cis", body));
  if (s->json()) return s->PrintJson(ci);
  PrintCi(*s, ci, true);
}

struct UpdateArgs {
  std::string ref, status, tenant;
  std::vector<std::string> attrs, unset;
};

void CiUpdate(const GlobalFlags& flags, const UpdateArgs& args, const Io& io) {
  if (args.attrs.empty() && args.unset.empty() && args.status.empty() && args.tenant.empty()) {
    app::Fail(kExitUsage, "nothing to change: give --attr, --unset, --status or --tenant");
  }
  auto s = Session::Open(flags, io);
  auto current = s->Check(s->api().Get(CiPath(args.ref)));
  auto type = s->Check(s->api().Get(std::string(kCmdb) + "/types/" + PathSegment(FieldText(current, "type"))));
  auto attrs = ParseAttrArgs(args.attrs, type);
  if (!attrs) app::Fail(kExitUsage, attrs.error().message);
  for (const auto& k : args.unset) {
    if (attrs->contains(k)) app::Fail(kExitUsage, "'" + k + "' is both set (--attr) and removed (--unset)");
    (*attrs)[k] = nullptr;
  }
  // The version read above: a change made by someone else in between is refused (409).
  json::object body{{"version", IntAt(current, "version")}};
  if (!attrs->empty()) body["attributes"] = std::move(*attrs);
  if (!args.status.empty()) body["status"] = args.status;
  if (args.tenant == "-") {
    body["tenant"] = nullptr;
  } else if (!args.tenant.empty()) {
    body["tenant"] = args.tenant;
  }
  auto ci = s->Check(s->api().Patch(CiPath(std::to_string(IntAt(current, "id"))), body));
  if (s->json()) return s->PrintJson(ci);
  PrintCi(*s, ci, true);
}

void CiDelete(const GlobalFlags& flags, const std::string& ref, bool cascade, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (cascade) q.emplace_back("cascade", "true");
  s->Check(s->api().Delete(CiPath(ref), q));
  if (!s->json()) s->out() << "Deleted " << Sanitize(ref) << (cascade ? " and its relationships" : "") << "\n";
}

// ---- relationships -----------------------------------------------------------------------------

struct RelateArgs {
  std::string from, relation, to;
  std::vector<std::string> attrs;
};

void CiRelate(const GlobalFlags& flags, const RelateArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  json::value type;
  if (!args.attrs.empty()) {
    auto types = s->Check(s->api().Get(std::string(kCmdb) + "/relation-types"));
    for (const auto& t : Items(*s, types)) {
      if (FieldText(t, "name") == args.relation) type = t;
    }
  }
  auto attrs = ParseAttrArgs(args.attrs, type);
  if (!attrs) app::Fail(kExitUsage, attrs.error().message);
  json::object body{{"type", args.relation}, {"from", args.from}, {"to", args.to}};
  if (!attrs->empty()) body["attributes"] = std::move(*attrs);
  auto r = s->Check(s->api().Post(std::string(kCmdb) + "/relations", body));
  if (s->json()) return s->PrintJson(r);
  s->out() << "Relationship " << FieldText(r, "id") << ": " << Sanitize(args.from) << " -"
           << Sanitize(args.relation) << "-> " << Sanitize(args.to);
  if (const auto& a = ObjectAt(r, "attributes"); !a.empty()) s->out() << " (" << AttrsText(a) << ")";
  s->out() << "\n";
}

void CiUnrelate(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete(std::string(kCmdb) + "/relations/" + std::to_string(id)));
  if (!s->json()) s->out() << "Relationship " << id << " removed\n";
}

// ---- history -----------------------------------------------------------------------------------

std::string ValueText(const json::value* v) { return v ? CellText(*v) : ""; }

// What one history entry changed, in a line.
std::string ChangeText(const json::value& h, int64_t self) {
  std::string op = FieldText(h, "op");
  const json::value* before = At(h, "before");
  const json::value* after = At(h, "after");
  if (op == "ci.create") {
    std::string attrs = after ? AttrsText(ObjectAt(*after, "attributes")) : "";
    return "created" + (attrs.empty() ? "" : ": " + attrs);
  }
  if (op == "ci.delete") return "deleted";
  if (op == "ci.update" && before && after) {
    std::vector<std::string> parts;
    for (const char* k : {"name", "status", "tenant"}) {
      std::string a = ValueText(At(*before, k)), b = ValueText(At(*after, k));
      if (a != b) parts.push_back(std::string(k) + ": " + (a.empty() ? "-" : a) + " → " + (b.empty() ? "-" : b));
    }
    const auto& ba = ObjectAt(*before, "attributes");
    const auto& aa = ObjectAt(*after, "attributes");
    for (const auto& kv : aa) {
      const auto* old = ba.if_contains(kv.key());
      if (!old || *old != kv.value()) {
        parts.push_back(Sanitize(kv.key()) + ": " + (old ? CellText(*old) : "-") + " → " + CellText(kv.value()));
      }
    }
    for (const auto& kv : ba) {
      if (!aa.contains(kv.key())) parts.push_back(Sanitize(kv.key()) + ": " + CellText(kv.value()) + " → -");
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out.empty() ? "no field changed" : out;
  }
  if (op == "relation.create" || op == "relation.delete") {
    const json::value* r = op == "relation.create" ? after : before;
    if (!r) return op;
    std::string type = Sanitize(FieldText(*r, "type"));
    auto end = [&](const char* label_key, const char* id_key) {
      std::string l = FieldText(*r, label_key);
      return l.empty() ? "#" + FieldText(*r, id_key) : Sanitize(l);
    };
    std::string text = IntAt(*r, "from_id") == self ? "-" + type + "-> " + end("to", "to_id")
                                                    : "<-" + type + "- " + end("from", "from_id");
    return (op == "relation.create" ? "related " : "unrelated ") + text;
  }
  return op;
}

void CiHistory(const GlobalFlags& flags, const std::string& ref, int limit, const Io& io) {
  auto s = Session::Open(flags, io);
  auto ci = s->Check(s->api().Get(CiPath(ref)));
  int64_t id = IntAt(ci, "id");
  Query q;
  if (limit > 0) q.emplace_back("limit", std::to_string(limit));
  auto list = s->Check(s->api().Get(CiPath(std::to_string(id)) + "/history", q));
  if (s->json()) return s->PrintJson(list);
  Table table({"TIME", "ACTOR", "VERSION", "CHANGE REQUEST", "CHANGE"});
  for (const auto& h : Items(*s, list)) {
    table.AddRow({FieldText(h, "time"), FieldText(h, "actor"), FieldText(h, "version"),
                  FieldText(h, "change_request_id"), ChangeText(h, id)});
  }
  table.Print(s->out());
}

void CiDiff(const GlobalFlags& flags, const std::string& ref, const std::string& from, const std::string& to,
            const Io& io) {
  std::string t0 = TimeOrFail("--from", from);
  std::string t1 = to.empty() ? core::FormatRfc3339(core::NowNanos()) : TimeOrFail("--to", to);
  auto s = Session::Open(flags, io);
  auto d = s->Check(s->api().Get(CiPath(ref) + "/diff", {{"from", t0}, {"to", t1}}));
  if (s->json()) return s->PrintJson(d);
  const auto& changes = ArrayAt(d, "changes");
  s->out() << Sanitize(ref) << ": " << Plural(static_cast<int64_t>(changes.size()), "change", "changes")
           << " between " << t0 << " and " << t1 << "\n";
  if (changes.empty()) return;
  s->out() << "\n";
  MakeTable(changes, {FieldColumn("FIELD", "field"), FieldColumn("FROM", "from"), FieldColumn("TO", "to"),
                      FieldColumn("CHANGE", "change")})
      .Print(s->out());
}

// ---- graph questions ---------------------------------------------------------------------------

struct GraphArgs {
  std::string ref;
  int depth = 0;
  int limit = 0;
};

void CiTraversal(const GlobalFlags& flags, const GraphArgs& args, bool impact, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (args.depth > 0) q.emplace_back("depth", std::to_string(args.depth));
  if (args.limit > 0) q.emplace_back("limit", std::to_string(args.limit));
  auto a = s->Check(s->api().Get(CiPath(args.ref) + (impact ? "/impact" : "/root-cause"), q));
  if (s->json()) return s->PrintJson(a);
  PrintTraversal(*s, a, impact);
}

void CiCommonCause(const GlobalFlags& flags, const std::vector<std::string>& refs, const Io& io) {
  auto s = Session::Open(flags, io);
  json::array cis;
  for (const auto& r : refs) cis.push_back(json::string(r));
  auto a = s->Check(s->api().Post(std::string(kCmdb) + "/common-cause", json::object{{"cis", cis}}));
  if (s->json()) return s->PrintJson(a);
  const auto& causes = ArrayAt(a, "causes");
  const auto& covered = ArrayAt(a, "covered");
  const auto& uncovered = ArrayAt(a, "uncovered");
  if (BoolAt(a, "common")) {
    s->out() << "Common cause of " << JoinStrings(covered) << ": "
             << Plural(static_cast<int64_t>(causes.size()), "candidate", "candidates") << "\n";
  } else {
    s->out() << "No CI explains all of them; the best candidates explain " << JoinStrings(covered);
    if (!uncovered.empty()) s->out() << " (not " << JoinStrings(uncovered) << ")";
    s->out() << "\n";
  }
  if (causes.empty()) return;
  s->out() << "\n";
  Table table({"CAUSE", "FAILS WITH", "EXPLAINS", "WHY"});
  for (const auto& c : causes) {
    const auto* ci = At(c, "ci");
    std::string label = ci && ci->is_object() ? CiLabel(*ci) : (ci ? CellText(*ci) : "");
    int64_t group = IntAt(c, "group_size");
    std::string with = group > 1 ? Plural(group - 1, "CI", "CIs") : "";
    const auto& paths = ArrayAt(c, "paths");
    if (paths.empty()) table.AddRow({label, with, "", ""});
    for (const auto& p : paths) {
      const auto& hops = p.is_array() ? p.get_array() : EmptyArray();
      std::string explains = hops.empty() ? label : Sanitize(FieldText(hops.back(), "to"));
      table.AddRow({label, with, explains, hops.empty() ? "(itself)" : HopsText(p)});
    }
  }
  table.Print(s->out());
}

void CiNeighbours(const GlobalFlags& flags, const GraphArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (args.depth > 0) q.emplace_back("depth", std::to_string(args.depth));
  if (args.limit > 0) q.emplace_back("limit", std::to_string(args.limit));
  auto a = s->Check(s->api().Get(CiPath(args.ref) + "/neighbourhood", q));
  if (s->json()) return s->PrintJson(a);
  std::map<int64_t, std::string> labels;
  const auto& nodes = ArrayAt(a, "nodes");
  for (const auto& n : nodes) labels[IntAt(n, "id")] = CiLabel(n);
  Table table({"DEPTH", "CI", "STATUS", "TENANT"});
  for (const auto& n : nodes) {
    table.AddRow({FieldText(n, "depth").empty() ? "0" : FieldText(n, "depth"), CiLabel(n), FieldText(n, "status"),
                  FieldText(n, "tenant")});
  }
  table.Print(s->out());
  const auto& edges = ArrayAt(a, "edges");
  s->out() << "\nRELATIONSHIPS\n";
  if (edges.empty()) s->out() << "(none)\n";
  for (const auto& e : edges) {
    s->out() << labels[IntAt(e, "from_id")] << " -" << Sanitize(FieldText(e, "type")) << "-> "
             << labels[IntAt(e, "to_id")] << "\n";
  }
  if (BoolAt(a, "truncated")) s->err() << "(answer truncated: raise --limit or lower --depth)\n";
}

void CiPathCmd(const GlobalFlags& flags, const std::string& from, const std::string& to, const Io& io) {
  auto s = Session::Open(flags, io);
  auto p = s->Check(s->api().Get(std::string(kCmdb) + "/path", {{"from", from}, {"to", to}}));
  if (s->json()) return s->PrintJson(p);
  std::string a = At(p, "from") ? CiLabel(*At(p, "from")) : from;
  std::string b = At(p, "to") ? CiLabel(*At(p, "to")) : to;
  if (!BoolAt(p, "found")) {
    s->out() << "No path between " << a << " and " << b
             << (BoolAt(p, "truncated") ? " within the search limit" : "") << "\n";
    return;
  }
  int64_t n = IntAt(p, "length");
  s->out() << a << " to " << b << ": " << Plural(n, "hop", "hops") << "\n";
  if (n > 0) s->out() << HopsText(*At(p, "hops")) << "\n";
}

void CiContext(const GlobalFlags& flags, const std::string& ref, const Io& io) {
  auto s = Session::Open(flags, io);
  auto c = s->Check(s->api().Get(CiPath(ref) + "/context"));
  if (s->json()) return s->PrintJson(c);
  std::string location;
  for (const auto& l : ArrayAt(c, "location")) {
    if (!location.empty()) location += " > ";
    location += CiLabel(l);
    if (const auto* u = At(l, "position_u")) location += " U" + CellText(*u);
  }
  std::string services;
  for (const auto& sv : ArrayAt(c, "services")) services += (services.empty() ? "" : ", ") + CiLabel(sv);
  const auto& deps = ObjectAt(c, "dependents");
  std::string dependents = std::to_string(IntAt(deps, "total"));
  if (!ObjectAt(deps, "by_type").empty()) {
    std::string by;
    for (const auto& kv : ObjectAt(deps, "by_type")) {
      by += (by.empty() ? "" : ", ") + CellText(kv.value()) + " " + Sanitize(kv.key());
    }
    dependents += " (" + by + ")";
  }
  PrintFields(s->out(), {{"CI", At(c, "ci") ? CiLabel(*At(c, "ci")) : Sanitize(ref)},
                         {"PART OF", At(c, "container") ? CiLabel(*At(c, "container")) : ""},
                         {"LOCATION", location},
                         {"TENANT", FieldText(c, "tenant")},
                         {"SERVICES", services},
                         {"DEPENDENTS", dependents}});
}

// ---- import / export ---------------------------------------------------------------------------

struct ImportArgs {
  std::string file, kind;
  bool dry_run = false;
};

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) app::Fail(kExitUsage, "cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void CiImport(const GlobalFlags& flags, const ImportArgs& args, const Io& io) {
  std::string ext = Lower(std::filesystem::path(args.file).extension().string());
  std::string content_type;
  if (ext == ".csv") {
    content_type = "text/csv; charset=utf-8";
  } else if (ext == ".json") {
    content_type = "application/json";
  } else {
    app::Fail(kExitUsage, "cannot tell the format of '" + args.file + "': name it *.csv or *.json");
  }
  std::string body = ReadFileOrFail(args.file);
  auto s = Session::Open(flags, io);
  Query q;
  if (args.dry_run) q.emplace_back("dry_run", "true");
  if (!args.kind.empty()) q.emplace_back("kind", args.kind);
  auto answer = s->Check(s->api().Send("POST", std::string(kCmdb) + "/import", q, &body, content_type));
  auto parsed = core::ParseJson(answer.body);
  if (answer.status == 200 && parsed) {
    if (s->json()) return s->PrintJson(*parsed);
    const auto& r = *parsed;
    if (BoolAt(r, "dry_run")) {
      s->out() << "Dry run: " << Plural(IntAt(r, "rows"), "row is", "rows are")
               << " valid; importing would create " << IntAt(r, "created") << ", update " << IntAt(r, "updated")
               << " and add " << Plural(IntAt(r, "relations"), "relationship", "relationships")
               << ". Nothing was written.\n";
    } else {
      s->out() << "Imported " << Plural(IntAt(r, "rows"), "row", "rows") << ": " << IntAt(r, "created")
               << " created, " << IntAt(r, "updated") << " updated, "
               << Plural(IntAt(r, "relations"), "relationship", "relationships") << " added\n";
    }
    return;
  }
  const json::array* errors = nullptr;
  if (parsed && answer.status == 400) {
    const auto* e = At(*parsed, "errors");
    if (e && e->is_array()) errors = &e->get_array();
  }
  if (!errors) s->Fail(ErrorFromResponse(answer.status, answer.body, answer.request_id));
  if (s->json()) {
    s->PrintJson(*parsed);
  } else {
    for (const auto& e : *errors) {
      std::string column = FieldText(e, "column");
      s->err() << "line " << FieldText(e, "line") << (column.empty() ? "" : ", column " + column) << ": "
               << FieldText(e, "message") << "\n";
    }
  }
  s->Fail(core::InvalidArgument(FieldText(*parsed, "detail")));
}

struct ExportArgs {
  std::string format, type, kind, file;
};

void CiExport(const GlobalFlags& flags, const ExportArgs& args, const Io& io) {
  std::string format = args.format;
  if (format.empty()) {
    format = Lower(std::filesystem::path(args.file).extension().string()) == ".csv" ? "csv" : "json";
  }
  auto s = Session::Open(flags, io);
  Query q{{"format", format}};
  if (!args.type.empty()) q.emplace_back("type", args.type);
  if (!args.kind.empty()) q.emplace_back("kind", args.kind);
  auto answer = s->Check(s->api().Send("GET", std::string(kCmdb) + "/export", q, nullptr, "application/json",
                                       "text/csv, application/json, application/problem+json"));
  if (answer.status < 200 || answer.status >= 300) {
    s->Fail(ErrorFromResponse(answer.status, answer.body, answer.request_id));
  }
  std::string text = answer.body;
  if (format == "json") {
    auto parsed = core::ParseJson(answer.body);
    if (!parsed) s->Fail(core::Unavailable("the answer from " + s->connection().server + " is not JSON"));
    text = PrettyJson(*parsed);
  }
  if (args.file.empty() || args.file == "-") {
    s->out() << text;
    return;
  }
  std::ofstream out(args.file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) app::Fail(kExitError, "cannot write '" + args.file + "': " + std::strerror(errno));
  s->out() << "Wrote " << text.size() << " bytes to " << args.file << "\n";
}

// ---- types -------------------------------------------------------------------------------------

std::string ImpactText(const json::value& t) {
  const auto* impact = At(t, "impact");
  if (!impact) return "";
  std::vector<std::string> parts;
  auto restricted = [&](const char* key) {
    const auto& types = ArrayAt(*impact, key);
    return types.empty() ? std::string() : " (" + JoinStrings(types) + ")";
  };
  if (BoolAt(*impact, "forward")) parts.push_back("from" + restricted("forward_from_types") + " → to");
  if (BoolAt(*impact, "reverse")) parts.push_back("to" + restricted("reverse_to_types") + " → from");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out.empty() ? "none" : out;
}

std::string CardinalityText(const json::value& t, const char* key) {
  int64_t n = IntAt(t, key);
  return n == 0 ? "any" : std::to_string(n);
}

void CiTypes(const GlobalFlags& flags, bool relations, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get(std::string(kCmdb) + (relations ? "/relation-types" : "/types")));
  if (s->json()) return s->PrintJson(list);
  if (relations) {
    MakeTable(Items(*s, list),
              {FieldColumn("NAME", "name"),
               FieldColumn("FROM", "from_types"),
               FieldColumn("TO", "to_types"),
               {"MAX OUT", [](const json::object& t) { return CardinalityText(t, "max_out"); }},
               {"MAX IN", [](const json::object& t) { return CardinalityText(t, "max_in"); }},
               {"ACYCLIC", [](const json::object& t) { return BoolAt(t, "acyclic") ? "yes" : "no"; }},
               {"FAILURE TRAVELS", [](const json::object& t) { return ImpactText(t); }}})
        .Print(s->out());
    return;
  }
  MakeTable(Items(*s, list), {FieldColumn("NAME", "name"),
                              {"BUILTIN", [](const json::object& t) { return BoolAt(t, "builtin") ? "yes" : "no"; }},
                              {"ATTRIBUTES",
                               [](const json::object& t) {
                                 std::string out;
                                 for (const auto& a : ArrayAt(t, "attributes")) {
                                   out += (out.empty() ? "" : ", ") + FieldText(a, "name");
                                 }
                                 return out;
                               }},
                              FieldColumn("DESCRIPTION", "description")})
      .Print(s->out());
}

std::string ConstraintText(const json::value& a) {
  std::string kind = FieldText(a, "type");
  if (kind == "enum") return JoinStrings(ArrayAt(a, "values"));
  if (kind == "reference") return FieldText(a, "ref_type").empty() ? "any CI" : FieldText(a, "ref_type");
  const auto* min = At(a, "min");
  const auto* max = At(a, "max");
  if (min || max) return (min ? CellText(*min) : "") + ".." + (max ? CellText(*max) : "");
  return "";
}

void CiTypeShow(const GlobalFlags& flags, const std::string& name, const Io& io) {
  auto s = Session::Open(flags, io);
  auto t = s->Check(s->api().Get(std::string(kCmdb) + "/types/" + PathSegment(name)));
  if (s->json()) return s->PrintJson(t);
  PrintFields(s->out(), {{"NAME", FieldText(t, "name")},
                         {"DESCRIPTION", FieldText(t, "description")},
                         {"BUILTIN", BoolAt(t, "builtin") ? "yes" : "no"}});
  s->out() << "\nATTRIBUTES\n";
  MakeTable(ArrayAt(t, "attributes"),
            {FieldColumn("NAME", "name"),
             FieldColumn("KIND", "type"),
             {"REQUIRED", [](const json::object& a) { return BoolAt(a, "required") ? "yes" : "no"; }},
             {"ALLOWED", [](const json::object& a) { return ConstraintText(a); }},
             FieldColumn("DESCRIPTION", "description")})
      .Print(s->out());
}

// ---- change requests ---------------------------------------------------------------------------

std::string ChangePath(int64_t id) { return std::string(kCmdb) + "/changes/" + std::to_string(id); }

std::string ImpactSummary(const json::value& cr) {
  const auto* impact = At(cr, "impact");
  if (!impact || !impact->is_object()) return "";
  std::string out = "affects " + Plural(IntAt(*impact, "affected_total"), "CI", "CIs");
  std::string by;
  for (const auto& kv : ObjectAt(*impact, "affected_by_type")) {
    by += (by.empty() ? "" : ", ") + CellText(kv.value()) + " " + Sanitize(kv.key());
  }
  if (!by.empty()) out += ": " + by;
  if (const auto& t = ArrayAt(*impact, "tenants"); !t.empty()) out += "; tenants: " + JoinStrings(t);
  if (const auto& sv = ArrayAt(*impact, "services"); !sv.empty()) out += "; services: " + JoinStrings(sv);
  return out;
}

std::string EditTarget(const json::value& e) {
  std::string op = FieldText(e, "op");
  if (op == "create_ci") return Sanitize(FieldText(e, "type") + "/" + FieldText(e, "name"));
  if (op == "relate") {
    return Sanitize(FieldText(e, "from")) + " -" + Sanitize(FieldText(e, "type")) + "-> " + Sanitize(FieldText(e, "to"));
  }
  if (op == "unrelate") return "relationship " + FieldText(e, "id");
  return Sanitize(FieldText(e, "ci"));
}

std::string EditDetails(const json::value& e) {
  std::vector<std::string> parts;
  if (const auto& a = ObjectAt(e, "attributes"); !a.empty()) parts.push_back(AttrsText(a));
  for (const char* k : {"name", "status", "tenant"}) {
    if (FieldText(e, "op") == "create_ci" && std::string_view(k) == "name") continue;
    if (At(e, k)) parts.push_back(std::string(k) + "=" + FieldText(e, k));
  }
  if (BoolAt(e, "cascade")) parts.push_back("cascade");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void ChangeList(const GlobalFlags& flags, const std::string& state, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!state.empty()) q.emplace_back("state", state);
  auto list = s->Check(s->api().Get(std::string(kCmdb) + "/changes", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list),
            {FieldColumn("ID", "id"),
             FieldColumn("STATE", "state"),
             FieldColumn("TITLE", "title"),
             {"EDITS", [](const json::object& c) { return std::to_string(ArrayAt(c, "edits").size()); }},
             {"AFFECTS", [](const json::object& c) {
                const auto* i = At(c, "impact");
                return i ? FieldText(*i, "affected_total") : std::string();
              }},
             FieldColumn("BY", "created_by"),
             FieldColumn("REVIEWED BY", "reviewed_by"),
             FieldColumn("CREATED", "created_at")})
      .Print(s->out());
}

void PrintChange(const Session& s, const json::value& cr) {
  PrintFields(s.out(), {{"ID", FieldText(cr, "id")},
                        {"TITLE", FieldText(cr, "title")},
                        {"DESCRIPTION", FieldText(cr, "description")},
                        {"STATE", FieldText(cr, "state")},
                        {"IMPACT", ImpactSummary(cr)},
                        {"CREATED BY", FieldText(cr, "created_by")},
                        {"CREATED", FieldText(cr, "created_at")},
                        {"REVIEWED BY", FieldText(cr, "reviewed_by")},
                        {"COMMENT", FieldText(cr, "review_comment")},
                        {"APPLIED", FieldText(cr, "applied_at")}});
  s.out() << "\nEDITS\n";
  Table table({"#", "OP", "TARGET", "DETAILS"});
  int n = 0;
  for (const auto& e : ArrayAt(cr, "edits")) {
    table.AddRow({std::to_string(++n), FieldText(e, "op"), EditTarget(e), EditDetails(e)});
  }
  table.Print(s.out());
}

void ChangeShow(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto cr = s->Check(s->api().Get(ChangePath(id)));
  if (s->json()) return s->PrintJson(cr);
  PrintChange(*s, cr);
}

struct ProposeArgs {
  std::string title, description, file;
};

void ChangePropose(const GlobalFlags& flags, const ProposeArgs& args, const Io& io) {
  std::string text = ReadFileOrFail(args.file);
  auto parsed = core::ParseJson(text);
  if (!parsed) app::Fail(kExitUsage, "'" + args.file + "' is not JSON: " + parsed.error().message);
  json::object body{{"title", args.title}};
  if (parsed->is_array()) {
    body["edits"] = *parsed;
  } else if (parsed->is_object() && At(*parsed, "edits")) {
    body["edits"] = *At(*parsed, "edits");
    if (const auto* d = At(*parsed, "description"); d && args.description.empty()) body["description"] = *d;
  } else {
    app::Fail(kExitUsage, "'" + args.file + "' must hold a JSON array of edits or an object with \"edits\"");
  }
  if (!args.description.empty()) body["description"] = args.description;
  auto s = Session::Open(flags, io);
  auto cr = s->Check(s->api().Post(std::string(kCmdb) + "/changes", body));
  if (s->json()) return s->PrintJson(cr);
  std::string id = FieldText(cr, "id");
  s->out() << "Change request " << id << " proposed with "
           << Plural(static_cast<int64_t>(ArrayAt(cr, "edits").size()), "edit", "edits") << "; it "
           << ImpactSummary(cr) << ".\nAnother operator applies it with 'gantry change approve " << id
           << "' (or 'gantry change reject " << id << "').\n";
}

void ChangeReview(const GlobalFlags& flags, int64_t id, const std::string& comment, bool approve, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body;
  if (!comment.empty()) body["comment"] = comment;
  auto cr = s->Check(s->api().Post(ChangePath(id) + (approve ? "/approve" : "/reject"), body));
  if (s->json()) return s->PrintJson(cr);
  if (approve) {
    s->out() << "Change request " << id << " applied (" << Plural(static_cast<int64_t>(ArrayAt(cr, "edits").size()), "edit", "edits") << ")\n";
  } else {
    s->out() << "Change request " << id << " rejected\n";
  }
}

// ---- registration ------------------------------------------------------------------------------

CLI::App* RefCommand(CLI::App* parent, const char* name, const char* help, std::shared_ptr<GlobalFlags> flags,
                     std::string& ref) {
  auto* cmd = parent->add_subcommand(name, help);
  cmd->add_option("REF", ref, "CI id, type/name (e.g. switch/leaf-01) or a unique name")->required();
  AddGlobalFlags(cmd, *flags);
  return cmd;
}

void RegisterCi(CLI::App& app, IoPtr io) {
  auto* ci = app.add_subcommand("ci", "The CMDB: configuration items, relationships, impact, import and export");
  ci->require_subcommand(1);
  ci->footer(
      "A REF is a CI id (42), type/name (switch/leaf-01) or a name unique across types (leaf-01).\n"
      "See docs/cmdb.md for a walk-through.");
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<ListArgs>();
    auto* cmd = ci->add_subcommand("list", "List and search CIs");
    cmd->add_option("--type", args->type, "Only CIs of this type (see 'gantry ci types')");
    cmd->add_option("--status", args->status, "Only CIs in this status")
        ->check(CLI::IsMember({"active", "maintenance", "retired"}));
    cmd->add_option("--tenant", args->tenant, "Only CIs owned by this tenant");
    cmd->add_option("-q,--query", args->q, "Text searched for in names and attribute values");
    cmd->add_option("--attr", args->attrs, "Attribute equals: name=value, repeatable (needs --type)");
    auto* rel = cmd->add_option("--related-to", args->related_to, "Only CIs related to this REF");
    cmd->add_option("--relation", args->relation, "With --related-to: only by this relationship type")->needs(rel);
    cmd->add_flag("--stale", args->stale, "Only CIs flagged stale (no discovery source saw them lately)");
    cmd->add_option("--limit", args->limit, "At most this many CIs (1-5000, default 100); with --all, the page size")
        ->check(CLI::Range(1, 5000));
    cmd->add_flag("--all", args->all, "Fetch every matching CI, following the pages");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry ci list --type server\n"
        "  gantry ci list --type server --attr role=gpu-node --status active --all\n"
        "  gantry ci list -q leaf\n"
        "  gantry ci list --related-to switch/leaf-01 --relation contains");
    cmd->callback([flags, args, io] { CiList(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto ref = std::make_shared<std::string>();
    auto at = std::make_shared<std::string>();
    auto* cmd = RefCommand(ci, "show", "Show a CI with its attributes and relationships", flags, *ref);
    cmd->add_option("--at", *at, "Show the CI as it was at this time (RFC 3339, or an age: 2h, 7d)");
    cmd->footer(
        "Examples:\n  gantry ci show server/node-01\n  gantry ci show 42 -o json\n"
        "  gantry ci show node-01 --at 2026-11-20T09:00:00Z\n  gantry ci show node-01 --at 2h");
    cmd->callback([flags, ref, at, io] { CiShow(*flags, *ref, *at, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<CreateArgs>();
    auto* cmd = ci->add_subcommand("create", "Create a CI");
    cmd->add_option("TYPE", args->type, "CI type, e.g. server (see 'gantry ci types')")->required();
    cmd->add_option("NAME", args->name, "Name, unique within the type (no '/')")->required();
    cmd->add_option("--attr", args->attrs, "Attribute name=value, repeatable; converted by the attribute's kind");
    cmd->add_option("--tenant", args->tenant, "Owner tenant (slug)");
    cmd->add_option("--status", args->status, "active (default), maintenance or retired")
        ->check(CLI::IsMember({"active", "maintenance", "retired"}));
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry ci create server node-05 --attr role=gpu-node --attr gpu_count=8 --attr mgmt_ip=10.0.0.15\n"
        "  gantry ci create instance inst-acme-3 --attr kind=baremetal --tenant acme");
    cmd->callback([flags, args, io] { CiCreate(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<UpdateArgs>();
    auto* cmd = RefCommand(ci, "update", "Change a CI's attributes, status or tenant", flags, args->ref);
    cmd->add_option("--attr", args->attrs, "Set attribute name=value, repeatable");
    cmd->add_option("--unset", args->unset, "Remove an attribute, repeatable");
    cmd->add_option("--status", args->status, "active, maintenance or retired")
        ->check(CLI::IsMember({"active", "maintenance", "retired"}));
    cmd->add_option("--tenant", args->tenant, "New owner tenant; '-' removes the owner");
    cmd->footer(
        "Examples:\n"
        "  gantry ci update server/node-01 --attr bios_version=2.4.1 --unset gpu_model\n"
        "  gantry ci update switch/leaf-01 --status maintenance\n\n"
        "The update is refused (exit 5) when someone else changed the CI since it was read.");
    cmd->callback([flags, args, io] { CiUpdate(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto ref = std::make_shared<std::string>();
    auto cascade = std::make_shared<bool>(false);
    auto* cmd = RefCommand(ci, "delete", "Delete a CI", flags, *ref);
    cmd->add_flag("--cascade", *cascade, "Also remove its relationships (otherwise a CI with any is refused)");
    cmd->footer(
        "Examples:\n  gantry ci delete server/node-09\n  gantry ci delete rack/A07 --cascade\n\n"
        "Without --cascade a CI that has relationships is not deleted: the error lists them (exit 5).");
    cmd->callback([flags, ref, cascade, io] { CiDelete(*flags, *ref, *cascade, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<RelateArgs>();
    auto* cmd = ci->add_subcommand("relate", "Create a relationship FROM -RELATION-> TO");
    cmd->add_option("FROM", args->from, "CI REF the relationship starts at")->required();
    cmd->add_option("RELATION", args->relation, "Relationship type (see 'gantry ci types --relations')")->required();
    cmd->add_option("TO", args->to, "CI REF it points to")->required();
    cmd->add_option("--attr", args->attrs, "Relationship attribute name=value, e.g. position_u=12");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry ci relate server/node-05 located_in rack/A01 --attr position_u=12\n"
        "  gantry ci relate nic/node-05:eth0 connected_to switch_port/leaf-01:p5");
    cmd->callback([flags, args, io] { CiRelate(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = ci->add_subcommand("unrelate", "Remove a relationship");
    cmd->add_option("RELATION_ID", *id, "Relationship id (see 'gantry ci show REF')")
        ->required()
        ->check(CLI::PositiveNumber);
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry ci unrelate 311");
    cmd->callback([flags, id, io] { CiUnrelate(*flags, *id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto ref = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(0);
    auto* cmd = RefCommand(ci, "history", "Every change of a CI: who, when, what", flags, *ref);
    cmd->add_option("--limit", *limit, "At most this many entries, newest first (1-1000, default 200)")
        ->check(CLI::Range(1, 1000));
    cmd->footer("Examples:\n  gantry ci history server/node-01\n  gantry ci history leaf-01 -o json");
    cmd->callback([flags, ref, limit, io] { CiHistory(*flags, *ref, *limit, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto ref = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto* cmd = RefCommand(ci, "diff", "What changed in a CI between two times", flags, *ref);
    cmd->add_option("--from", *from, "Start: RFC 3339 time, or an age such as 2h or 7d")->required();
    cmd->add_option("--to", *to, "End (default now)");
    cmd->footer(
        "Examples:\n  gantry ci diff server/node-01 --from 2026-11-01T00:00:00Z\n"
        "  gantry ci diff leaf-01 --from 7d --to 1d");
    cmd->callback([flags, ref, from, to, io] { CiDiff(*flags, *ref, *from, *to, *io); });
  }
  for (bool impact : {true, false}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<GraphArgs>();
    auto* cmd = RefCommand(ci, impact ? "impact" : "root-cause",
                           impact ? "What breaks if REF fails: every affected CI, with the path that explains it"
                                  : "Everything whose failure would bring REF down, with the paths",
                           flags, args->ref);
    cmd->add_option("--depth", args->depth, "Follow at most this many relationships (1-64, default 32)")
        ->check(CLI::Range(1, 64));
    cmd->add_option("--limit", args->limit, "At most this many CIs (default 10000)")->check(CLI::Range(1, 1000000));
    if (impact) {
      cmd->footer(
          "Examples:\n  gantry ci impact switch/leaf-01\n  gantry ci impact pdu/pdu-a01-1 --depth 4\n"
          "  gantry ci impact rack/A01 -o json | jq '.by_type'\n\n"
          "WHY reads along the relationships: 'a -contains-> b' is stored as a contains b,\n"
          "'b <-connected_to- c' as c connected_to b; failure travels left to right.");
    } else {
      cmd->footer(
          "Examples:\n  gantry ci root-cause service/svc-train\n  gantry ci root-cause server/node-03 --depth 3");
    }
    cmd->callback([flags, args, impact, io] { CiTraversal(*flags, *args, impact, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto refs = std::make_shared<std::vector<std::string>>();
    auto* cmd = ci->add_subcommand("common-cause", "The smallest set of CIs upstream of all the given CIs");
    cmd->add_option("REF", *refs, "Two or more alerting CIs")->required()->expected(1, -1);
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry ci common-cause server/node-01 server/node-02\n"
                "  gantry ci common-cause nic/node-01:eth0 nic/node-03:eth0 service/svc-api");
    cmd->callback([flags, refs, io] { CiCommonCause(*flags, *refs, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<GraphArgs>();
    auto* cmd = RefCommand(ci, "neighbours", "The CIs within N relationships of REF, in any direction", flags, args->ref);
    cmd->alias("neighbors");
    cmd->add_option("--depth", args->depth, "Hops (1-12, default 2)")->check(CLI::Range(1, 12));
    cmd->add_option("--limit", args->limit, "At most this many CIs (default 500)")->check(CLI::Range(1, 100000));
    cmd->footer("Examples:\n  gantry ci neighbours server/node-01\n  gantry ci neighbours rack/A01 --depth 1");
    cmd->callback([flags, args, io] { CiNeighbours(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto* cmd = ci->add_subcommand("path", "A shortest chain of relationships between two CIs");
    cmd->add_option("FROM", *from, "CI REF")->required();
    cmd->add_option("TO", *to, "CI REF")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry ci path server/node-01 server/node-03\n  gantry ci path gpu/node-01:gpu0 site/dc1");
    cmd->callback([flags, from, to, io] { CiPathCmd(*flags, *from, *to, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto ref = std::make_shared<std::string>();
    auto* cmd = RefCommand(ci, "context", "Location, owner, services and dependents of a CI (what alerts carry)",
                           flags, *ref);
    cmd->footer("Examples:\n  gantry ci context gpu/node-01:gpu3\n  gantry ci context server/node-01 -o json");
    cmd->callback([flags, ref, io] { CiContext(*flags, *ref, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = ci->add_subcommand("import", "Import CIs or relationships from a CSV or JSON file");
    cmd->add_option("FILE", args->file, "*.csv (a header row, see docs/cmdb.md) or *.json ({\"cis\": [...], "
                                        "\"relations\": [...]})")
        ->required();
    cmd->add_option("--kind", args->kind, "What a CSV file holds (default: relations when it has from and to columns)")
        ->check(CLI::IsMember({"cis", "relations"}));
    cmd->add_flag("--dry-run", args->dry_run, "Check every row and report; write nothing");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry ci import estate-cis.csv --dry-run\n"
        "  gantry ci import estate-cis.csv && gantry ci import estate-relations.csv\n"
        "  gantry ci import export.json\n\n"
        "Nothing is written when any row is bad: each bad row is printed as\n"
        "'line N, column C: message' and the exit status is 7.");
    cmd->callback([flags, args, io] { CiImport(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<ExportArgs>();
    auto* cmd = ci->add_subcommand("export", "Export CIs and relationships as CSV or JSON (importable)");
    cmd->add_option("--format", args->format, "csv or json (default: from -o's extension, else json)")
        ->check(CLI::IsMember({"csv", "json"}));
    cmd->add_option("--type", args->type, "CI type (required for CSV of CIs); with --kind relations, the relationship type");
    cmd->add_option("--kind", args->kind, "cis or relations (JSON default: both; CSV default: cis)")
        ->check(CLI::IsMember({"cis", "relations"}));
    cmd->add_option("-o,--output", args->file, "Write to this file instead of stdout");
    AddGlobalFlags(cmd, *flags, /*output_format=*/false);
    cmd->footer(
        "Examples:\n"
        "  gantry ci export -o estate.json\n"
        "  gantry ci export --type server -o servers.csv\n"
        "  gantry ci export --format csv --kind relations --type located_in");
    cmd->callback([flags, args, io] { CiExport(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto relations = std::make_shared<bool>(false);
    auto* cmd = ci->add_subcommand("types", "List CI types (or, with --relations, relationship types and their rules)");
    cmd->add_flag("--relations", *relations, "List relationship types: who may join whom, cardinality, impact");
    AddGlobalFlags(cmd, *flags);
    auto show_flags = std::make_shared<GlobalFlags>();
    auto name = std::make_shared<std::string>();
    auto* show = cmd->add_subcommand("show", "Show a CI type with its attributes");
    show->add_option("TYPE", *name, "CI type name")->required();
    AddGlobalFlags(show, *show_flags);
    show->footer("Examples:\n  gantry ci types show server");
    show->callback([show_flags, name, io] { CiTypeShow(*show_flags, *name, *io); });
    cmd->footer("Examples:\n  gantry ci types\n  gantry ci types --relations\n  gantry ci types show gpu");
    cmd->callback([flags, relations, show, io] {
      if (show->parsed()) return;
      CiTypes(*flags, *relations, *io);
    });
  }
}

void RegisterChange(CLI::App& app, IoPtr io) {
  auto* change = app.add_subcommand("change", "CMDB change requests: propose, review, apply");
  change->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto state = std::make_shared<std::string>();
    auto* cmd = change->add_subcommand("list", "List change requests, newest first");
    cmd->add_option("--state", *state, "Only requests in this state")
        ->check(CLI::IsMember({"pending", "applied", "rejected", "failed"}));
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry change list\n  gantry change list --state pending");
    cmd->callback([flags, state, io] { ChangeList(*flags, *state, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = change->add_subcommand("show", "Show a change request: its edits and their impact");
    cmd->add_option("ID", *id, "Change request id")->required()->check(CLI::PositiveNumber);
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry change show 3");
    cmd->callback([flags, id, io] { ChangeShow(*flags, *id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<ProposeArgs>();
    auto* cmd = change->add_subcommand("propose", "Stage CI and relationship edits for a second person to approve");
    cmd->add_option("--title", args->title, "What the change does, 1-200 characters")->required();
    cmd->add_option("--file", args->file,
                    "JSON file: an array of edits, or {\"description\": ..., \"edits\": [...]}")
        ->required();
    cmd->add_option("--description", args->description, "Why (overrides the file's description)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry change propose --title 'Drain leaf-01 for a firmware update' --file drain.json\n\n"
        "Edits (one JSON object each):\n"
        "  {\"op\": \"create_ci\", \"type\": \"server\", \"name\": \"node-05\", \"attributes\": {...}}\n"
        "  {\"op\": \"update_ci\", \"ci\": \"switch/leaf-01\", \"status\": \"maintenance\"}\n"
        "  {\"op\": \"delete_ci\", \"ci\": \"server/node-09\", \"cascade\": true}\n"
        "  {\"op\": \"relate\", \"type\": \"located_in\", \"from\": \"server/node-05\", \"to\": \"rack/A01\"}\n"
        "  {\"op\": \"unrelate\", \"id\": 311}");
    cmd->callback([flags, args, io] { ChangePropose(*flags, *args, *io); });
  }
  for (bool approve : {true, false}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto comment = std::make_shared<std::string>();
    auto* cmd = change->add_subcommand(
        approve ? "approve" : "reject",
        approve ? "Approve a pending change request and apply all its edits at once (not your own)"
                : "Reject a pending change request; nothing is applied");
    cmd->add_option("ID", *id, "Change request id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--comment", *comment, "Review comment");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(approve ? "Examples:\n  gantry change approve 3 --comment 'checked with the NOC'"
                        : "Examples:\n  gantry change reject 3 --comment 'wrong rack'");
    cmd->callback([flags, id, comment, approve, io] { ChangeReview(*flags, *id, *comment, approve, *io); });
  }
}

}  // namespace

void RegisterCmdbCommands(CLI::App& app, IoPtr io) {
  RegisterCi(app, io);
  RegisterChange(app, io);
}

}  // namespace gantry::app::client
