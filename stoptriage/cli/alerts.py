"""``stoptriage alerts``: the rules of taxonomy.md §4 per group against thresholds; exit 4 when any fired."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import stoptriage
from stoptriage.reports import alerts as alerting

from . import options as o

#: Exit code when at least one alert fired (README "Exit codes"): a cron job or CI
#: step gates on it; 1, 2 and 3 keep their meanings (input error, usage, --strict).
EXIT_FIRED = 4


def _pct(value: float | None, small: str = "too few rows") -> str:
    return small if value is None else f"{value:.1%}"


def print_alerts(df: pl.DataFrame, by: list[str], console: Console | None = None) -> None:
    """Terminal view: a table of (rule, group): status, rate (or "n=7<20" when too few
    rows) against its threshold, count of eligible rows, the ratio to the baseline
    when known; fired rows in red. Under it, per fired row, the example ids (whole, to
    paste into a trace viewer) and the remediation hint."""
    console = console or Console()
    with_baseline = df["baseline_rate"].is_not_null().any()
    group = ", ".join(by)
    table = Table(header_style="bold", title_justify="left")
    names = ["rule", group, "status", "rate", "threshold", "count"] + (["vs baseline"] if with_baseline else [])
    for name in names:
        table.add_column(name, overflow="fold")
    for row in df.iter_rows(named=True):
        ratio = row["ratio"]
        vs = "" if ratio is None else ("new" if ratio == float("inf") else f"{ratio:.1f}x ({_pct(row['baseline_rate'])})")
        cells = [
            row["rule"],
            escape(", ".join(str(row[b]) for b in by)),
            row["status"],
            _pct(row["rate"], f"n={row['eligible']}<{row['min_rows']}"),
            f"{row['threshold']:.1%}",
            f"{row['count']}/{row['eligible']}",
        ]
        cells += [vs] if with_baseline else []
        style = "red" if row["status"] == "fired" else "dim" if row["status"] == "too_few_rows" else None
        table.add_row(*cells, style=style)
    console.print(table)
    for row in df.filter(pl.col("status") == "fired").iter_rows(named=True):
        where = escape(", ".join(f"{b}={row[b]}" for b in by))
        console.print(f"[bold red]{row['rule']}[/bold red] {where}: {escape(row['hint'])}")
        if row["examples"]:
            console.print(f"  examples: {escape(row['examples'])}", soft_wrap=True)


def alerts(
    paths: o.Paths,
    by: o.By = "route",
    rules_file: Annotated[Optional[str], typer.Option("--rules", help="TOML file of thresholds on top of the shipped ones (README 'Alert rules').")] = None,
    baseline: Annotated[Optional[list[str]], typer.Option("--baseline", help="A baseline export (file, directory or glob; repeatable) for rules with a 'ratio' threshold.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list the (rule, group) pairs that stayed quiet or had too few rows to rate.")] = False,
    input_format: o.InputFormat = None,
    mapping: o.Map = None,
    route: o.Route = None,
    phrases: o.Phrases = None,
    continuation: o.Continuation = None,
    strict: o.Strict = False,
    fmt: o.Format = None,
    out: o.Output = None,
    quiet: o.Quiet = False,
) -> None:
    """Alert rules per group against thresholds: one row per fired (rule, group). Exit 4 when any fired, 0 when none."""
    cols = o.by_columns(by)
    thresholds = alerting.load_thresholds(rules_file)
    with o.reading([*paths, *(baseline or [])], quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        base = None
        if baseline:
            base = o.load(baseline, input_format, mapping, route, phrases, continuation, strict, quiet).frame
        result = alerting.evaluate(res.frame, cols, thresholds, baseline=base, everything=True)
    fired = result.filter(pl.col("status") == "fired")
    shown = result if show_all else fired
    if not quiet:
        per_rule = fired.group_by("rule", maintain_order=True).len()
        names = ", ".join(f"{r}×{n}" for r, n in per_rule.iter_rows())
        groups = result.select(cols).unique().height
        o.err_console.print(f"stoptriage: {fired.height} alert(s) fired{f' ({names})' if names else ''} over {groups} group(s)", markup=False)
        small = alerting.too_small(result)
        if small:
            o.err_console.print(
                f"stoptriage: {small} (rule, group) pair(s) had rows that fired but too few eligible rows to rate (use --all to list them)",
                markup=False,
            )
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if chosen == "table":
        if shown.height:
            print_alerts(shown, cols)
    else:
        stoptriage.render.write(shown, chosen, out)
    if fired.height:
        raise typer.Exit(EXIT_FIRED)
