#!/usr/bin/env bash
# CMDB over the REST API: bulk import rate (CIs/s through POST /api/v1/cmdb/import, every row
# validated, versioned and audited) and the time to list 1,000 CIs with their attributes and
# relationships (GET /api/v1/cmdb/cis?limit=1000&include=relations), p50/p99 over 50 requests.
# Usage: bench/cmdb/api.sh [SERVERS]   (default 5000; needs build/src/app/gantry and curl)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000}
G=${GANTRY_BIN:-build/src/app/gantry}
T=$(mktemp -d /tmp/cmdb-api.XXXXXX)
trap 'kill $(cat $T/pid 2>/dev/null) 2>/dev/null || true; rm -rf $T' EXIT
$G admin init --db sqlite:$T/g.db --data-dir $T/d --token > $T/init.txt
TOKEN=$(awk '/API token/ {print $NF}' $T/init.txt)
$G serve --db sqlite:$T/g.db --data-dir $T/d --listen 127.0.0.1:0 --port-file $T/port \
  --no-access-log --log-level warn --body-limit 67108864 > $T/serve.log 2>&1 & echo $! > $T/pid
for _ in $(seq 100); do [ -s $T/port ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat $T/port)
python3 - "$N" "$T" <<'PY'
import sys
n, t = int(sys.argv[1]), sys.argv[2]
racks = max(1, n // 20)
with open(f"{t}/cis.csv", "w") as f:
    f.write("type,name,attr.height_u,attr.role,attr.gpu_model,attr.gpu_count,attr.serial\n")
    for r in range(racks):
        f.write(f"rack,R{r:04d},42,,,,\n")
    for i in range(n):
        f.write(f"server,node-{i:05d},,gpu-node,H100,8,SN{i:08d}\n")
with open(f"{t}/rel.csv", "w") as f:
    f.write("type,from,to,attr.position_u\n")
    for i in range(n):
        f.write(f"located_in,server/node-{i:05d},rack/R{i // 20:04d},{i % 20 + 1}\n")
PY
ROWS=$(( $(wc -l < $T/cis.csv) - 1 ))
t0=$(date +%s.%N)
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
  --data-binary @$T/cis.csv "$URL/api/v1/cmdb/import?kind=cis"
t1=$(date +%s.%N)
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
  --data-binary @$T/rel.csv "$URL/api/v1/cmdb/import?kind=relations"
t2=$(date +%s.%N)
for i in $(seq 50); do
  curl -sf -o $T/list.json -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    "$URL/api/v1/cmdb/cis?type=server&limit=1000&include=relations"
done > $T/times
python3 - "$ROWS" "$N" "$t0" "$t1" "$t2" "$T" <<'PY'
import json, sys
rows, n, t0, t1, t2, t = int(sys.argv[1]), int(sys.argv[2]), *map(float, sys.argv[3:6]), sys.argv[6]
times = sorted(float(x) * 1000 for x in open(f"{t}/times"))
items = json.load(open(f"{t}/list.json"))["items"]
assert len(items) == 1000 and all(len(i["relations"]) == 1 for i in items)
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"import CIs:           {rows} rows in {t1 - t0:.2f} s = {rows / (t1 - t0):,.0f} CIs/s")
print(f"import relationships: {n} rows in {t2 - t1:.2f} s = {n / (t2 - t1):,.0f} rows/s")
print(f"list 1000 CIs with attributes and relationships: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
      f"{len(open(f'{t}/list.json').read()) / 1024:.0f} KiB")
PY
