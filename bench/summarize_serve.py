#!/usr/bin/env python3
"""Summarize bench/serve.sh's runs.tsv: per server, scenario and connection count the median
(min-max) of requests/s, p50 and p99 latency; then the ratios tidings/nginx, tidings/hyper (the
bare hyper server, examples/bare_hyper.rs) and hyper/nginx, computed per repetition (the runs of
one repetition ran back to back) and given as median (min-max).
"other CPU s" is what the rest of the machine used during a 10 s run (0 on an idle machine)."""
import csv
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))


def f(vals, nd):
    m = statistics.median(vals)
    if len(vals) == 1:
        return "%.*f" % (nd, m)
    return "%.*f (%.*f-%.*f)" % (nd, m, nd, min(vals), nd, max(vals))


keys = []
for r in rows:
    k = (r["scenario"], r["conns"])
    if k not in keys:
        keys.append(k)
print("| scenario | conns | server | runs | req/s | p50 ms | p99 ms | bytes/resp | errors | req per server CPU-s | other CPU s |")
print("|---|---:|---|---:|---|---|---|---:|---:|---:|---|")
for sc, c in keys:
    for server in ("tidings", "nginx", "hyper"):
        rs = [r for r in rows if (r["scenario"], r["conns"], r["server"]) == (sc, c, server)]
        if not rs:
            continue
        eff = [int(r["requests"]) / float(r["server_cpu_s"]) for r in rs if float(r["server_cpu_s"]) > 0]
        other = [float(r["other_cpu_s"]) for r in rs if r.get("other_cpu_s") not in (None, "")]
        print("| %s | %s | %s | %d | %s | %s | %s | %.0f | %d | %s | %s |" % (
            sc, c, server, len(rs), f([float(r["rps"]) for r in rs], 0),
            f([float(r["lat_p50_ms"]) for r in rs], 2), f([float(r["lat_p99_ms"]) for r in rs], 2),
            statistics.median(float(r["bytes_per_req"]) for r in rs),
            sum(int(r["errors"]) for r in rs), f(eff, 0) if eff else "-", f(other, 1) if other else "-"))
for a, b in (("tidings", "nginx"), ("tidings", "hyper"), ("hyper", "nginx")):
    table = []
    for sc, c in keys:
        by_rep = {}
        for r in rows:
            if (r["scenario"], r["conns"]) == (sc, c):
                by_rep.setdefault(r["rep"], {})[r["server"]] = r
        pairs = [v for v in by_rep.values() if a in v and b in v]
        if not pairs:
            continue

        def ratio(field):
            return [float(p[a][field]) / float(p[b][field]) for p in pairs if float(p[b][field]) > 0]

        def per_cpu(r):
            return int(r["requests"]) / float(r["server_cpu_s"])

        eff = [per_cpu(p[a]) / per_cpu(p[b]) for p in pairs
               if float(p[a]["server_cpu_s"]) > 0 and float(p[b]["server_cpu_s"]) > 0]
        table.append("| %s | %s | %d | %s | %s | %s | %s |" % (sc, c, len(pairs), f(ratio("rps"), 2),
                     f(ratio("lat_p50_ms"), 2), f(ratio("lat_p99_ms"), 2), f(eff, 2) if eff else "-"))
    if not table:
        continue
    print()
    print("Ratios %s/%s, per repetition, median (min-max). req/s: > 1 means %s is faster;" % (a, b, a))
    print("p99: < 1 means %s's p99 latency is lower." % a)
    print()
    print("| scenario | conns | reps | req/s ratio | p50 ratio | p99 ratio | req per CPU-s ratio |")
    print("|---|---:|---:|---|---|---|---|")
    for line in table:
        print(line)
