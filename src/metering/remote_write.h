// Prometheus remote-write receiver for metering: `POST /api/v1/metering/write`, a snappy block
// of a prometheus.WriteRequest protobuf (the wire format Prometheus and `gantry agent` speak).
//
// Series contract (docs/metering.md):
//   gantry_gpu_used_seconds_total        counter, GPU-seconds a process/container used → kind used
//   gantry_gpu_allocated_seconds_total   counter, GPU-seconds allocated to it        → allocated
//   gantry_storage_allocated_bytes       gauge, capacity held   → storage-gib-month, allocated
//   gantry_storage_used_bytes            gauge, capacity used   → storage-gib-month, used
// Labels: tenant (required), project (optional), gpu_model (h100, a100, ...), mig_profile
// (1g.10gb, ...: a MIG slice), shared="true" (a time-sliced GPU: gpu-<model>-shared-hour), sku
// (overrides the mapping). Any other label (node, pod, container, pid, ...) only tells series
// apart. Other metric names are ignored (counted). Counters start at 0 when the process or
// container starts; the first sample of a series counts in full, later ones by their increase
// (a decrease is a reset: the new value counts). Gauges are integrated: a sample's value holds
// until the next sample of its series, for gaps up to 15 minutes.
//
// Idempotency: the last (timestamp, value) of each series is kept in memory and in the series
// log (metering_series_log: each committed group appends its changed series in its own
// transaction; every 1000 groups a snapshot replaces the log); a sample at or before the series' last
// timestamp is a replay and counts nothing. Usage is grouped per (tenant, project, SKU, kind,
// hour) into records whose keys derive from the body's hash. Thread-safe (batches are applied
// one at a time; decoding runs in parallel).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <tuple>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/router.h"
#include "metering/service.h"

namespace gantry::metering {

struct RwLabel {
  std::string_view name, value;
};
struct RwSample {
  double value = 0;
  int64_t timestamp_ms = 0;
};
struct RwSeries {
  std::vector<RwLabel> labels;
  std::vector<RwSample> samples;
};

// Parses a WriteRequest (uncompressed protobuf). Views point into `data`. kInvalidArgument
// naming the problem on malformed input.
core::Result<std::vector<RwSeries>> ParseWriteRequest(std::string_view data);
// Decompresses a snappy block, refusing outputs larger than `max_size` (kTooLarge).
core::Result<std::string> SnappyUncompress(std::string_view body, size_t max_size);

struct RemoteWriteOptions {
  size_t max_uncompressed = 32 << 20;  // bytes
  size_t max_series = 100000;          // per request
  int64_t compact_every = 1000;        // series-log rows before a snapshot replaces them
};

struct RemoteWriteResult {
  int64_t series = 0, samples = 0, counted = 0, ignored = 0, replayed = 0;
  IngestResult ingest;
};

class RemoteWriteReceiver {
 public:
  RemoteWriteReceiver(Service& service, core::MetricsRegistry* metrics,
                      RemoteWriteOptions options = {});

  // Applies one decoded request (body_hash names it for the record keys).
  core::Result<RemoteWriteResult> Apply(const std::vector<RwSeries>& series, uint64_t body_hash);
  // Decompress, parse, apply; counts refusals in gantry_metering_rejected_total.
  core::Result<RemoteWriteResult> Receive(std::string_view snappy_body);

  size_t ActiveSeries() const;
  // Approximate bytes the in-memory series state uses (benchmarks).
  size_t StateBytes() const;

 private:
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  struct State {
    int64_t ts = 0;     // ms
    int64_t value = 0;  // counters: milli-units; gauges: bytes
    uint32_t group = kNoGroup;  // index into groups_ (not persisted: derived from the labels)
    bool gauge = false;
  };
  // What a series' usage is booked as; interned once per distinct combination.
  struct GroupKey {
    std::string tenant, project, sku, kind;
  };
  // One request on its way: the decoded body (series point into raw) and, once done, its result.
  struct Job {
    std::string raw;
    std::vector<RwSeries> series;
    uint64_t hash = 0;
    bool done = false;
    std::condition_variable cv;  // signalled when done, or to make this job's thread lead
    core::Result<RemoteWriteResult> result = core::Internal("not applied");
  };
  core::Status LoadStates();
  core::Result<RemoteWriteResult> Submit(Job& job);
  // Applies queued jobs in one transaction (holds mu_).
  void ApplyGroup(const std::vector<Job*>& jobs);
  // Usage of a group of jobs: (tenant, project, sku, kind) interned, summed per hour.
  struct Usage {
    struct Acc {
      int64_t quantity = 0;
      core::UnixNanos first = INT64_MAX, last = INT64_MIN;
    };
    std::map<std::pair<uint32_t, int64_t>, Acc> sums;  // (group, hour)
  };
  // Adds one job's usage to `usage`; advances `updated` (series state of this group).
  void Prepare(const Job& job, std::unordered_map<uint64_t, State>& updated,
               RemoteWriteResult& out, Usage& usage);

  Service& service_;
  RemoteWriteOptions options_;
  core::CounterFamily* samples_ = nullptr;
  mutable std::mutex mu_;
  bool loaded_ = false;
  int64_t log_rows_ = 0;
  std::unordered_map<std::string, uint32_t> group_ids_;
  std::vector<GroupKey> groups_;
  std::unordered_map<uint64_t, State> states_;
  std::mutex queue_mu_;
  std::vector<Job*> queue_;
  bool leading_ = false;
};

// FNV-1a 64 of a byte string.
uint64_t Fnv1a(std::string_view data, uint64_t seed = 14695981039346656037ull);
// A 64-bit hash of a byte string, 8 bytes a step (a body's hash: ~8x faster than Fnv1a). Stable
// across builds and hosts of the same endianness.
uint64_t BodyHash(std::string_view data);

// POST /api/v1/metering/write (metering.write).
void RegisterRemoteWriteRoutes(http::Router& router, RemoteWriteReceiver& receiver);

}  // namespace gantry::metering
