"""``stoptriage trend``: rates per time bucket and group; a sparkline per group on a terminal."""

from __future__ import annotations

import re
import sys
from typing import Annotated, Optional

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import stoptriage

from ..reports.common import MIN_RATE_ROWS
from ..reports.trend import GAP, check_every, select_metrics, trend_lines
from ..reports.trend import trend as build_trend
from . import options as o

#: --every values whose buckets start at midnight: the terminal shows dates only.
_DAILY = re.compile(r"^(?:[0-9]+(?:mo|[dwqy]))+$")


def _pct(value: float | None, eligible: int, min_rows: int) -> str:
    if value is not None:
        return f"{value:.1%}"
    return "–" if eligible == 0 else f"n<{min_rows}"


def print_trend(lines: pl.DataFrame, by: list[str], every: str, min_rows: int, console: Console | None = None) -> None:
    """Terminal view of :func:`reports.trend.trend_lines`: one row per group and metric
    with its sparkline (scaled per row; ``·`` = a bucket with too few or no rows),
    first / last / max bucket rate, overall rate, total count and, on the group's
    first line, the buckets it spans (first..last (n)).
    A rate that cannot be shown reads ``n<20`` (too few rows) or ``–`` (no eligible rows)."""
    console = console or Console()
    stamp = "%Y-%m-%d" if _DAILY.match(every) else "%Y-%m-%d %H:%M"
    table = Table(
        title=f"stoptriage trend --every {every}",
        caption=f"rate per bucket, each line scaled to its own max; {GAP} = no rate (fewer than {min_rows} eligible rows)",
        title_justify="left",
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    rates = ("first", "last", "max", "overall", "count")
    for name in [*by, "metric", "trend", *rates, "buckets"]:
        # Names and the bucket span fold on a narrow terminal; the numbers never do.
        table.add_column(name, no_wrap=name in ("trend", *rates), overflow="fold", justify="right" if name in rates else "left")
    previous = None
    for row in lines.iter_rows(named=True):
        group = tuple(row[b] for b in by)
        label = [escape("" if v is None else str(v)) for v in group] if group != previous else [""] * len(by)
        if previous is not None and group != previous:
            table.add_section()
        previous = group
        metric = row["metric"] if row["kind"] in ("rule", "disagree") else f"{row['kind']}:{row['metric']}"
        # Every metric of a group spans the same buckets: shown once, beside the group.
        span = f"{row['first_bucket']:{stamp}}..{row['last_bucket']:{stamp}} ({row['buckets']})" if any(label) else ""
        table.add_row(
            *label,
            escape(metric),
            row["sparkline"],
            _pct(row["first_rate"], row["eligible"], min_rows),
            _pct(row["last_rate"], row["eligible"], min_rows),
            _pct(row["max_rate"], row["eligible"], min_rows),
            _pct(row["overall_rate"], row["eligible"], min_rows),
            str(row["count"]),
            span,
        )
    console.print(table)


def trend(
    paths: o.Paths,
    every: Annotated[str, typer.Option("--every", help="Bucket width: 30m, 1h, 6h, 1d, 1w, 1mo (UTC; weeks start on Monday).")] = "1d",
    by: o.By = "route",
    metric: Annotated[
        Optional[list[str]],
        typer.Option(
            "--metric",
            help="Metric to show: a rule, derived class, stop reason or 'disagrees' (kind:name for one kind, e.g. derived:refusal); "
            "repeatable or comma-separated. Default: every metric with a nonzero count, plus disagrees, without derived complete and stop_reason stop.",
        ),
    ] = None,
    min_rows: Annotated[int, typer.Option("--min-rows", min=1, help="Eligible rows a bucket needs for a rate; below it the rate is null with a note.")] = MIN_RATE_ROWS,
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
    """Rates per time bucket and group: a sparkline per group and metric on a terminal, one row per bucket when piped.

    On a terminal without --metric, lines with no hit in their group are left out (and counted).

    Piped or with -o: by columns, bucket, kind, metric, count, eligible, rows, rate, note
    (rate null with a note when a bucket has fewer than --min-rows eligible rows; empty
    buckets between a group's first and last are rows with rows=0 and note "no rows").
    """
    cols = o.by_columns(by)
    names = [n.strip() for m in metric or [] for n in m.split(",") if n.strip()] or None
    check_every(every)  # bad --every / --metric: exit 2 before reading
    select_metrics(names)
    with o.reading(paths, quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        result = build_trend(res.frame, every, cols, names, min_rows=min_rows)
    if result.untimed and not quiet:
        o.err_console.print(f"stoptriage: {result.untimed} rows without a timestamp left out")
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if chosen == "table":
        lines = trend_lines(result.frame, cols, min_rows)
        hidden = 0
        if names is None:  # default metrics: a line with no hit in its group says little on a screen
            hidden = int((lines["count"] == 0).sum())
            lines = lines.filter(pl.col("count") > 0)
        print_trend(lines, cols, every.strip(), min_rows)
        if hidden:
            Console().print(f"[dim]{hidden} group × metric lines with no hits left out (--metric NAME or --format csv shows them)[/dim]")
        return
    stoptriage.render.write(result.frame, chosen, out, title=f"stoptriage trend --every {every} --by {','.join(cols)}")
