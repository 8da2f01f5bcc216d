"""Check the readers against real recorded responses (shared/samples/real/responses.jsonl).

Usage: python benchmarks/check_real.py [PATH]   (default ../shared/samples/real/responses.jsonl)

Each line of that file carries ``expected`` values read off the stored body. For every
row stoptriage reads, compare provider_stop_reason (numbers as decimal text) and tool-call
presence; for every line it does not read, show the reported problem. Exits 1 on any
mismatch or on a line that is neither read nor reported.
"""

from __future__ import annotations

import sys
from collections import Counter

import orjson
import polars as pl

import stoptriage

path = sys.argv[1] if len(sys.argv) > 1 else "../shared/samples/real/responses.jsonl"
res = stoptriage.classify([path])
rows = res.frame.select("source_line", "provider_stop_reason", "tool_call_count", "provider_api").collect()
problems = res.report.problems
expected = {}
apis = {}
with open(path, "rb") as fh:
    for n, line in enumerate(fh, 1):
        d = orjson.loads(line)
        expected[n] = d["expected"]
        apis[n] = d.get("api")
read = {r["source_line"]: r for r in rows.iter_rows(named=True)}
reported = dict(zip(problems["source_line"].to_list(), problems["reason"].to_list()))
bad = 0
per_api = Counter()
for n, exp in expected.items():
    want_stop = exp["provider_stop_reason"]
    want_stop = None if want_stop is None else str(want_stop)
    if n in read:
        r = read[n]
        per_api[(apis[n], "read")] += 1
        if r["provider_stop_reason"] != want_stop or (r["tool_call_count"] > 0) != bool(exp["has_tool_calls"]):
            bad += 1
            print(f"MISMATCH line {n} ({apis[n]}): stop {r['provider_stop_reason']!r} vs {want_stop!r}, tools {r['tool_call_count']} vs {exp['has_tool_calls']}")
    elif n in reported:
        per_api[(apis[n], "reported")] += 1
    else:
        bad += 1
        print(f"LOST line {n} ({apis[n]})")
for (api, how), c in sorted(per_api.items()):
    print(f"{api:28s} {how:9s} {c}")
print(f"read {len(read)}, reported {len(reported)}, mismatches/lost {bad}")
sys.exit(1 if bad else 0)
