#!/usr/bin/env python3
"""Time stoptriage.classify against its two peers and the cost of just reading the input.

    python benchmarks/bench_classify.py --rows 1000000 [--repeat 3] [--input flat|bodies]
                                        [--variants floor,stoptriage,duckdb,python]

The input is generated once by benchmarks/generate.py and cached under benchmarks/out/
(git-ignored). Then, alternating (the order rotates every round), ``--repeat`` times each,
every variant runs in a fresh Python process so its peak RSS is its own:

  floor       flat:   pl.scan_parquet(path).select(<columns classify needs>).sink_parquet(tmp)
              bodies: pl.scan_lines(path).select(pl.len()).collect()
  stoptriage  res = stoptriage.classify([path], **opts)
              res.frame.select(stoptriage.output_columns(res.frame)).sink_parquet(DIR/rows.parquet)
              then the per-route summary from rows.parquet with Polars -> DIR/summary.parquet
              (falls back to .collect().write_parquet if the plan cannot be sunk, and says so)
  duckdb      benchmarks/peers/duckdb_peer.py  run(path, kind, DIR): the same spec in DuckDB SQL
  python      benchmarks/peers/python_peer.py  run(path, kind, DIR): the plain per-row Python loop

Both peers write DIR/rows.parquet (one row per response) and DIR/summary.parquet (count per
route, stop_reason, derived_stop). A variant whose module cannot be imported (duckdb not
installed, peer file absent) is reported as skipped. After the runs, the derived_stop counts
per route are compared across stoptriage and the peers (each variant's last rows.parquet).

Timing covers the work only (imports and interpreter start-up are excluded); peak RSS is
the child's whole life (os.wait4 rusage ru_maxrss), so it includes the interpreter + library
baseline, which is printed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import child_env, fmt_table, warm_cache
from common import run_child as common_run_child

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"

#: Parquet writer options of every variant that writes with Polars: the ones classify's
#: CLI uses (stoptriage.render.PARQUET_OPTIONS, zstd level 1), written out here so the
#: floor does not depend on the package importing.
PARQUET = {"compression": "zstd", "compression_level": 1}

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

VARIANTS = ("floor", "stoptriage", "duckdb", "python")
#: Variants that classify (write rows.parquet with derived_stop): compared for agreement.
CLASSIFIERS = ("stoptriage", "duckdb", "python")
#: Peer variant -> module under benchmarks/peers/.
PEERS = {"duckdb": "duckdb_peer", "python": "python_peer"}
#: Targets of issue 6 on 1M flat rows, 2 cores: (label, numerator, denominator, bound, ">=" | "<=").
TARGETS = (
    ("DuckDB / stoptriage", "duckdb", "stoptriage", 2.0, ">="),
    ("Python / stoptriage", "python", "stoptriage", 8.0, ">="),
    ("stoptriage / floor", "stoptriage", "floor", 3.0, "<="),
)


# ---- child: one measured run ---------------------------------------------------------
def _maxrss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run_stoptriage(args: argparse.Namespace, out_dir: Path, result: dict) -> None:
    import polars as pl
    import stoptriage  # imported before timing starts

    opts = json.loads(args.opts)
    rows, summary = out_dir / "rows.parquet", out_dir / "summary.parquet"
    result["baseline_kb"] = _maxrss_kb()
    t0 = time.perf_counter()
    res = stoptriage.classify([args.path], **opts)
    frame = getattr(res, "frame", res)
    if isinstance(frame, pl.DataFrame):
        frame.select(stoptriage.output_columns(frame.lazy())).write_parquet(rows)
        result.update(fell_back=True, reason="classify returned a DataFrame, not a LazyFrame")
    else:
        frame = frame.select(stoptriage.output_columns(frame))
        if args.mode == "collect":
            frame.collect().write_parquet(rows, **PARQUET)
            result.update(fell_back=True, reason="collect mode (sink failed on an earlier run)")
        else:
            try:
                frame.sink_parquet(rows, **PARQUET)
            except Exception as exc:  # noqa: BLE001 - any engine error means: cannot stream this plan
                result.update(fell_back=True, reason=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
                t0 = time.perf_counter()  # time the fallback alone
                frame.collect().write_parquet(rows, **PARQUET)
    pl.scan_parquet(rows).group_by("route", "stop_reason", "derived_stop").agg(pl.len().alias("count")).sink_parquet(summary)
    result["seconds"] = time.perf_counter() - t0


def _run_floor(args: argparse.Namespace, out_dir: Path, result: dict) -> None:
    import polars as pl

    result["baseline_kb"] = _maxrss_kb()
    t0 = time.perf_counter()
    if args.input == "flat":
        pl.scan_parquet(args.path).select(CLASSIFY_COLUMNS).sink_parquet(out_dir / "rows.parquet", **PARQUET)
    else:
        result["rows_out"] = int(pl.scan_lines(args.path).select(pl.len()).collect().item())
    result["seconds"] = time.perf_counter() - t0


def _run_peer(args: argparse.Namespace, out_dir: Path, result: dict) -> None:
    import importlib

    sys.path.insert(0, str(HERE))
    peer = importlib.import_module(f"peers.{PEERS[args.variant]}")  # imported before timing starts
    result["baseline_kb"] = _maxrss_kb()
    t0 = time.perf_counter()
    n = peer.run(args.path, args.input, str(out_dir))
    result["seconds"] = time.perf_counter() - t0
    result["rows_returned"] = n


def child(args: argparse.Namespace) -> int:
    result: dict = {"fell_back": False, "reason": None}
    out_dir = Path(args.tmp)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("rows.parquet", "summary.parquet"):
        (out_dir / stale).unlink(missing_ok=True)
    if args.variant == "stoptriage":
        _run_stoptriage(args, out_dir, result)
    elif args.variant == "floor":
        _run_floor(args, out_dir, result)
    else:
        _run_peer(args, out_dir, result)
    if "rows_out" not in result:
        import pyarrow.parquet as pq

        result["rows_out"] = pq.read_metadata(out_dir / "rows.parquet").num_rows
    result["maxrss_kb_self"] = _maxrss_kb()
    Path(args.result).write_text(json.dumps(result))
    return 0


# ---- parent --------------------------------------------------------------------------
def probe(variant: str) -> tuple[bool, str]:
    """Can a fresh process import what ``variant`` needs? Returns (ok, detail)."""
    if variant == "floor":
        return True, ""
    if variant == "stoptriage":
        code = "import stoptriage; from stoptriage import classify, output_columns; print(stoptriage.__file__, getattr(stoptriage, '__version__', '?'))"
    else:
        module = PEERS[variant]
        if not (HERE / "peers" / f"{module}.py").exists():
            return False, f"benchmarks/peers/{module}.py not found"
        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import peers.{module} as m; print(m.__file__)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(REPO), cwd=REPO)
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


def run_child(variant: str, kind: str, path: Path, mode: str, opts: dict, out_dir: Path, tmpdir: Path) -> dict:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--_child", variant, "--input", kind, "--_path", str(path),
        "--_tmp", str(out_dir), "--_result", str(tmpdir / f"{variant}.json"), "--_mode", mode, "--_opts", json.dumps(opts),
    ]  # fmt: skip
    return common_run_child(cmd, tmpdir / f"{variant}.json", tmpdir / f"{variant}.log", REPO)


def parse_opt(s: str) -> tuple[str, object]:
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"--opt takes KEY=VALUE, got {s!r}")
    k, v = s.split("=", 1)
    try:
        return k, json.loads(v)
    except json.JSONDecodeError:
        return k, v


def parse_variants(s: str) -> list[str]:
    names = [v.strip() for v in s.split(",") if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--variants takes a comma-separated subset of {','.join(VARIANTS)}, got {s!r}")
    return list(dict.fromkeys(names))


def _counts(frame, keys: list[str], count: str | None) -> dict[tuple, int]:
    """{key tuple: count} of a frame, keys read as text (enum or string alike)."""
    import polars as pl

    lf = frame.select([pl.col(k).cast(pl.String) for k in keys] + ([pl.col(count)] if count else []))
    if count is None:
        lf = lf.group_by(keys).agg(pl.len().alias("_n"))
        count = "_n"
    return {tuple(r[:-1]): int(r[-1]) for r in lf.collect().iter_rows()}


def agreement(dirs: dict[str, Path]) -> dict:
    """Compare the classifiers' outputs: derived_stop counts per route (from each rows.parquet)
    and the summary tables (route, stop_reason, derived_stop, count). Reference: stoptriage
    (else the first classifier). Returns {"reference", "compared", "derived_equal",
    "summary_equal", "cells", "rows", "diffs": [text]}."""
    import polars as pl

    derived, summary = {}, {}
    for v, d in dirs.items():
        derived[v] = _counts(pl.scan_parquet(d / "rows.parquet"), ["route", "derived_stop"], None)
        s = d / "summary.parquet"
        summary[v] = _counts(pl.scan_parquet(s), ["route", "stop_reason", "derived_stop"], "count") if s.exists() else None
    ref = "stoptriage" if "stoptriage" in derived else next(iter(derived))
    out = {"reference": ref, "compared": [v for v in derived if v != ref], "derived_equal": True, "summary_equal": True, "diffs": []}
    out["cells"] = len(derived[ref])
    out["rows"] = sum(derived[ref].values())
    for v in out["compared"]:
        keys = sorted(set(derived[ref]) | set(derived[v]))
        bad = [(k, derived[ref].get(k, 0), derived[v].get(k, 0)) for k in keys if derived[ref].get(k, 0) != derived[v].get(k, 0)]
        if bad:
            out["derived_equal"] = False
            shown = ", ".join(f"{r}/{c}: {a:,} vs {b:,}" for (r, c), a, b in bad[:5])
            out["diffs"].append(f"{v} vs {ref}: {len(bad)} (route, derived_stop) count(s) differ: {shown}{' ...' if len(bad) > 5 else ''}")
        if summary[v] is None or summary[ref] is None:
            out["summary_equal"] = False
            out["diffs"].append(f"{v} vs {ref}: summary.parquet missing")
        elif summary[v] != summary[ref]:
            out["summary_equal"] = False
            n = len(set(summary[v].items()) ^ set(summary[ref].items()))
            out["diffs"].append(f"{v} vs {ref}: summary.parquet differs in {n} (route, stop_reason, derived_stop, count) entries")
    return out


def ratio_lines(medians: dict[str, float], show_targets: bool) -> tuple[list[str], dict[str, float]]:
    """The ratio lines of the report and {label: ratio} (medians; time over time)."""
    lines, ratios = [], {}
    for label, num, den, bound, op in TARGETS:
        if num not in medians or den not in medians:
            continue
        r = medians[num] / medians[den]
        ratios[label] = r
        if den == "stoptriage":
            what = f"stoptriage is {r:.2f}x faster" if r >= 1 else f"stoptriage is {1 / r:.2f}x slower"
        else:
            what = f"stoptriage takes {r:.2f}x the floor's time"
        target = ""
        if show_targets:
            met = r >= bound if op == ">=" else r <= bound
            target = f"   (issue 6 target {op} {bound:g}x: {'met' if met else 'NOT met'})"
        lines.append(f"  {label:<20} = {r:6.2f}x   {what}{target}")
    return lines, ratios


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (alternating)")
    ap.add_argument("--input", choices=("flat", "bodies"), default="flat")
    ap.add_argument("--variants", type=parse_variants, default=list(VARIANTS), metavar="LIST", help=f"comma-separated subset of {','.join(VARIANTS)} (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regen", action="store_true", help="regenerate the cached input")
    ap.add_argument("--opt", action="append", type=parse_opt, default=[], metavar="KEY=VALUE", help="keyword option for stoptriage.classify (value parsed as JSON when it parses); repeatable")
    ap.add_argument("--keep-output", action="store_true", help="keep each variant's last output in benchmarks/out/last_<input>/<variant>/")
    ap.add_argument("--json", type=Path, help="also write all timings and checks as JSON here")
    # internal: one measured run in a fresh process
    ap.add_argument("--_child", choices=VARIANTS, help=argparse.SUPPRESS)
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
    variants, skipped = [], {}
    for v in args.variants:
        ok, detail = probe(v)
        if ok:
            variants.append(v)
            if detail:
                print(f"{v}: {detail}")
        else:
            skipped[v] = detail
            print(f"{v}: SKIPPED ({detail})")
    opts = dict(args.opt)
    if opts:
        print(f"classify options: {opts}")
    warm_cache(path)

    runs: dict[str, list[dict]] = {v: [] for v in variants}
    mode = "sink"
    failed: dict[str, str] = {}
    agree = None
    keep_root = OUT / f"last_{args.input}" if args.keep_output else None
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT, prefix="bench_") as td:
        tmpdir = Path(td)
        out_dirs = {v: (keep_root or tmpdir) / v for v in variants}
        for v, d in out_dirs.items():
            if d.exists():
                shutil.rmtree(d)
        for i in range(args.repeat):
            k = i % len(variants) if variants else 0
            for v in variants[k:] + variants[:k]:  # alternate, rotating who goes first
                if v in failed:
                    continue
                r = run_child(v, args.input, path, mode if v == "stoptriage" else "sink", opts, out_dirs[v], tmpdir)
                if "error" in r:
                    failed[v] = r["error"]
                    print(f"run {i + 1}/{args.repeat} {v}: FAILED ({r['error']})\n{r['log'][-3000:]}", flush=True)
                    continue
                note = ""
                if r["fell_back"]:
                    note = f"  [fell back to collect().write_parquet: {r['reason']}]"
                    mode = "collect"
                print(f"run {i + 1}/{args.repeat} {v:<10} {r['seconds']:8.2f} s  peak RSS {r['maxrss_kb'] / 1024:7.0f} MB  rows out {r['rows_out']:,}{note}", flush=True)
                runs[v].append(r)
        classified = {v: out_dirs[v] for v in CLASSIFIERS if runs.get(v) and v not in failed}
        if len(classified) >= 2:
            agree = agreement(classified)

    table = []
    summary = {
        "rows": args.rows, "input": args.input, "path": str(path), "input_mb": size_mb, "repeat": args.repeat,
        "polars": pl.__version__, "python": sys.version.split()[0], "cores": os.cpu_count(),
        "variants": {}, "skipped": skipped, "failed": failed,
    }  # fmt: skip
    medians = {v: statistics.median(r["seconds"] for r in rs) for v, rs in runs.items() if rs}
    floor_med = medians.get("floor")
    for v in variants:
        rs = runs[v]
        if not rs:
            table.append([v, f"{args.rows:,}", "failed"] + [""] * (7 if args.input == "bodies" else 6))
            continue
        secs = [r["seconds"] for r in rs]
        med = medians[v]
        rss = max(r["maxrss_kb"] for r in rs) / 1024
        base = min(r["baseline_kb"] for r in rs) / 1024
        ratio = med / floor_med if floor_med else float("nan")
        name = v + (" (collect)" if v == "stoptriage" and any(r["fell_back"] for r in rs) else "")
        row = [name, f"{args.rows:,}", f"{med:.2f}", f"{min(secs):.2f}", f"{args.rows / med:,.0f}"]
        if args.input == "bodies":
            row.append(f"{size_mb / med:,.1f}")
        row += [f"{ratio:.2f}x", f"{rss:,.0f}", f"{base:,.0f}", f"{rs[-1]['rows_out']:,}"]
        table.append(row)
        summary["variants"][v] = {
            "seconds": secs,
            "median_s": med,
            "min_s": min(secs),
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
    for v, why in skipped.items():
        print(f"{v}: skipped ({why})")

    lines, ratios = ratio_lines(medians, show_targets=args.input == "flat")
    summary["ratios"] = ratios
    if lines:
        print("\nratios of median times (A / B = how many times longer A takes than B):")
        print("\n".join(lines))
    summary["agreement"] = agree
    if agree is not None:
        names = " = ".join([agree["reference"]] + agree["compared"])
        if agree["derived_equal"]:
            print(f"\nagreement: derived_stop counts per route equal across {names} ({agree['cells']} route x class cells, {agree['rows']:,} rows)", end="")
            print("; summary.parquet equal too" if agree["summary_equal"] else "")
        else:
            print(f"\nagreement: derived_stop counts per route DIFFER ({names})")
        for d in agree["diffs"]:
            print(f"  {d}")
    elif len([v for v in CLASSIFIERS if v in variants]) < 2:
        print("\nagreement: fewer than two classifiers ran; nothing to compare")

    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if "stoptriage" in summary["variants"]:
        sv = summary["variants"]["stoptriage"]
        if sv["rows_out"] != args.rows:
            print(f"\nnote: stoptriage wrote {sv['rows_out']:,} rows for {args.rows:,} input rows")
        if sv["fell_back"]:
            print(f"\nnote: stoptriage's plan could not be sunk; timed collect().write_parquet instead ({sv['fallback_reason']})")
    if "stoptriage" in skipped:
        return 2
    return 1 if failed or (agree is not None and not agree["derived_equal"]) else 0


if __name__ == "__main__":
    sys.exit(main())
