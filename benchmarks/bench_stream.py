#!/usr/bin/env python3
"""Streaming at any size: classify to Parquet, diff and summary on one big flat file.

    python benchmarks/bench_stream.py                      # 10M rows (generated once, ~70 s)
    python benchmarks/bench_stream.py --rows 1000000,3000000,10000000   # does memory grow with N?
    python benchmarks/bench_stream.py --input bodies --rows 1000000,5000000 --commands classify

For each input size, the flat Parquet input (``--input bodies``: raw-body JSON lines, which
stoptriage reads in 128 MB pieces) is generated once in chunks of --chunk rows
(``generate.py --chunk``: bounded memory at any N) and cached under benchmarks/out/ as
``<flat|bodies>_<rows>_s<seed>_v<GEN_VERSION>_chunk<chunk>.<parquet|jsonl>``. Then each command runs in a
fresh process, ``--repeat`` times, alternating:

  classify   stoptriage classify PATH -o out.parquet -q      (the streaming sink)
  diff       stoptriage diff PATH --by route -o diff.csv -q  (streaming group-bys, p50/p95)
  summary    stoptriage summary PATH -o summary.csv -q       (one streaming group-by)

printed: wall time (the whole process: interpreter start-up and imports, ~0.5 s,
included), rows/s, peak RSS (os.wait4 rusage ru_maxrss, the process's whole life) and
the RSS sampled at 25/50/75% of the run (does it plateau or keep growing?).
``--env KEY=VALUE`` sets an environment variable in the children (e.g. Polars knobs
such as POLARS_IDEAL_MORSEL_SIZE) to compare settings. Timings on a shared machine
are only comparable inside one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import child_env, fmt_table

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
COMMANDS = ("classify", "diff", "summary")


def input_path(rows: int, seed: int, chunk: int, kind: str = "flat") -> Path:
    sys.path.insert(0, str(HERE))
    import generate as G

    ext = "parquet" if kind == "flat" else "jsonl"
    return OUT / f"{kind}_{rows}_s{seed}_v{G.GEN_VERSION}_chunk{chunk}.{ext}"


def ensure_input(rows: int, seed: int, chunk: int, kind: str = "flat") -> Path:
    """The cached chunked input of ``rows`` rows (``kind`` flat Parquet or raw-body
    JSON lines), generated (generate.py --chunk) if missing."""
    path = input_path(rows, seed, chunk, kind)
    if path.exists():
        print(f"input: {path.name} (cached, {path.stat().st_size / 1e6:,.0f} MB)", flush=True)
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--format", kind, "--chunk", str(chunk), "--seed", str(seed), "--out", str(path)]
    print(f"generating: {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True)
    return path


def argv_for(command: str, path: Path, tmpdir: Path) -> list[str]:
    out = {"classify": "out.parquet", "diff": "diff.csv", "summary": "summary.csv"}[command]
    extra = ["--by", "route"] if command == "diff" else []
    return [sys.executable, "-m", "stoptriage", command, str(path), *extra, "-o", str(tmpdir / out), "-q"]


def _rss_mb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def run(argv: list[str], env: dict[str, str]) -> dict:
    """Run ``argv``; wall time, exit code, peak RSS (wait4) and RSS samples (every 0.5 s)."""
    samples: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            mb = _rss_mb(proc.pid)
            if mb is not None:
                samples.append((time.perf_counter() - t0, mb))

    threading.Thread(target=sample, daemon=True).start()
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, ru = os.wait4(proc.pid, 0)
    done.set()
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    at = {}
    for q in (0.25, 0.5, 0.75):
        near = [mb for t, mb in samples if t <= q * seconds]
        at[q] = near[-1] if near else None
    return {"seconds": seconds, "exit": code, "peak_rss_mb": ru.ru_maxrss / 1024, "rss_at": at, "stderr": err.decode(errors="replace")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="10000000", help="input size(s), comma-separated (default 10000000)")
    ap.add_argument("--chunk", type=int, default=1_000_000, help="generator chunk (rows generated at a time)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per command and size (alternating)")
    ap.add_argument("--commands", default=",".join(COMMANDS), help="which of classify,diff,summary to run")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment variable for the children; repeatable")
    ap.add_argument("--input", choices=("flat", "bodies"), default="flat", help="flat Parquet (default) or raw-body JSON lines (read in 128 MB pieces)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.rows.split(",") if s.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    if not sizes or min(sizes) < 1 or args.repeat < 1 or any(c not in COMMANDS for c in commands):
        ap.error(f"--rows must be >= 1, --repeat >= 1, --commands from {','.join(COMMANDS)}")
    env = child_env(REPO)
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value

    import polars as pl

    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} cores" + (f", env {' '.join(args.env)}" if args.env else ""))
    paths = {n: ensure_input(n, args.seed, args.chunk, args.input) for n in sizes}
    results: dict[tuple[int, str], list[dict]] = {}
    failed = False
    with tempfile.TemporaryDirectory(dir=OUT, prefix="bench_stream_") as td:
        tmpdir = Path(td)
        for n in sizes:
            for i in range(args.repeat):
                for c in commands:
                    r = run(argv_for(c, paths[n], tmpdir), env)
                    if r["exit"] != 0:
                        failed = True
                        print(f"{n:,} {c}: FAILED (exit {r['exit']})\n{r['stderr'][-2000:]}", flush=True)
                        continue
                    if c == "classify":
                        r["rows_out"] = pl.scan_parquet(tmpdir / "out.parquet").select(pl.len()).collect().item()
                    at = r["rss_at"]
                    print(f"{n:>12,} {c:<9} run {i + 1}: {r['seconds']:7.1f} s  peak RSS {r['peak_rss_mb']:6,.0f} MB  (at 25/50/75%: {at[0.25]}/{at[0.5]}/{at[0.75]} MB)", flush=True)
                    results.setdefault((n, c), []).append(r)
    table = []
    summary = []
    for (n, c), rs in results.items():
        med = statistics.median(r["seconds"] for r in rs)
        peak = max(r["peak_rss_mb"] for r in rs)
        rows_out = rs[-1].get("rows_out")
        table.append([c, f"{n:,}", f"{med:.1f}", f"{n / med:,.0f}", f"{peak:,.0f}", "" if rows_out is None else f"{rows_out:,}"])
        summary.append({"command": c, "rows": n, "seconds": [r["seconds"] for r in rs], "median_s": med, "rows_per_s": n / med, "peak_rss_mb": peak, "rows_out": rows_out})
    print(f"\n{args.repeat} run(s) each, fresh process per run; wall time includes interpreter start-up\n")
    print(fmt_table(table, ["command", "rows", "median s", "rows/s", "peak RSS MB", "rows out"]))
    if args.json:
        args.json.write_text(json.dumps({"polars": pl.__version__, "env": args.env, "results": summary}, indent=2))
    bad = [s for s in summary if s["command"] == "classify" and s["rows_out"] != s["rows"]]
    for s in bad:
        print(f"\nnote: classify wrote {s['rows_out']:,} rows for {s['rows']:,} input rows")
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
