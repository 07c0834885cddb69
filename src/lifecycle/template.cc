#include "lifecycle/template.h"

#include <vector>

namespace gantry::lifecycle {

namespace {

struct Tag {
  size_t begin = 0, end = 0;  // [begin, end) covers "{{ ... }}"
  std::string body;           // trimmed inside
};

std::string Trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

class Renderer {
 public:
  Renderer(std::string_view text, bool lenient) : text_(text), lenient_(lenient) {}

  core::Result<std::string> Render(const core::json::object& vars) {
    std::string out;
    std::vector<const core::json::value*> scope;
    GANTRY_TRY(size_t end, Block(0, vars, scope, out, ""));
    if (end != text_.size()) return Error(end, "unexpected closing tag");
    return out;
  }

 private:
  int LineOf(size_t pos) const {
    int line = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) line += text_[i] == '\n';
    return line;
  }
  core::Error Error(size_t pos, const std::string& what) const {
    return core::InvalidArgument("template line " + std::to_string(LineOf(pos)) + ": " + what,
                                 "template");
  }

  core::Result<std::optional<Tag>> NextTag(size_t from) const {
    size_t b = text_.find("{{", from);
    if (b == std::string_view::npos) return std::optional<Tag>();
    size_t e = text_.find("}}", b + 2);
    if (e == std::string_view::npos) return Error(b, "'{{' without '}}'");
    return std::optional<Tag>(Tag{b, e + 2, Trim(text_.substr(b + 2, e - b - 2))});
  }

  // Looks a name up: "." is the current element, ".field" a field of it, else the variables.
  core::Result<const core::json::value*> Lookup(const std::string& name, size_t pos,
                                                const core::json::object& vars,
                                                const std::vector<const core::json::value*>& scope) const {
    if (!name.empty() && name[0] == '.') {
      if (scope.empty()) return Error(pos, "'" + name + "' outside {{#each}}");
      const core::json::value* cur = scope.back();
      if (cur == &null_ || lenient_) return &null_;
      if (name == ".") return cur;
      const auto* obj = cur->if_object();
      const auto* v = obj ? obj->if_contains(name.substr(1)) : nullptr;
      if (!v) return Error(pos, "no field '" + name.substr(1) + "' in the element");
      return v;
    }
    const auto* v = vars.if_contains(name);
    if (!v && lenient_) return &null_;
    if (!v) return Error(pos, "no variable '" + name + "'");
    return v;
  }

  static bool Truthy(const core::json::value& v) {
    if (v.is_null()) return false;
    if (v.is_bool()) return v.get_bool();
    if (v.is_int64()) return v.get_int64() != 0;
    if (v.is_string()) return !v.get_string().empty();
    if (v.is_array()) return !v.get_array().empty();
    if (v.is_object()) return !v.get_object().empty();
    return true;
  }

  core::Result<std::string> Text(const core::json::value& v, size_t pos) const {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
    if (v.is_null()) return std::string();
    return Error(pos, "a list or object cannot be written as text; use {{#each}}");
  }

  // Renders from `pos` until a closing tag ({{/if}}, {{/each}} or {{else}}) or the end;
  // returns the position of that closing tag (text_.size() at the end). With emit=false the
  // text is only checked.
  core::Result<size_t> Block(size_t pos, const core::json::object& vars,
                             std::vector<const core::json::value*>& scope, std::string& out,
                             std::string_view closer, bool emit = true) {
    while (true) {
      GANTRY_TRY(auto tag, NextTag(pos));
      if (!tag) {
        if (!closer.empty()) return Error(text_.size(), "missing {{/" + std::string(closer) + "}}");
        if (emit) out.append(text_.substr(pos));
        return text_.size();
      }
      if (emit) out.append(text_.substr(pos, tag->begin - pos));
      const std::string& b = tag->body;
      if (b.empty()) return Error(tag->begin, "empty tag");
      if (b[0] == '!') {
        pos = tag->end;
        continue;
      }
      if (b[0] == '/' || b == "else") {
        if (closer.empty()) return Error(tag->begin, "unexpected {{" + b + "}}");
        if (b != "else" && b.substr(1) != closer) {
          return Error(tag->begin, "{{" + b + "}} closes {{#" + std::string(closer) + "}}");
        }
        if (b == "else" && closer != "if") return Error(tag->begin, "{{else}} outside {{#if}}");
        end_tag_ = *tag;
        return tag->begin;
      }
      if (b[0] == '#') {
        std::string kind = b.substr(1, b.find(' ') == std::string::npos ? std::string::npos : b.find(' ') - 1);
        std::string name = b.find(' ') == std::string::npos ? "" : Trim(b.substr(b.find(' ') + 1));
        if ((kind != "if" && kind != "each") || name.empty()) {
          return Error(tag->begin, "unknown block '{{" + b + "}}'");
        }
        GANTRY_TRY(const core::json::value* v, Lookup(name, tag->begin, vars, scope));
        if (kind == "if") {
          bool yes = Truthy(*v);
          GANTRY_TRY(size_t at, Block(tag->end, vars, scope, out, "if", emit && yes));
          Tag closing = end_tag_;
          pos = closing.end;
          if (closing.body == "else") {
            GANTRY_TRY(at, Block(pos, vars, scope, out, "if", emit && !yes));
            if (end_tag_.body == "else") return Error(at, "a second {{else}}");
            pos = end_tag_.end;
          }
          continue;
        }
        if (!v->is_array() && !(lenient_ && v->is_null())) return Error(tag->begin, "'" + name + "' is not a list");
        static const core::json::array kEmpty;
        const auto& list = v->is_array() ? v->get_array() : kEmpty;
        size_t body_start = tag->end;
        size_t after = 0;
        // Checked once even for an empty list, so errors in the body are never hidden.
        scope.push_back(list.empty() ? &null_ : &list[0]);
        GANTRY_TRY_STATUS(Block(body_start, vars, scope, out, "each", false));
        scope.pop_back();
        after = end_tag_.end;
        for (const auto& item : list) {
          scope.push_back(&item);
          GANTRY_TRY_STATUS(Block(body_start, vars, scope, out, "each", emit));
          scope.pop_back();
        }
        pos = after;
        continue;
      }
      GANTRY_TRY(const core::json::value* v, Lookup(b, tag->begin, vars, scope));
      if (emit) {
        GANTRY_TRY(auto text, Text(*v, tag->begin));
        out += text;
      }
      pos = tag->end;
    }
  }

  std::string_view text_;
  bool lenient_ = false;  // syntax check only: unknown names read as null
  Tag end_tag_;
  const core::json::value null_;
};

}  // namespace

core::Result<std::string> RenderTemplate(std::string_view text, const core::json::object& vars) {
  if (text.size() > 1024 * 1024) return core::InvalidArgument("template larger than 1 MiB", "template");
  Renderer r(text, false);
  return r.Render(vars);
}

core::Status CheckTemplateSyntax(std::string_view text) {
  if (text.size() > 1024 * 1024) return core::InvalidArgument("template larger than 1 MiB", "template");
  Renderer r(text, true);
  GANTRY_TRY_STATUS(r.Render({}));
  return {};
}

}  // namespace gantry::lifecycle
