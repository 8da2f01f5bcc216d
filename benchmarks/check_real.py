"""Check the readers against real recorded responses (shared/samples/real/responses.jsonl).

Usage: python benchmarks/check_real.py [PATH]
(default: shared/samples/real/responses.jsonl beside this project, i.e. ../shared/... from
the project root, found from this script's location so any working directory works)

Each line of that file carries ``expected`` values read off the stored body and an ``api``
label (used here only to group the report; the readers never see it as a hint). For every
row stoptriage reads, compare provider_stop_reason (numbers as decimal text) and tool-call
presence; for every line it does not read, show the reported problem.

Prints one line per mismatch / lost line / reported line, then per ``api`` label: lines read,
lines reported, and which ``provider_api`` the reader detected. Exits 1 on any mismatch or on
a line that is neither read nor reported (a reported line alone is not a failure), else 0.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import orjson

import stoptriage

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "samples" / "real" / "responses.jsonl"


def main(path: str) -> int:
    res = stoptriage.classify([path])
    rows = res.frame.select("source_line", "provider_stop_reason", "tool_call_count", "provider_api").collect()
    problems = res.report.problems
    expected, apis = {}, {}
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            d = orjson.loads(line)
            expected[n] = d["expected"]
            apis[n] = d.get("api")
    read = {r["source_line"]: r for r in rows.iter_rows(named=True)}
    reported = dict(zip(problems["source_line"].to_list(), problems["reason"].to_list()))
    bad = 0
    per_api: Counter = Counter()
    detected: dict[str, Counter] = {}
    for n, exp in expected.items():
        want_stop = exp["provider_stop_reason"]
        want_stop = None if want_stop is None else str(want_stop)
        if n in read:
            r = read[n]
            per_api[(apis[n], "read")] += 1
            detected.setdefault(apis[n], Counter())[r["provider_api"]] += 1
            if r["provider_stop_reason"] != want_stop or (r["tool_call_count"] > 0) != bool(exp["has_tool_calls"]):
                bad += 1
                print(f"MISMATCH line {n} ({apis[n]} read as {r['provider_api']}): stop {r['provider_stop_reason']!r} "
                      f"vs {want_stop!r}, tools {r['tool_call_count']} vs {exp['has_tool_calls']}")
        elif n in reported:
            per_api[(apis[n], "reported")] += 1
            print(f"REPORTED line {n} ({apis[n]}): {reported[n]}")
        else:
            bad += 1
            print(f"LOST line {n} ({apis[n]})")
    print(f"{'api label':28s} {'read':>5s} {'rep.':>5s}  detected as")
    for api in sorted({a for a, _ in per_api}, key=str):
        as_ = ", ".join(f"{k} {v}" for k, v in sorted(detected.get(api, Counter()).items()))
        print(f"{api!s:28s} {per_api[(api, 'read')]:5d} {per_api[(api, 'reported')]:5d}  {as_}")
    print(f"lines {len(expected)}: read {len(read)}, reported {len(reported)}, mismatches/lost {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT)))
