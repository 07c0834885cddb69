#include "monitoring/promql_scope.h"

#include <cctype>
#include <set>

namespace gantry::monitoring {

namespace {

enum class Kind { kIdent, kString, kNumber, kPunct, kDuration };

struct Token {
  Kind kind;
  std::string_view text;
};

bool IdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

core::Result<std::vector<Token>> Tokenise(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  int bracket = 0;  // inside [...]: durations
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '#') {  // comment to end of line
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    size_t start = i;
    if (c == '"' || c == '\'' || c == '`') {
      ++i;
      while (i < s.size() && s[i] != c) {
        if (s[i] == '\\' && c != '`') ++i;
        ++i;
      }
      if (i >= s.size()) return core::InvalidArgument("unterminated string in the query", "query");
      ++i;
      out.push_back({Kind::kString, s.substr(start, i - start)});
      continue;
    }
    if (bracket > 0 && c == ':') {  // subquery [range:step]
      out.push_back({Kind::kPunct, s.substr(i, 1)});
      ++i;
      continue;
    }
    if (bracket > 0 && std::isalnum(static_cast<unsigned char>(c))) {
      while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
      out.push_back({Kind::kDuration, s.substr(start, i - start)});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                              ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E')))) {
        ++i;
      }
      out.push_back({Kind::kNumber, s.substr(start, i - start)});
      continue;
    }
    if (IdentStart(c)) {
      while (i < s.size() && IdentChar(s[i])) ++i;
      out.push_back({Kind::kIdent, s.substr(start, i - start)});
      continue;
    }
    // Punctuation: two-character operators first.
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "=~", "!~"};
    bool two = false;
    for (auto op : kTwo) {
      if (s.substr(i, 2) == op) {
        out.push_back({Kind::kPunct, s.substr(i, 2)});
        i += 2;
        two = true;
        break;
      }
    }
    if (two) continue;
    if (std::string_view("(){}[],=<>+-*/%^@").find(c) == std::string_view::npos) {
      return core::InvalidArgument("unexpected character '" + std::string(1, c) + "' in the query", "query");
    }
    if (c == '[') ++bracket;
    if (c == ']') --bracket;
    out.push_back({Kind::kPunct, s.substr(i, 1)});
    ++i;
  }
  return out;
}

const std::set<std::string_view, std::less<>>& Keywords() {
  static const std::set<std::string_view, std::less<>> k = {
      "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
      "unless", "atan2", "inf", "nan", "Inf", "NaN", "start", "end"};
  return k;
}

bool Aggregation(std::string_view t) {
  static const std::set<std::string_view, std::less<>> k = {
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"};
  return k.contains(t);
}

bool LabelListKeyword(std::string_view t) {
  return t == "by" || t == "without" || t == "on" || t == "ignoring" || t == "group_left" || t == "group_right";
}

std::string QuoteValue(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string RegexEscape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (std::string_view(".+*?()|[]{}^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

core::Result<std::string> ScopeToTenants(std::string_view q, const std::vector<std::string>& tenants) {
  if (q.size() > 8192) return core::InvalidArgument("query longer than 8 KiB", "query");
  if (q.empty()) return core::InvalidArgument("query is empty", "query");
  if (tenants.empty()) return core::PermissionDenied("you are a member of no tenant: no series to show");
  std::string matcher;
  if (tenants.size() == 1) {
    matcher = "tenant=" + QuoteValue(tenants[0]);
  } else {
    std::string alt;
    for (const auto& t : tenants) alt += (alt.empty() ? "" : "|") + RegexEscape(t);
    matcher = "tenant=~" + QuoteValue("^(?:" + alt + ")$");
  }
  GANTRY_TRY(auto tokens, Tokenise(q));
  std::string out;
  size_t copied = 0;  // bytes of q already copied to out
  auto copy_to = [&](size_t pos) {
    out.append(q.substr(copied, pos - copied));
    copied = pos;
  };
  auto offset_of = [&](const Token& t) { return static_cast<size_t>(t.text.data() - q.data()); };
  // Inserts the matcher into the selector braces starting at tokens[open] ('{'); returns the
  // index of the closing '}'.
  auto scope_braces = [&](size_t open) -> core::Result<size_t> {
    size_t k = open + 1;
    bool empty = true;
    for (; k < tokens.size() && tokens[k].text != "}"; ++k) {
      const Token& t = tokens[k];
      if (t.kind == Kind::kIdent && k + 1 < tokens.size() && tokens[k + 1].kind == Kind::kPunct &&
          (tokens[k + 1].text == "=" || tokens[k + 1].text == "!=" || tokens[k + 1].text == "=~" ||
           tokens[k + 1].text == "!~")) {
        if (t.text == "tenant") {
          return core::InvalidArgument("a query may not match on the tenant label; it is set for you", "query");
        }
      }
      if (t.kind == Kind::kPunct && t.text != "," && t.text != "=" && t.text != "!=" && t.text != "=~" &&
          t.text != "!~") {
        return core::InvalidArgument("unexpected '" + std::string(t.text) + "' inside a selector", "query");
      }
      empty = false;
    }
    if (k >= tokens.size()) return core::InvalidArgument("unterminated selector", "query");
    // Insert before the closing brace.
    copy_to(offset_of(tokens[k]));
    bool trailing_comma = tokens[k - 1].text == ",";
    out += (empty || trailing_comma) ? matcher : "," + matcher;
    return k;
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    bool next_paren = i + 1 < tokens.size() && tokens[i + 1].text == "(";
    if (t.kind == Kind::kIdent) {
      if (LabelListKeyword(t.text)) {
        // by (a, b) / on(...) / group_left(...): a label list, not selectors.
        if (next_paren) {
          size_t k = i + 2;
          while (k < tokens.size() && tokens[k].text != ")") {
            if (tokens[k].kind != Kind::kIdent && tokens[k].text != ",") {
              return core::InvalidArgument("unexpected '" + std::string(tokens[k].text) + "' in a label list", "query");
            }
            ++k;
          }
          if (k >= tokens.size()) return core::InvalidArgument("unterminated label list", "query");
          i = k;
        }
        continue;
      }
      if (Keywords().contains(t.text)) continue;
      if (next_paren) continue;  // a function or aggregation
      if (Aggregation(t.text) && i + 1 < tokens.size() &&
          (tokens[i + 1].text == "by" || tokens[i + 1].text == "without")) {
        continue;  // sum by (x) (...)
      }
      // A metric name: a selector, with or without braces.
      if (i + 1 < tokens.size() && tokens[i + 1].text == "{") {
        GANTRY_TRY(i, scope_braces(i + 1));
      } else {
        copy_to(offset_of(t) + t.text.size());
        out += "{" + matcher + "}";
      }
      continue;
    }
    if (t.kind == Kind::kPunct && t.text == "{") {
      GANTRY_TRY(i, scope_braces(i));
      continue;
    }
  }
  copy_to(q.size());
  return out;
}

}  // namespace gantry::monitoring
