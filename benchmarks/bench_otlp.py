#!/usr/bin/env python3
"""Time reading OTLP JSON against reading flat JSONL of the same rows, per megabyte.

    python benchmarks/bench_otlp.py [--mb 1000] [--repeat 3]

Target: reading 1 GB of OTLP JSON stays within a few times the time of reading 1 GB of
flat JSONL. The inputs are written once by benchmarks/gen_otlp.py and cached under
benchmarks/out/ (git-ignored): collector-style OTLP JSON lines (ExportTraceServiceRequest
batches of 200-800 spans, GenAI attributes with output messages, LLM and non-LLM spans)
and flat JSONL with the canonical columns of the same rows, each about ``--mb`` MB. Then,
alternating, ``--repeat`` times each, every variant runs in a fresh Python process:

  flat   stoptriage.read([flat.jsonl])  + .collect()   (format "table")
  otlp   stoptriage.read([otlp.jsonl])  + .collect()   (format "otlp": decode, span frames,
                                                        convention extractors, route walk)

Timing covers the work only (imports and interpreter start-up are excluded). ``cpu s`` is
the child's user + system CPU time over the same work (all threads): on a shared machine
it moves less than the wall time. Peak RSS is the child's whole life (os.wait4 ru_maxrss),
so it includes the interpreter + Polars baseline, printed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import fmt_table, warm_cache
from common import run_child as common_run_child

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
VARIANTS = ("flat", "otlp")


# ---- child: one measured run ---------------------------------------------------------
def _rusage() -> tuple[float, int]:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_maxrss


def child(args: argparse.Namespace) -> int:
    import stoptriage  # imported before timing starts

    cpu0, base_kb = _rusage()
    t0 = time.perf_counter()
    lf, report = stoptriage.read([args.path])
    df = lf.collect()
    seconds = time.perf_counter() - t0
    cpu1, _ = _rusage()
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu1 - cpu0,
        "baseline_kb": base_kb,
        "rows_out": df.height,
        "format": report.formats.get(args.path),
        "problems": report.problems.height,
    }
    Path(args.result).write_text(json.dumps(result))
    return 0


# ---- parent --------------------------------------------------------------------------
def ensure_inputs(mb: float, seed: int, regen: bool) -> dict[str, Path]:
    sys.path.insert(0, str(HERE))
    import gen_otlp as G

    tag = f"{mb:g}mb_s{seed}_v{G.OTLP_GEN_VERSION}"
    paths = {"otlp": OUT / f"otlp_{tag}.jsonl", "flat": OUT / f"flat_jsonl_{tag}.jsonl"}
    stats_path = OUT / f"otlp_{tag}.stats.json"
    if all(p.exists() for p in paths.values()) and stats_path.exists() and not regen:
        print(f"inputs: cached ({', '.join(f'{p.name} {p.stat().st_size / 1e6:,.0f} MB' for p in paths.values())})")
        print(f"generator counts: {stats_path.read_text().strip()}")
        return paths
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "gen_otlp.py"), "--mb", str(mb), "--seed", str(seed), "--out-otlp", str(paths["otlp"]), "--out-flat", str(paths["flat"])]
    print(f"generating: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    stats_path.write_text(p.stdout.strip().splitlines()[-1] + "\n")
    print(f"generated in {time.perf_counter() - t0:.1f} s: {stats_path.read_text().strip()}", flush=True)
    return paths


def run_child(variant: str, path: Path, tmpdir: Path) -> dict:
    result = tmpdir / f"{variant}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", variant, "--_path", str(path), "--_result", str(result)]
    return common_run_child(cmd, result, tmpdir / f"{variant}.log", REPO)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1000.0, help="size of each input in MB (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (alternating)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regen", action="store_true", help="regenerate the cached inputs")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--_child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--_path", dest="path", help=argparse.SUPPRESS)
    ap.add_argument("--_result", dest="result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        return child(args)
    if args.repeat < 1 or args.mb <= 0:
        ap.error("--mb must be > 0 and --repeat >= 1")

    import polars as pl

    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} cores, POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', '(default)')}")
    paths = ensure_inputs(args.mb, args.seed, args.regen)
    sizes = {v: paths[v].stat().st_size / 1e6 for v in VARIANTS}
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=OUT, prefix="bench_otlp_") as td:
        for i in range(args.repeat):
            for v in VARIANTS:
                if v in failed:
                    continue
                warm_cache(paths[v])
                r = run_child(v, paths[v], Path(td))
                if "error" in r:
                    failed[v] = r["error"]
                    print(f"run {i + 1}/{args.repeat} {v}: FAILED ({r['error']})\n{r['log'][-3000:]}", flush=True)
                    continue
                print(f"run {i + 1}/{args.repeat} {v:<5} {r['seconds']:7.2f} s  cpu {r['cpu_seconds']:7.2f} s  peak RSS {r['maxrss_kb'] / 1024:7,.0f} MB  rows {r['rows_out']:,}", flush=True)
                runs[v].append(r)

    table, summary = [], {"input_mb": sizes, "polars": pl.__version__, "variants": {}}
    for v in VARIANTS:
        rs = runs[v]
        if not rs:
            table.append([v, f"{sizes[v]:,.0f}", "failed"] + [""] * 7)
            continue
        med = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        rows = rs[-1]["rows_out"]
        s = {
            "median_s": med,
            "min_s": min(r["seconds"] for r in rs),
            "median_cpu_s": cpu,
            "mb_per_s": sizes[v] / med,
            "rows_per_s": rows / med,
            "s_per_gb": med / sizes[v] * 1000,
            "peak_rss_mb": max(r["maxrss_kb"] for r in rs) / 1024,
            "baseline_rss_mb": min(r["baseline_kb"] for r in rs) / 1024,
            "rows_out": rows,
            "format": rs[-1]["format"],
            "seconds": [r["seconds"] for r in rs],
        }
        summary["variants"][v] = s
        table.append([v, f"{sizes[v]:,.0f}", f"{rows:,}", f"{med:.2f}", f"{s['min_s']:.2f}", f"{cpu:.2f}", f"{s['mb_per_s']:,.1f}", f"{s['rows_per_s']:,.0f}", f"{s['peak_rss_mb']:,.0f}", f"{s['baseline_rss_mb']:,.0f}"])
    print(f"\n{args.repeat} run(s) each, alternating\n")
    print(fmt_table(table, ["variant", "input MB", "rows out", "median s", "min s", "cpu s", "MB/s", "rows/s", "peak RSS MB", "baseline MB"]))
    if len(summary["variants"]) == 2:
        f, o = summary["variants"]["flat"], summary["variants"]["otlp"]
        summary["ratio_time_per_mb"] = o["s_per_gb"] / f["s_per_gb"]
        summary["ratio_cpu_per_mb"] = (o["median_cpu_s"] / sizes["otlp"]) / (f["median_cpu_s"] / sizes["flat"])
        summary["ratio_time_per_row"] = (o["median_s"] / o["rows_out"]) / (f["median_s"] / f["rows_out"])
        print(
            f"\notlp / flat, time per MB: {summary['ratio_time_per_mb']:.2f}x (CPU per MB {summary['ratio_cpu_per_mb']:.2f}x); "
            f"time per row: {summary['ratio_time_per_row']:.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
