#include "audit/chain.h"

#include <algorithm>
#include <charconv>

namespace gantry::audit {

namespace {

void Field(std::string& out, std::string_view v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.size());
  (void)ec;
  out.append(buf, end);
  out += ':';
  out.append(v);
  out += '\n';
}

void IntField(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  Field(out, std::string_view(buf, end - buf));
}

bool SecretKey(std::string_view key) {
  std::string k;
  for (char c : key) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* s : {"password", "secret", "token", "key", "credential", "authorization",
                        "cookie", "passphrase"}) {
    if (k.find(s) != std::string::npos) return true;
  }
  return false;
}

core::json::value RedactValue(const core::json::value& v) {
  if (v.is_object()) return Redact(v.as_object());
  if (v.is_array()) {
    core::json::array a;
    for (const auto& e : v.as_array()) a.push_back(RedactValue(e));
    return a;
  }
  return v;
}

}  // namespace

void AppendCanonical(const Event& e, std::string& out) {
  IntField(out, e.seq);
  IntField(out, e.time);
  Field(out, e.actor);
  if (e.actor_id) IntField(out, *e.actor_id); else out += "-\n";
  Field(out, e.source_ip);
  Field(out, e.user_agent);
  Field(out, e.action);
  Field(out, e.target_type);
  Field(out, e.target);
  if (e.tenant) Field(out, *e.tenant); else out += "-\n";
  Field(out, e.request_id);
  Field(out, e.result);
  Field(out, e.details);
}

std::string ComputeHash(const Event& e, std::string_view prev_hash, std::string& scratch) {
  scratch.clear();
  scratch.append(prev_hash);
  scratch += '\n';
  AppendCanonical(e, scratch);
  return core::Sha256Hex(scratch);
}

std::string CheckpointMessage(int64_t seq, std::string_view hash) {
  return "gantry-audit-checkpoint\n" + std::to_string(seq) + "\n" + std::string(hash);
}

std::string KeyId(std::string_view public_key) {
  return core::Sha256Hex(public_key).substr(0, 16);
}

core::json::object Redact(const core::json::object& details) {
  core::json::object out;
  for (const auto& kv : details) {
    if (SecretKey(kv.key())) {
      out[kv.key()] = "[redacted]";
    } else {
      out[kv.key()] = RedactValue(kv.value());
    }
  }
  return out;
}

core::json::object ToJson(const Event& e) {
  core::json::object o;
  o["seq"] = e.seq;
  o["time"] = core::FormatRfc3339(e.time);
  o["actor"] = e.actor;
  o["actor_id"] = e.actor_id ? core::json::value(*e.actor_id) : core::json::value(nullptr);
  o["source_ip"] = e.source_ip;
  o["user_agent"] = e.user_agent;
  o["action"] = e.action;
  o["target_type"] = e.target_type;
  o["target"] = e.target;
  o["tenant"] = core::OptValue(e.tenant);
  o["request_id"] = e.request_id;
  o["result"] = e.result;
  auto d = core::ParseJson(e.details);
  o["details"] = d ? *d : core::json::value(e.details);
  o["hash"] = e.hash;
  return o;
}

}  // namespace gantry::audit
