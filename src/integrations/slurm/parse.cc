#include "integrations/slurm/parse.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "integrations/slurm/tres.h"

namespace gantry::slurm {

namespace {

struct Line {
  int number;
  std::string_view text;
};

// Non-empty lines, without a trailing '\r'.
std::vector<Line> Lines(std::string_view out) {
  std::vector<Line> lines;
  int number = 0;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string_view::npos) end = out.size();
    std::string_view line = out.substr(start, end - start);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back({number, line});
    start = end + 1;
  }
  return lines;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

core::Error LineError(std::string_view what, const Line& line, const std::string& problem) {
  std::string text(line.text.substr(0, 200));
  if (line.text.size() > 200) text += "...";
  return core::InvalidArgument(std::string(what) + " output, line " + std::to_string(line.number) +
                               ": " + problem + ": '" + text + "'");
}

bool HasSpaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

bool IsStateWord(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (auto item : Split(s, ',')) out.emplace_back(item);
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseFixedInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

core::Result<std::optional<core::UnixNanos>> ParseSlurmTime(std::string_view t) {
  if (t.empty() || t == "Unknown" || t == "None") return std::optional<core::UnixNanos>();
  // YYYY-MM-DDTHH:MM:SS
  int64_t y, mo, d, h, mi, s;
  if (t.size() != 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || !ParseFixedInt(t.substr(0, 4), y) || !ParseFixedInt(t.substr(5, 2), mo) ||
      !ParseFixedInt(t.substr(8, 2), d) || !ParseFixedInt(t.substr(11, 2), h) ||
      !ParseFixedInt(t.substr(14, 2), mi) || !ParseFixedInt(t.substr(17, 2), s) || mo < 1 ||
      mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return core::InvalidArgument("time '" + std::string(t) +
                                 "' is not YYYY-MM-DDTHH:MM:SS (is SLURM_TIME_FORMAT set?)");
  }
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + s;
  return std::optional<core::UnixNanos>(secs * core::kNanosPerSecond);
}

std::string FormatSlurmTime(core::UnixNanos t) {
  int64_t secs = t / core::kNanosPerSecond;
  if (t < 0 && t % core::kNanosPerSecond != 0) --secs;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y),
                m, d, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

core::Result<std::vector<Association>> ParseAssociations(std::string_view out) {
  constexpr std::string_view kWhat = "sacctmgr show assoc";
  std::vector<Association> rows;
  for (const Line& line : Lines(out)) {
    auto f = Split(line.text, '|');
    if (f.size() != 7) {
      return LineError(kWhat, line,
                       "expected 7 fields (" + std::string(kAssocFormat) +
                           ") separated by '|', got " + std::to_string(f.size()));
    }
    Association a;
    a.cluster = f[0];
    a.account = f[1];
    a.parent = f[2];
    a.user = f[3];
    if (a.account.empty() || HasSpaceOrControl(a.account)) {
      return LineError(kWhat, line, "missing or invalid account name");
    }
    if (HasSpaceOrControl(a.cluster) || HasSpaceOrControl(a.parent) || HasSpaceOrControl(a.user)) {
      return LineError(kWhat, line, "blank or control character in a name");
    }
    auto tres = ParseTres(f[4]);
    if (!tres) return LineError(kWhat, line, tres.error().message);
    a.grp_tres = std::move(*tres);
    a.qos = SplitList(f[5]);
    for (const auto& q : a.qos) {
      if (q.empty() || HasSpaceOrControl(q)) return LineError(kWhat, line, "invalid QOS list");
    }
    a.default_qos = f[6];
    if (HasSpaceOrControl(a.default_qos)) return LineError(kWhat, line, "invalid default QOS");
    rows.push_back(std::move(a));
  }
  return rows;
}

core::Result<std::vector<AccountRow>> ParseAccountRows(std::string_view out) {
  constexpr std::string_view kWhat = "sacctmgr show account";
  std::vector<AccountRow> rows;
  for (const Line& line : Lines(out)) {
    auto f = Split(line.text, '|');
    if (f.size() < 3) {
      return LineError(kWhat, line,
                       "expected 3 fields (" + std::string(kAccountFormat) +
                           ") separated by '|', got " + std::to_string(f.size()));
    }
    AccountRow r;
    r.name = f[0];
    r.organization = f[1];
    // The description comes last so that a '|' inside it cannot shift the other fields.
    size_t desc_at = f[0].size() + 1 + f[1].size() + 1;
    r.description = line.text.substr(desc_at);
    if (r.name.empty() || HasSpaceOrControl(r.name)) {
      return LineError(kWhat, line, "missing or invalid account name");
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

core::Result<std::vector<std::string>> ParseNames(std::string_view out) {
  std::vector<std::string> names;
  for (const Line& line : Lines(out)) {
    if (HasSpaceOrControl(line.text) || line.text.find('|') != std::string_view::npos) {
      return LineError("sacctmgr show", line, "expected one name per line");
    }
    names.emplace_back(line.text);
  }
  return names;
}

core::Result<std::vector<QueuedJob>> ParseQueue(std::string_view out) {
  constexpr std::string_view kWhat = "squeue";
  std::vector<QueuedJob> jobs;
  for (const Line& line : Lines(out)) {
    auto f = Split(line.text, '|');
    if (f.size() != 6) {
      return LineError(kWhat, line,
                       "expected 6 fields (" + std::string(kQueueFormat) +
                           ") separated by '|', got " + std::to_string(f.size()));
    }
    QueuedJob j;
    j.job_id = f[0];
    j.account = f[1];
    j.user = f[2];
    j.state = f[3];
    j.reason = f[4];
    j.tres_per_node = f[5];
    if (j.job_id.empty() || HasSpaceOrControl(j.job_id)) {
      return LineError(kWhat, line, "missing or invalid job id");
    }
    if (!IsStateWord(j.state)) return LineError(kWhat, line, "invalid job state '" + j.state + "'");
    jobs.push_back(std::move(j));
  }
  return jobs;
}

core::Result<std::vector<JobRecord>> ParseJobRecords(std::string_view out) {
  constexpr std::string_view kWhat = "sacct";
  std::vector<JobRecord> records;
  for (const Line& line : Lines(out)) {
    auto f = Split(line.text, '|');
    if (f.size() != 8) {
      return LineError(kWhat, line,
                       "expected 8 fields (" + std::string(kJobRecordFormat) +
                           ") separated by '|', got " + std::to_string(f.size()));
    }
    JobRecord r;
    r.job_id = f[0];
    r.account = f[1];
    r.user = f[2];
    if (r.job_id.empty() || HasSpaceOrControl(r.job_id)) {
      return LineError(kWhat, line, "missing or invalid job id");
    }
    std::string_view state = f[3];
    size_t sp = state.find(' ');
    r.state = state.substr(0, sp);
    if (sp != std::string_view::npos) r.state_detail = state.substr(sp + 1);
    if (!IsStateWord(r.state)) return LineError(kWhat, line, "invalid job state '" + r.state + "'");
    auto start = ParseSlurmTime(f[4]);
    if (!start) return LineError(kWhat, line, "Start: " + start.error().message);
    auto end = ParseSlurmTime(f[5]);
    if (!end) return LineError(kWhat, line, "End: " + end.error().message);
    r.start = *start;
    r.end = *end;
    int64_t elapsed = 0;
    if (f[6].size() > 15 || !ParseFixedInt(f[6], elapsed)) {
      return LineError(kWhat, line,
                       "ElapsedRaw '" + std::string(f[6]) + "' is not a number of seconds");
    }
    r.elapsed_seconds = elapsed;
    auto tres = ParseTres(f[7]);
    if (!tres) return LineError(kWhat, line, tres.error().message);
    r.alloc_tres = std::move(*tres);
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<AccountInfo> MergeAccounts(const std::vector<Association>& assocs,
                                       const std::vector<AccountRow>& rows,
                                       const std::string& cluster) {
  // Keyed by (account, cluster): with no cluster filter an account on two clusters is two rows.
  std::map<std::pair<std::string, std::string>, AccountInfo> by_key;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> users;
  std::set<std::string> with_assoc;
  for (const auto& a : assocs) {
    if (!cluster.empty() && a.cluster != cluster) continue;
    auto key = std::make_pair(a.account, a.cluster);
    with_assoc.insert(a.account);
    if (!a.user.empty()) {
      users[key].insert(a.user);
      continue;
    }
    AccountInfo& info = by_key[key];
    info.name = a.account;
    info.cluster = a.cluster;
    info.parent = a.parent;
    info.grp_tres = a.grp_tres;
    info.qos = a.qos;
    info.default_qos = a.default_qos;
  }
  std::map<std::string, const AccountRow*> row_of;
  for (const auto& r : rows) row_of[r.name] = &r;
  std::vector<AccountInfo> out;
  for (auto& [key, info] : by_key) {
    if (auto it = row_of.find(info.name); it != row_of.end()) {
      info.description = it->second->description;
      info.organization = it->second->organization;
    }
    auto& u = users[key];
    info.users.assign(u.begin(), u.end());
    out.push_back(std::move(info));
  }
  for (const auto& r : rows) {
    if (with_assoc.count(r.name)) continue;
    AccountInfo info;
    info.name = r.name;
    info.cluster = cluster;
    info.description = r.description;
    info.organization = r.organization;
    info.has_association = false;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const AccountInfo& a, const AccountInfo& b) {
    return std::tie(a.name, a.cluster) < std::tie(b.name, b.cluster);
  });
  return out;
}

}  // namespace gantry::slurm
