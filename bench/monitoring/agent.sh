#!/bin/bash
# gantry agent vs prometheus-node-exporter, side by side in one run, on this machine: CPU time
# per scrape (utime+stime of the exporter process from /proc/PID/stat, read before and after N
# sequential scrapes by one curl process) and bytes per scrape, plain and with
# Accept-Encoding: gzip (what Prometheus sends). node-exporter runs with its default collectors
# (what operators run) and with only the collectors covering what gantry agent's node collector
# exposes; gantry agent once without a GPU and once with the recorded H100 replayed
# by the test library (tests/support/fake_nvml), so its GPU collector does its full work.
#
#   bench/monitoring/agent.sh [--scrapes 500]
#
# GANTRY_BIN (default build/src/app/gantry) and FAKE_NVML (default
# build/tests/fake_nvml/libnvidia-ml.so.1) must be built. Prints one RESULT line per exporter.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GANTRY=${GANTRY_BIN:-$ROOT/build/src/app/gantry}
FAKE=${FAKE_NVML:-$ROOT/build/tests/fake_nvml/libnvidia-ml.so.1}
N=500
while [ $# -gt 0 ]; do
  case "$1" in
    --scrapes) N=$2; shift 2 ;;
    *) echo "usage: $0 [--scrapes N]" >&2; exit 2 ;;
  esac
done
T=$(mktemp -d /tmp/agentbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

measure() {  # name pid url
  local name=$1 pid=$2 url=$3
  for i in $(seq 20); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
  curl -s -o /dev/null "$url"   # warm
  : > "$T/urls"
  for i in $(seq "$N"); do echo "url = \"$url\""; echo "output = /dev/null"; done > "$T/urls"
  local t0 t1 tz0 tz1 bytes gz
  t0=$(ticks "$pid")
  curl -s -K "$T/urls"
  t1=$(ticks "$pid")
  sed 's/^output.*/output = \/dev\/null/' "$T/urls" > "$T/urls-gz"
  tz0=$(ticks "$pid")
  curl -s --compressed -H 'Accept-Encoding: gzip' -K "$T/urls-gz" 2>/dev/null || true
  tz1=$(ticks "$pid")
  bytes=$(curl -s "$url" | wc -c)
  gz=$(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c)
  local samples
  samples=$(curl -s "$url" | grep -vc '^#')
  awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$tz0" -v d="$tz1" -v hz="$HZ" -v name="$name" -v bytes="$bytes" \
      -v gz="$gz" -v s="$samples" -v rss="$(awk '/VmRSS/{print $2}' /proc/$pid/status)" \
    'BEGIN { printf "RESULT %-24s cpu_ms_per_scrape=%.3f cpu_ms_per_scrape_gzip=%.3f bytes=%d bytes_gzip_request=%d samples=%d rss_kb=%d\n", name, (b-a)*1000/hz/n, (d-c)*1000/hz/n, bytes, gz, s, rss }'
}

NE=$(port); NES=$(port); AG=$(port); AGG=$(port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$NE --collector.textfile.directory="$T" >"$T/ne.log" 2>&1 &
PIDS+=($!); NE_PID=$!
# The same ground as gantry agent's node collector: cpu, meminfo, loadavg, pressure, diskstats,
# filesystem, netdev, stat, uname, time.
prometheus-node-exporter --web.listen-address=127.0.0.1:$NES --collector.disable-defaults \
  --collector.cpu --collector.meminfo --collector.loadavg --collector.pressure --collector.diskstats \
  --collector.filesystem --collector.netdev --collector.stat --collector.uname --collector.time >"$T/nes.log" 2>&1 &
PIDS+=($!); NES_PID=$!
"$GANTRY" agent --listen 127.0.0.1:$AG --no-gpu >"$T/ag.log" 2>&1 &
PIDS+=($!); AG_PID=$!
GANTRY_FAKE_NVML_DUMP=$ROOT/tests/data/nvml-h100/nvml-dump-busy.json \
  "$GANTRY" agent --listen 127.0.0.1:$AGG --nvml-library "$FAKE" >"$T/agg.log" 2>&1 &
PIDS+=($!); AGG_PID=$!
sleep 0.5
echo "# $N sequential scrapes each; $(nproc) CPUs; $(uname -r)"
measure node-exporter "$NE_PID" "http://127.0.0.1:$NE/metrics"
measure node-exporter-same-set "$NES_PID" "http://127.0.0.1:$NES/metrics"
measure gantry-agent "$AG_PID" "http://127.0.0.1:$AG/metrics"
measure gantry-agent+h100 "$AGG_PID" "http://127.0.0.1:$AGG/metrics"
