#include "metering/remote_write.h"

#include "core/crypto.h"

#include <snappy.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace gantry::metering {

uint64_t Fnv1a(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t BodyHash(std::string_view data) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  uint64_t h = 0x243f6a8885a308d3ull ^ (data.size() * kMul);
  auto mix = [&](uint64_t w) {
    h ^= w;
    h *= kMul;
    h ^= h >> 32;
  };
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    mix(w);
  }
  uint64_t tail = 0;
  if (i < data.size()) std::memcpy(&tail, data.data() + i, data.size() - i);
  mix(tail ^ 0xff);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

// ---- decoding --------------------------------------------------------------------------------

namespace {

core::Error Malformed(const std::string& what) {
  return core::InvalidArgument("malformed remote-write body: " + what, "body");
}

// A bounds-checked protobuf reader over one message.
class Reader {
 public:
  explicit Reader(std::string_view d) : p_(d.data()), end_(d.data() + d.size()) {}
  bool done() const { return p_ >= end_; }

  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n = 0;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool Fixed64(uint64_t* out) {
    if (end_ - p_ < 8) return false;
    std::memcpy(out, p_, 8);  // little-endian hosts only (x86-64, arm64)
    p_ += 8;
    return true;
  }
  // Skips a field of `wire` type; false when malformed or of an unsupported type.
  bool Skip(uint32_t wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case 0: return Varint(&v);
      case 1: return Fixed64(&v);
      case 2: return Bytes(&s);
      case 5:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default: return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

core::Status ParseLabel(std::string_view d, RwLabel* l) {
  Reader r(d);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("label tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if ((field == 1 || field == 2) && wire == 2) {
      if (!r.Bytes(field == 1 ? &l->name : &l->value)) return Malformed("label string");
    } else if (!r.Skip(wire)) {
      return Malformed("label field");
    }
  }
  if (l->name.empty()) return Malformed("label without a name");
  return {};
}

core::Status ParseSample(std::string_view d, RwSample* s) {
  Reader r(d);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("sample tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 1) {
      uint64_t bits;
      if (!r.Fixed64(&bits)) return Malformed("sample value");
      std::memcpy(&s->value, &bits, 8);
    } else if (field == 2 && wire == 0) {
      uint64_t v;
      if (!r.Varint(&v)) return Malformed("sample timestamp");
      s->timestamp_ms = static_cast<int64_t>(v);
    } else if (!r.Skip(wire)) {
      return Malformed("sample field");
    }
  }
  return {};
}

core::Status ParseSeries(std::string_view d, RwSeries* s) {
  Reader r(d);
  s->labels.reserve(8);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("series tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    std::string_view sub;
    if (field == 1 && wire == 2) {
      if (!r.Bytes(&sub)) return Malformed("label");
      GANTRY_TRY_STATUS(ParseLabel(sub, &s->labels.emplace_back()));
    } else if (field == 2 && wire == 2) {
      if (!r.Bytes(&sub)) return Malformed("sample");
      GANTRY_TRY_STATUS(ParseSample(sub, &s->samples.emplace_back()));
    } else if (!r.Skip(wire)) {
      return Malformed("series field");
    }
  }
  return {};
}

}  // namespace

core::Result<std::vector<RwSeries>> ParseWriteRequest(std::string_view data) {
  std::vector<RwSeries> out;
  {  // count the series first: one allocation instead of a doubling vector of vectors
    Reader c(data);
    size_t n = 0;
    uint64_t tag;
    while (!c.done() && c.Varint(&tag) && c.Skip(tag & 7)) n += (tag >> 3) == 1;
    out.reserve(std::min<size_t>(n, 1 << 16));
  }
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("request tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wire = tag & 7;
    if (field == 1 && wire == 2) {
      std::string_view sub;
      if (!r.Bytes(&sub)) return Malformed("timeseries");
      GANTRY_TRY_STATUS(ParseSeries(sub, &out.emplace_back()));
    } else if (field == 0 || !r.Skip(wire)) {
      return Malformed("request field");
    }
  }
  return out;
}

core::Result<std::string> SnappyUncompress(std::string_view body, size_t max_size) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &len)) {
    return core::InvalidArgument("body is not a snappy block (Content-Encoding: snappy)", "body");
  }
  if (len > max_size) {
    return core::Error{core::Code::kTooLarge, "remote-write body uncompresses to " +
                                                  std::to_string(len) + " bytes; at most " +
                                                  std::to_string(max_size)};
  }
  std::string out;
  if (!snappy::Uncompress(body.data(), body.size(), &out)) {
    return core::InvalidArgument("snappy: corrupt input", "body");
  }
  return out;
}

// ---- the receiver ----------------------------------------------------------------------------

namespace {

enum class SeriesKind { kIgnored, kCounter, kGauge };

struct Mapped {
  SeriesKind type = SeriesKind::kIgnored;
  std::string kind;  // allocated/used
  std::string tenant, project, sku;
};

std::string_view LabelOf(const RwSeries& s, std::string_view name) {
  for (const auto& l : s.labels) {
    if (l.name == name) return l.value;
  }
  return {};
}

Mapped Map(const RwSeries& s) {
  Mapped m;
  auto name = LabelOf(s, "__name__");
  if (name == "gantry_gpu_used_seconds_total") {
    m.type = SeriesKind::kCounter;
    m.kind = kUsed;
  } else if (name == "gantry_gpu_allocated_seconds_total") {
    m.type = SeriesKind::kCounter;
    m.kind = kAllocated;
  } else if (name == "gantry_storage_allocated_bytes") {
    m.type = SeriesKind::kGauge;
    m.kind = kAllocated;
  } else if (name == "gantry_storage_used_bytes") {
    m.type = SeriesKind::kGauge;
    m.kind = kUsed;
  } else {
    return m;
  }
  m.tenant = LabelOf(s, "tenant");
  m.project = LabelOf(s, "project");
  if (auto sku = LabelOf(s, "sku"); !sku.empty()) {
    m.sku = sku;
  } else if (m.type == SeriesKind::kGauge) {
    m.sku = "storage-gib-month";
  } else if (auto mig = LabelOf(s, "mig_profile"); !mig.empty()) {
    m.sku = "mig-" + std::string(mig) + "-hour";
  } else {
    m.sku = "gpu-" + std::string(LabelOf(s, "gpu_model")) +
            (LabelOf(s, "shared") == "true" ? "-shared-hour" : "-hour");
  }
  return m;
}

uint64_t SeriesHash(const RwSeries& s) {
  auto by_name = [](const RwLabel& a, const RwLabel& b) { return a.name < b.name; };
  std::vector<RwLabel> sorted;
  const std::vector<RwLabel>* labels = &s.labels;
  if (!std::is_sorted(s.labels.begin(), s.labels.end(), by_name)) {  // Prometheus sorts them
    sorted = s.labels;
    std::sort(sorted.begin(), sorted.end(), by_name);
    labels = &sorted;
  }
  uint64_t h = 14695981039346656037ull;
  for (const auto& l : *labels) {
    h = Fnv1a(l.name, h);
    h = Fnv1a(std::string_view("\xff", 1), h);
    h = Fnv1a(l.value, h);
    h = Fnv1a(std::string_view("\xfe", 1), h);
  }
  return h;
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr int64_t kMaxGaugeGapMs = 15 * 60 * 1000;
constexpr int64_t kMiB = 1 << 20;

}  // namespace

RemoteWriteReceiver::RemoteWriteReceiver(Service& service, core::MetricsRegistry* metrics,
                                         RemoteWriteOptions options)
    : service_(service), options_(options) {
  if (metrics) {
    samples_ = &metrics->Counter("gantry_metering_remote_write_samples_total",
                                 "Remote-write samples received, by result (counted, replayed, "
                                 "ignored: not a metering series).",
                                 {"result"});
  }
}

core::Status RemoteWriteReceiver::LoadStates() {
  if (loaded_) return {};
  GANTRY_TRY(auto tx, service_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto blobs, Store::LoadSeriesLog(*tx));
  for (const auto& text : blobs) {
    GANTRY_TRY(auto raw, core::Base64UrlDecode(text));
    if (raw.size() % 24) return core::Internal("metering series log: bad row length");
    for (size_t i = 0; i < raw.size(); i += 24) {
      uint64_t id;
      State st;
      std::memcpy(&id, raw.data() + i, 8);
      std::memcpy(&st.ts, raw.data() + i + 8, 8);
      std::memcpy(&st.value, raw.data() + i + 16, 8);
      states_[id] = st;  // later rows win
    }
  }
  log_rows_ = static_cast<int64_t>(blobs.size());
  loaded_ = true;
  return {};
}

void RemoteWriteReceiver::Prepare(const Job& job, std::unordered_map<uint64_t, State>& updated,
                                  RemoteWriteResult& out, Usage& usage) {
  out.series = static_cast<int64_t>(job.series.size());
  std::vector<RwSample> samples;
  for (const auto& s : job.series) {
    out.samples += static_cast<int64_t>(s.samples.size());
    uint64_t id = SeriesHash(s);
    std::optional<State> prev;
    if (auto it = updated.find(id); it != updated.end()) prev = it->second;
    else if (auto it2 = states_.find(id); it2 != states_.end()) prev = it2->second;
    uint32_t gid = prev ? prev->group : kNoGroup;
    bool gauge = prev && prev->gauge;
    if (gid == kNoGroup) {  // a new series (or the first sample since start): map its labels
      Mapped m = Map(s);
      if (m.type == SeriesKind::kIgnored) {
        out.ignored += static_cast<int64_t>(s.samples.size());
        continue;
      }
      gauge = m.type == SeriesKind::kGauge;
      std::string gk = m.tenant + '\xff' + m.project + '\xff' + m.sku + '\xff' + m.kind;
      auto [git, fresh] = group_ids_.try_emplace(std::move(gk), static_cast<uint32_t>(groups_.size()));
      if (fresh) groups_.push_back({m.tenant.empty() ? "-" : m.tenant, m.project, m.sku, m.kind});
      gid = git->second;
    }
    auto by_ts = [](const RwSample& a, const RwSample& b) { return a.timestamp_ms < b.timestamp_ms; };
    const std::vector<RwSample>* in_order = &s.samples;
    if (!std::is_sorted(s.samples.begin(), s.samples.end(), by_ts)) {
      samples.assign(s.samples.begin(), s.samples.end());
      std::sort(samples.begin(), samples.end(), by_ts);
      in_order = &samples;
    }
    for (const auto& smp : *in_order) {
      if (prev && smp.timestamp_ms <= prev->ts) {
        ++out.replayed;
        continue;
      }
      if (!std::isfinite(smp.value) || smp.value < 0 || smp.value > 9.0e15) {
        ++out.ignored;  // NaN (staleness markers), negative or absurd values
        continue;
      }
      int64_t q = 0;
      State next;
      next.ts = smp.timestamp_ms;
      next.group = gid;
      next.gauge = gauge;
      if (!gauge) {
        next.value = static_cast<int64_t>(std::floor(smp.value * 1000.0));
        q = (!prev || next.value < prev->value) ? next.value : next.value - prev->value;
      } else {
        next.value = static_cast<int64_t>(smp.value);
        if (prev && smp.timestamp_ms - prev->ts <= kMaxGaugeGapMs) {
          __int128 mib_ms = static_cast<__int128>(prev->value) * (smp.timestamp_ms - prev->ts) / kMiB;
          q = static_cast<int64_t>(mib_ms / 1000);  // MiB-seconds
        }
      }
      prev = next;
      ++out.counted;
      if (q <= 0) continue;
      core::UnixNanos t = smp.timestamp_ms * core::kNanosPerMilli;
      auto& acc = usage.sums[{gid, t / kNanosPerHour * kNanosPerHour}];
      acc.quantity += q;
      acc.first = std::min(acc.first, t);
      acc.last = std::max(acc.last, t);
    }
    if (prev) updated[id] = *prev;
  }
}

namespace {

// (id, ts, value) triples, 24 bytes each, little-endian; base64url in the log row.
std::string PackStates(const std::vector<std::tuple<uint64_t, int64_t, int64_t>>& states) {
  std::string raw(states.size() * 24, '\0');
  char* p = raw.data();
  for (const auto& [id, ts, value] : states) {
    std::memcpy(p, &id, 8);
    std::memcpy(p + 8, &ts, 8);
    std::memcpy(p + 16, &value, 8);
    p += 24;
  }
  return core::Base64UrlEncode(raw);
}

}  // namespace

void RemoteWriteReceiver::ApplyGroup(const std::vector<Job*>& jobs) {
  std::lock_guard lock(mu_);
  if (auto st = LoadStates(); !st) {
    for (auto* j : jobs) j->result = st.error();
    return;
  }
  std::unordered_map<uint64_t, State> updated;
  std::vector<RemoteWriteResult> outs(jobs.size());
  Usage usage;
  uint64_t group_hash = 14695981039346656037ull;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Prepare(*jobs[i], updated, outs[i], usage);
    group_hash = Fnv1a(Hex(jobs[i]->hash), group_hash);
  }
  // One record per (tenant, project, SKU, kind, hour) for the whole group.
  std::vector<UsageRecord> records;
  records.reserve(usage.sums.size());
  std::string prefix = "rw:" + Hex(group_hash) + ":";
  for (const auto& [k, acc] : usage.sums) {
    const auto& [tenant, project, sku, kind] = groups_[k.first];
    std::string key = prefix + Hex(Fnv1a(tenant + "\xff" + project + "\xff" + sku + "\xff" +
                                         kind + "\xff" + std::to_string(k.second)));
    records.push_back(UsageRecord{key, tenant, project, sku, kind, acc.quantity, acc.first, acc.last});
  }
  // The series state goes to the log: the changes of this group, or (every kCompactEvery
  // groups, RemoteWriteOptions::compact_every) a snapshot of every series replaces the log.
  bool compact = log_rows_ + 1 > options_.compact_every;
  std::vector<std::string> blobs;
  std::vector<std::tuple<uint64_t, int64_t, int64_t>> packed;
  if (compact) {
    auto merged = states_;
    for (const auto& [id, st] : updated) merged[id] = st;
    for (const auto& [id, st] : merged) {
      packed.emplace_back(id, st.ts, st.value);
      if (packed.size() == 50000) {
        blobs.push_back(PackStates(packed));
        packed.clear();
      }
    }
  } else {
    for (const auto& [id, st] : updated) packed.emplace_back(id, st.ts, st.value);
  }
  if (!packed.empty()) blobs.push_back(PackStates(packed));
  auto now = service_.clock().Now();
  auto results = service_.IngestGroup("remote-write", {records}, [&](store::Tx& tx) {
    if (compact) return Store::ReplaceSeriesLog(tx, blobs, now);
    return blobs.empty() ? core::Status{} : Store::AppendSeriesLog(tx, blobs.front(), now);
  });
  if (!results) {
    for (auto* j : jobs) j->result = results.error();
    return;
  }
  log_rows_ = compact ? static_cast<int64_t>(blobs.size()) : log_rows_ + (blobs.empty() ? 0 : 1);
  for (const auto& [id, st] : updated) states_[id] = st;
  for (size_t i = 0; i < jobs.size(); ++i) {
    outs[i].ingest = (*results)[0];  // the group's records (shared by its requests)
    if (samples_) {
      samples_->Inc({"counted"}, static_cast<double>(outs[i].counted));
      samples_->Inc({"replayed"}, static_cast<double>(outs[i].replayed));
      samples_->Inc({"ignored"}, static_cast<double>(outs[i].ignored));
    }
    jobs[i]->result = outs[i];
  }
}

core::Result<RemoteWriteResult> RemoteWriteReceiver::Submit(Job& job) {
  // Group commit: whoever finds no leader applies everything queued in one transaction; the
  // others wait for their job to be done. Each caller answers only after its commit. Only the
  // jobs of the group just committed and the next leader are woken (no thundering herd of the
  // HTTP threads on the one core).
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&job);
  while (!job.done) {
    if (leading_) {
      job.cv.wait(lock);
      continue;
    }
    leading_ = true;
    std::vector<Job*> group;
    group.swap(queue_);
    lock.unlock();
    ApplyGroup(group);
    lock.lock();
    leading_ = false;
    for (auto* j : group) {
      j->done = true;
      if (j != &job) j->cv.notify_one();
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
  }
  return std::move(job.result);
}

core::Result<RemoteWriteResult> RemoteWriteReceiver::Apply(const std::vector<RwSeries>& series,
                                                           uint64_t body_hash) {
  Job job;
  job.series = series;
  job.hash = body_hash;
  return Submit(job);
}

core::Result<RemoteWriteResult> RemoteWriteReceiver::Receive(std::string_view body) {
  auto raw = SnappyUncompress(body, options_.max_uncompressed);
  if (!raw) {
    service_.CountRejected("remote-write",
                           raw.error().code == core::Code::kTooLarge ? "too_large" : "snappy");
    return raw.error();
  }
  Job job;
  job.raw = std::move(*raw);
  auto series = ParseWriteRequest(job.raw);
  if (!series) {
    service_.CountRejected("remote-write", "protobuf");
    return series.error();
  }
  if (series->size() > options_.max_series) {
    service_.CountRejected("remote-write", "too_many_series");
    return core::Error{core::Code::kTooLarge,
                       "at most " + std::to_string(options_.max_series) + " series per request"};
  }
  job.series = std::move(*series);
  job.hash = BodyHash(job.raw);
  return Submit(job);
}

size_t RemoteWriteReceiver::ActiveSeries() const {
  std::lock_guard lock(mu_);
  return states_.size();
}

size_t RemoteWriteReceiver::StateBytes() const {
  std::lock_guard lock(mu_);
  // Node (key, value, next pointer, cached hash) plus the bucket array.
  size_t node = sizeof(uint64_t) + sizeof(State) + 2 * sizeof(void*);
  return states_.size() * node + states_.bucket_count() * sizeof(void*);
}

void RegisterRemoteWriteRoutes(http::Router& router, RemoteWriteReceiver& receiver) {
  router.Add({"POST", "/api/v1/metering/write", "metering.write", http::Auth::kRequired, true},
             [&receiver](http::Context& c) -> core::Result<http::Response> {
               auto enc = c.request.Header("content-encoding");
               if (!enc.empty() && enc != "snappy") {
                 return core::Error{core::Code::kUnsupportedMedia,
                                    "Content-Encoding must be snappy"};
               }
               GANTRY_TRY(auto r, receiver.Receive(c.request.body));
               auto resp = http::Response::NoContent();
               resp.SetHeader("x-gantry-samples-counted", std::to_string(r.counted));
               return resp;
             });
}

}  // namespace gantry::metering
