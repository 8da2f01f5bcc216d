#!/usr/bin/env python3
"""Time stoptriage.classify against the cost of just reading the same input.

    python benchmarks/bench_classify.py --rows 1000000 [--repeat 3] [--input flat|bodies]

The input is generated once by benchmarks/generate.py and cached under benchmarks/out/
(git-ignored). Then, alternating, ``--repeat`` times each, every variant runs in a fresh
Python process so its peak RSS is its own:

  floor       flat:   pl.scan_parquet(path).select(<columns classify needs>).sink_parquet(tmp)
              bodies: pl.scan_lines(path).select(pl.len()).collect()
  stoptriage  stoptriage.classify([path], **opts).frame.sink_parquet(tmp)
              (falls back to .collect().write_parquet(tmp) if the plan cannot be sunk, and says so)

Timing covers the work only (imports and interpreter start-up are excluded); peak RSS is
the child's whole life (os.wait4 rusage ru_maxrss), so it includes the ~100 MB of
interpreter + Polars baseline, which is printed separately.
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"

#: The columns classify reads from a flat file (what the floor reads and rewrites).
CLASSIFY_COLUMNS = (
    "route",
    "provider",
    "provider_stop_reason",
    "output_text",
    "output_tokens",
    "max_tokens",
    "expects_json",
    "after_tool_result",
)


# ---- child: one measured run ---------------------------------------------------------
def _maxrss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(args: argparse.Namespace) -> int:
    import polars as pl

    opts = json.loads(args.opts)
    result: dict = {"fell_back": False, "reason": None}
    tmp = Path(args.tmp)
    if args.variant == "stoptriage":
        import stoptriage  # imported before timing starts

        result["baseline_kb"] = _maxrss_kb()
        t0 = time.perf_counter()
        res = stoptriage.classify([args.path], **opts)
        frame = getattr(res, "frame", res)
        if isinstance(frame, pl.DataFrame):
            frame.write_parquet(tmp)
            result.update(fell_back=True, reason="classify returned a DataFrame, not a LazyFrame")
        elif args.mode == "collect":
            frame.collect().write_parquet(tmp)
            result.update(fell_back=True, reason="collect mode (sink failed on an earlier run)")
        else:
            try:
                frame.sink_parquet(tmp)
            except Exception as exc:  # noqa: BLE001 - any engine error means: cannot stream this plan
                result.update(fell_back=True, reason=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
                t0 = time.perf_counter()  # time the fallback alone
                frame.collect().write_parquet(tmp)
        result["seconds"] = time.perf_counter() - t0
    elif args.input == "flat":
        result["baseline_kb"] = _maxrss_kb()
        t0 = time.perf_counter()
        pl.scan_parquet(args.path).select(CLASSIFY_COLUMNS).sink_parquet(tmp)
        result["seconds"] = time.perf_counter() - t0
    else:
        result["baseline_kb"] = _maxrss_kb()
        t0 = time.perf_counter()
        n = pl.scan_lines(args.path).select(pl.len()).collect().item()
        result["seconds"] = time.perf_counter() - t0
        result["rows_out"] = int(n)
    if "rows_out" not in result:
        import pyarrow.parquet as pq

        result["rows_out"] = pq.read_metadata(tmp).num_rows
    result["maxrss_kb_self"] = _maxrss_kb()
    Path(args.result).write_text(json.dumps(result))
    return 0


# ---- parent --------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def probe_stoptriage() -> tuple[bool, str]:
    """Can a fresh process do ``from stoptriage import classify``? Returns (ok, detail)."""
    code = "import stoptriage, sys; from stoptriage import classify; print(getattr(stoptriage, '__file__', None), getattr(stoptriage, '__version__', '?'))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO)
    if p.returncode == 0:
        return True, p.stdout.strip()
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    return False, lines[-1] if lines else f"exit {p.returncode}"


def ensure_input(kind: str, rows: int, seed: int, regen: bool) -> Path:
    sys.path.insert(0, str(HERE))
    import generate as G

    ext = "parquet" if kind == "flat" else "jsonl"
    path = OUT / f"{kind}_{rows}_s{seed}_v{G.GEN_VERSION}.{ext}"
    if path.exists() and not regen:
        print(f"input: {path} (cached, {path.stat().st_size / 1e6:.1f} MB)")
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--format", kind, "--out", str(path), "--seed", str(seed)]
    print(f"generating: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(f"generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def warm_cache(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def run_child(variant: str, kind: str, path: Path, mode: str, opts: dict, tmpdir: Path, keep: Path | None) -> dict:
    out = keep if keep else tmpdir / f"{variant}.parquet"
    result = tmpdir / f"{variant}.json"
    log = tmpdir / f"{variant}.log"
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_child",
        variant,
        "--input",
        kind,
        "--_path",
        str(path),
        "--_tmp",
        str(out),
        "--_result",
        str(result),
        "--_mode",
        mode,
        "--_opts",
        json.dumps(opts),
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_env(), cwd=REPO)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or not result.exists():
        return {"error": f"exit {proc.returncode}", "log": text}
    r = json.loads(result.read_text())
    r["maxrss_kb"] = ru.ru_maxrss  # Linux: kilobytes
    r["log"] = text
    if not keep:
        out.unlink(missing_ok=True)
    return r


def fmt_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def parse_opt(s: str) -> tuple[str, object]:
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"--opt takes KEY=VALUE, got {s!r}")
    k, v = s.split("=", 1)
    try:
        return k, json.loads(v)
    except json.JSONDecodeError:
        return k, v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (alternating)")
    ap.add_argument("--input", choices=("flat", "bodies"), default="flat")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regen", action="store_true", help="regenerate the cached input")
    ap.add_argument("--opt", action="append", type=parse_opt, default=[], metavar="KEY=VALUE", help="keyword option for stoptriage.classify (value parsed as JSON when it parses); repeatable")
    ap.add_argument("--keep-output", action="store_true", help="keep stoptriage's last output at benchmarks/out/last_<input>_output.parquet")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    # internal: one measured run in a fresh process
    ap.add_argument("--_child", choices=("floor", "stoptriage"), help=argparse.SUPPRESS)
    ap.add_argument("--_path", dest="path", help=argparse.SUPPRESS)
    ap.add_argument("--_tmp", dest="tmp", help=argparse.SUPPRESS)
    ap.add_argument("--_result", dest="result", help=argparse.SUPPRESS)
    ap.add_argument("--_mode", dest="mode", default="sink", help=argparse.SUPPRESS)
    ap.add_argument("--_opts", dest="opts", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        args.variant = args._child
        return child(args)
    if args.repeat < 1 or args.rows < 1:
        ap.error("--rows and --repeat must be >= 1")

    import polars as pl

    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} cores, POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', '(default)')}")
    path = ensure_input(args.input, args.rows, args.seed, args.regen)
    size_mb = path.stat().st_size / 1e6
    ok, detail = probe_stoptriage()
    variants = ["floor"]
    if ok:
        print(f"stoptriage: {detail}")
        variants.append("stoptriage")
    else:
        print(
            f"\nstoptriage.classify is not importable yet: {detail}\n"
            f"  (tried `from stoptriage import classify` with {REPO} on PYTHONPATH)\n"
            "  Timing the floor only; rerun once the library exposes classify().\n"
        )
    opts = dict(args.opt)
    if opts:
        print(f"classify options: {opts}")
    warm_cache(path)

    runs: dict[str, list[dict]] = {v: [] for v in variants}
    mode = "sink"
    failed: dict[str, str] = {}
    keep = OUT / f"last_{args.input}_output.parquet" if args.keep_output else None
    with tempfile.TemporaryDirectory(dir=OUT, prefix="bench_") as td:
        tmpdir = Path(td)
        for i in range(args.repeat):
            for v in variants:
                if v in failed:
                    continue
                r = run_child(v, args.input, path, mode if v == "stoptriage" else "sink", opts, tmpdir, keep if v == "stoptriage" else None)
                if "error" in r:
                    failed[v] = r["error"]
                    print(f"run {i + 1}/{args.repeat} {v}: FAILED ({r['error']})\n{r['log'][-3000:]}", flush=True)
                    continue
                note = ""
                if r["fell_back"]:
                    note = f"  [fell back to collect().write_parquet: {r['reason']}]"
                    mode = "collect"
                print(f"run {i + 1}/{args.repeat} {v:<10} {r['seconds']:7.2f} s  peak RSS {r['maxrss_kb'] / 1024:7.0f} MB  rows out {r['rows_out']:,}{note}", flush=True)
                runs[v].append(r)

    table = []
    summary = {"rows": args.rows, "input": args.input, "path": str(path), "input_mb": size_mb, "polars": pl.__version__, "variants": {}}
    floor_med = statistics.median(r["seconds"] for r in runs["floor"]) if runs["floor"] else None
    for v in variants:
        rs = runs[v]
        if not rs:
            table.append([v, f"{args.rows:,}", "failed", "", "", "", "", "", ""])
            continue
        secs = [r["seconds"] for r in rs]
        med = statistics.median(secs)
        rss = max(r["maxrss_kb"] for r in rs) / 1024
        base = min(r["baseline_kb"] for r in rs) / 1024
        ratio = med / floor_med if floor_med else float("nan")
        name = v + (" (collect)" if v == "stoptriage" and any(r["fell_back"] for r in rs) else "")
        row = [name, f"{args.rows:,}", f"{med:.2f}", f"{min(secs):.2f}", f"{args.rows / med:,.0f}"]
        if args.input == "bodies":
            row.append(f"{size_mb / med:,.0f}")
        row += [f"{ratio:.2f}x", f"{rss:,.0f}", f"{base:,.0f}", f"{rs[-1]['rows_out']:,}"]
        table.append(row)
        summary["variants"][v] = {
            "seconds": secs,
            "median_s": med,
            "rows_per_s": args.rows / med,
            "mb_per_s": size_mb / med,
            "ratio_to_floor": ratio,
            "peak_rss_mb": rss,
            "baseline_rss_mb": base,
            "rows_out": rs[-1]["rows_out"],
            "fell_back": any(r["fell_back"] for r in rs),
            "fallback_reason": next((r["reason"] for r in rs if r["fell_back"]), None),
        }
    header = ["variant", "rows", "median s", "min s", "rows/s"]
    if args.input == "bodies":
        header.append("MB/s")
    header += ["x floor", "peak RSS MB", "baseline MB", "rows out"]
    print(f"\n{args.input} input: {path.name}, {size_mb:,.1f} MB, {args.repeat} run(s) each, alternating\n")
    print(fmt_table(table, header))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if "stoptriage" in summary["variants"]:
        sv = summary["variants"]["stoptriage"]
        if sv["rows_out"] != args.rows:
            print(f"\nnote: stoptriage wrote {sv['rows_out']:,} rows for {args.rows:,} input rows")
        if sv["fell_back"]:
            print(f"\nnote: stoptriage's plan could not be sunk; timed collect().write_parquet instead ({sv['fallback_reason']})")
    if not ok:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
