#!/usr/bin/python3
"""Helpers for bench/run-core.sh.

  report.py wrk FILE           parse `wrk --latency` output: prints "rps p50_ms p99_ms bad"
                               (bad = non-2xx/3xx responses + socket errors)
  report.py table RESULTS      print the results table (medians of the runs) from RESULTS, a
                               file of "metric run value" lines
"""
import re
import statistics
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def latency_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("cannot parse latency %r" % text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(path):
    out = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = latency_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = latency_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        bad += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        bad += sum(int(x) for x in m.groups())
    print("%.1f %.3f %.3f %d" % (rps, p50, p99, bad))


def load(path):
    runs = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 3:
            runs.setdefault(parts[0], []).append(float(parts[2]))
    return runs


def human(v, unit):
    if unit == "B/s":
        return "%.0f MB/s" % (v / 1e6)
    if unit == "ms":
        return "%.2f ms" % v
    return "%.0f %s" % (v, unit)


def table(path):
    runs = load(path)
    med = {k: statistics.median(v) for k, v in runs.items()}

    def get(k):
        return med.get(k)

    rows = []  # (figure, value, peer, peer value, ratio text, goal, met)

    def ratio_row(name, key, unit, peer_name, peer_key, goal):
        v, p = get(key), get(peer_key)
        if v is None or p is None:
            rows.append((name, "n/a", peer_name, "n/a", "n/a", goal or "info", "n/a"))
            return
        # Figure and peer run back to back in each round: the median of the per-round ratios is
        # robust to load (and disk latency) that changes between rounds.
        if len(runs[key]) == len(runs[peer_key]):
            r = statistics.median(a / b for a, b in zip(runs[key], runs[peer_key]))
        else:
            r = v / p
        met = "info" if goal is None else ("yes" if r >= goal else "NO")
        rows.append((name, human(v, unit), peer_name, human(p, unit), "%.0f%%" % (100 * r),
                     "info" if goal is None else ">= %d%%" % round(goal * 100), met))

    def latency_row(name, key, limit_ms):
        v = get(key)
        if v is None:
            rows.append((name, "n/a", "-", "-", "-", "< %g ms" % limit_ms, "n/a"))
            return
        rows.append((name, human(v, "ms"), "-", "-", "-",
                     "< %g ms" % limit_ms if limit_ms else "info",
                     ("yes" if v < limit_ms else "NO") if limit_ms else "info"))

    for ep, label in (("whoami", "GET /api/v1/whoami"), ("jobs", "GET /api/v1/jobs?limit=50")):
        ratio_row("1. %s req/s" % label, ep + "_rps", "req/s", "GET /healthz", "healthz_rps", 0.60)
        latency_row("1. %s p50" % label, ep + "_p50_ms", 0)
        latency_row("1. %s p99" % label, ep + "_p99_ms", 5)
    latency_row("1. GET /healthz p50", "healthz_p50_ms", 0)
    latency_row("1. GET /healthz p99", "healthz_p99_ms", 0)
    ratio_row("2. audit AppendStandalone writes/s", "audit_ops", "/s",
              "raw sqlite3 INSERT same rows", "raw_ops", 0.50)
    ratio_row("2. jobs::Service::Enqueue writes/s", "enqueue_ops", "/s",
              "raw sqlite3 INSERT job row", "rawjobs_ops", None)
    ratio_row("2. POST /api/v1/jobs over HTTP req/s", "post_rps", "req/s",
              "Enqueue in process", "enqueue_ops", None)
    latency_row("2. POST /api/v1/jobs p50", "post_p50_ms", 0)
    latency_row("2. POST /api/v1/jobs p99", "post_p99_ms", 0)
    latency_row("2. fsync of 4 KiB before in-process runs", "fsync_ms", 0)
    latency_row("2. fsync of 4 KiB before POST runs", "fsyncpost_ms", 0)
    ratio_row("3. admin audit verify bytes/s", "verify_bps", "B/s",
              "openssl sha256 1024 B", "openssl_bps", 0.50)
    ratio_row("3. same, bytes per CPU second", "verifycpu_bps", "B/s",
              "openssl sha256 1024 B", "openssl_bps", None)
    ratio_row("3. prototype check (bench/, not Gantry)", "proto_bps", "B/s",
              "openssl sha256 1024 B", "openssl_bps", None)

    head = ("figure", "value (median)", "peer", "peer (median)", "ratio*", "goal", "met?")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print("* median of the per-round ratios (figure and peer measured back to back in each round)")
    print()
    print("runs (every value, in round order):")
    for k in sorted(runs):
        print("  %-16s %s" % (k, "  ".join("%.6g" % x for x in runs[k])))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "wrk":
        parse_wrk(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
