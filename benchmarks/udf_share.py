#!/usr/bin/env python3
"""How much of a classify run is per-row Python (``map_batches`` bodies: orjson, jsonschema).

    python benchmarks/udf_share.py PATH [PATH...]

Wraps ``pl.Expr.map_batches`` before stoptriage builds its plan, so that every Python
function a plan calls per batch (the JSON check, the tool-argument check, the JSON-lines
line check, ...) is timed; then runs ``classify`` to a Parquet file in a temporary
directory, the way ``stoptriage classify -o out.parquet`` does. Prints the run's wall
time and CPU time (this process, all threads), the CPU time of the calling thread inside the
wrapped functions per function (and the wall time inside, which includes waiting
for the GIL), and their share of each. The functions hold the GIL, so their
summed time is Python's share of the CPU; issue 6 asks for it to stay under a third.
"""

from __future__ import annotations

import argparse
import collections
import functools
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SPENT: collections.Counter = collections.Counter()  # CPU seconds of the calling thread
WAITED: collections.Counter = collections.Counter()  # wall seconds inside, GIL waits included
CALLS: collections.Counter = collections.Counter()


def _timed(fn, name: str):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        # The calling thread's CPU time, not the wall time inside: with two engine
        # threads calling UDFs, a call's wall time includes waiting for the other's GIL
        # (summed wall times overstated the check on 200k bodies by ~1.7x).
        c0, t0 = time.thread_time(), time.perf_counter()
        result = fn(*args, **kwargs)
        # Counted on success only: Polars 2.1 first calls a UDF with return_dtype=...
        # and calls it again without when that raises TypeError (every call seen twice).
        SPENT[name] += time.thread_time() - c0
        WAITED[name] += time.perf_counter() - t0
        CALLS[name] += 1
        return result

    return inner


def _name(fn) -> str:
    qual = getattr(fn, "__qualname__", repr(fn))
    return f"{getattr(fn, '__module__', '?')}.{qual}"


def _install() -> None:
    original = pl.Expr.map_batches

    def map_batches(self, function, *args, **kwargs):
        return original(self, _timed(function, _name(function)), *args, **kwargs)

    pl.Expr.map_batches = map_batches  # type: ignore[method-assign]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    _install()
    import stoptriage
    from stoptriage.render import PARQUET_OPTIONS

    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = _cpu(), time.perf_counter()
        res = stoptriage.classify(args.paths)
        res.frame.select(stoptriage.output_columns(res.frame)).sink_parquet(Path(tmp) / "out.parquet", **PARQUET_OPTIONS)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
    total = sum(SPENT.values())
    print(f"classify {', '.join(args.paths)}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    for name, spent in SPENT.most_common():
        print(f"  {name:60s} {spent:7.2f} s CPU ({WAITED[name]:.2f} s wall inside) in {CALLS[name]:5d} calls")
    print(f"per-row Python (map_batches bodies): {total:.2f} s = {total / cpu:.1%} of CPU, {total / wall:.1%} of wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
