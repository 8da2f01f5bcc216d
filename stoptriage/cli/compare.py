"""``stoptriage compare``: the same rates on a baseline and a candidate, tested, worst first.

Two sets of paths (BASELINE then CANDIDATE), or one export cut in two with
``--split COLUMN`` or ``--before/--after TIME``. On a terminal: the findings as
sentences (significant worsenings in bold red), then a compact table; piped or with
``-o``: the whole frame of :func:`stoptriage.reports.compare.compare`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import stoptriage

from ..errors import ConfigError
from ..reports.common import MIN_RATE_ROWS
from ..reports.compare import FDR, compare as compare_frames, split as split_frame
from . import options as o

#: Findings printed per section on a terminal before the rest are only counted.
MAX_FINDINGS = 10
#: Worsenings that could be chance, printed after the significant ones.
MAX_CHANCE_FINDINGS = 3


def changed() -> pl.Expr:
    """Rows the terminal table keeps without --all: the candidate is worse, or the
    rate moved (for a group too small for a rate: the count moved)."""
    counts_moved = pl.col("baseline_count") != pl.col("candidate_count")
    return pl.col("worse").fill_null(False) | pl.coalesce(pl.col("change") != 0, counts_moved)


def _rate_cell(count: int, eligible: int, value: float | None, min_rows: int) -> str:
    if value is None:
        return f"n<{min_rows} ({count}/{eligible})"
    return f"{value:.1%} ({count}/{eligible})"


def _ratio_cell(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return "new" if ratio == float("inf") else f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def _print_findings(console: Console, texts: pl.Series, mark: str, style: str) -> None:
    """Each finding after ``mark``, wrapped lines indented under the text."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for text in texts:
        grid.add_row(f" {mark}", Text(text, style=style))
    console.print(grid)


def print_compare(df: pl.DataFrame, by: list[str], min_rows: int, top: int, show_all: bool, console: Console | None = None) -> None:
    """Terminal view of a compare frame: findings as sentences, then the top rows.

    Findings: every significant worsening (bold red, at most MAX_FINDINGS), or a
    line saying there is none; then up to MAX_CHANCE_FINDINGS worsenings that could
    be chance; then how many rows were too small to test. Table: the first ``top``
    rows in the frame's order, only rows where something changed unless
    ``show_all``; rates as ``1.5% (18/1200)``, too-small sides as ``n<20 (1/14)``,
    ``pts`` = change x 100 (percentage points), ``new`` for a ratio from 0.
    """
    console = console or Console()
    worse = pl.col("worse").fill_null(False)
    sig = pl.col("significant").fill_null(False)
    tested = df.filter(pl.col("p_value").is_not_null()).height
    bad = df.filter(worse & sig)
    if bad.height:
        console.print(f"[bold]Significant worsenings[/bold] (q <= {FDR} over {tested} tested rows):")
        _print_findings(console, bad["finding"].head(MAX_FINDINGS), "▲", "bold red")
        if bad.height > MAX_FINDINGS:
            console.print(f"[dim]  … {bad.height - MAX_FINDINGS} more significant worsenings[/dim]")
    else:
        console.print(f"[green]No significant worsening[/green] (q <= {FDR} over {tested} tested rows).")
    maybe = df.filter(worse & ~sig)
    if maybe.height:
        console.print("Worse, but could be chance:")
        _print_findings(console, maybe["finding"].head(MAX_CHANCE_FINDINGS), "△", "yellow")
        if maybe.height > MAX_CHANCE_FINDINGS:
            console.print(f"[dim]  … {maybe.height - MAX_CHANCE_FINDINGS} more[/dim]")
    small = df.filter(pl.col("note").is_not_null()).height
    if small:
        console.print(f"[dim]{small} rows too small to test (fewer than {min_rows} eligible rows on a side; --min-rows to change).[/dim]")
    shown = df if show_all else df.filter(changed())
    if shown.height == 0:
        console.print("[dim]No rate changed (--all shows every row).[/dim]")
        return
    headers = (*by, "metric", "baseline", "candidate", "ratio", "pts", "p", "q")
    cells, styles = [], []
    for row in shown.head(top).iter_rows(named=True):
        if row["note"] is not None:
            styles.append("dim")
        elif row["worse"] and row["significant"]:
            styles.append("bold red")
        elif row["worse"]:
            styles.append("yellow")
        else:
            styles.append("green" if row["significant"] else None)
        cells.append(
            [
                *[str(row[k]) for k in by],
                f"{row['kind']} {row['metric']}",
                _rate_cell(row["baseline_count"], row["baseline_eligible"], row["baseline_rate"], min_rows),
                _rate_cell(row["candidate_count"], row["candidate_eligible"], row["candidate_rate"], min_rows),
                _ratio_cell(row["ratio"]),
                "" if row["change"] is None else f"{row['change'] * 100:+.1f}",
                "" if row["p_value"] is None else f"{row['p_value']:.1g}",
                "" if row["q_value"] is None else f"{row['q_value']:.1g}",
            ]
        )
    # One line per row when it fits; else the metric and the rates break at their space.
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    split_at = (len(by), len(by) + 1, len(by) + 2) if sum(widths) + 2 * len(widths) > console.width else ()
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False, collapse_padding=True)
    for i, name in enumerate(headers):
        numeric = name in ("ratio", "pts", "p", "q")
        table.add_column(name, no_wrap=True, overflow="ellipsis", justify="right" if numeric else "left")
    for row_cells, style in zip(cells, styles, strict=True):
        table.add_row(*[c.replace(" ", "\n", 1) if i in split_at else c for i, c in enumerate(row_cells)], style=style)
    console.print()
    console.print(table)
    notes = []
    if shown.height > top:
        notes.append(f"{shown.height - top} more rows (--top N)")
    if shown.height < df.height:
        notes.append(f"{df.height - shown.height} unchanged rows hidden (--all)")
    if notes:
        console.print(f"[dim]{'; '.join(notes)}; --format csv or -o FILE for every row.[/dim]")


def _rows(frame: pl.LazyFrame) -> int:
    return frame.select(pl.len()).collect().item()


def compare(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="BASELINE then CANDIDATE (each a file, directory or quoted glob); with --split/--before/--after, one or more exports.",
            show_default=False,
        ),
    ],
    by: o.By = "route",
    split: Annotated[Optional[str], typer.Option("--split", help="Cut one export in two by this column's values (e.g. prompt_version).")] = None,
    baseline_value: Annotated[Optional[str], typer.Option("--baseline-value", help="With --split: the baseline's value (default: the first of exactly two, sorted).")] = None,
    candidate_value: Annotated[Optional[str], typer.Option("--candidate-value", help="With --split: the candidate's value (default: the second of exactly two, sorted).")] = None,
    before: Annotated[Optional[str], typer.Option("--before", help="Baseline = rows with timestamp before this ISO 8601 time (no offset = UTC).")] = None,
    after: Annotated[Optional[str], typer.Option("--after", help="Candidate = rows with timestamp at or after this ISO 8601 time (no offset = UTC).")] = None,
    min_rows: Annotated[int, typer.Option("--min-rows", min=1, help="Eligible rows each side needs for a rate and a test.")] = MIN_RATE_ROWS,
    show_all: Annotated[bool, typer.Option("--all", help="Terminal table: also rows whose rate did not change.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Terminal table: rows shown.")] = 20,
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
    """Compare rates per group on a baseline and a candidate: ratio, change, Fisher's exact p, worst first."""
    cols = o.by_columns(by)
    if split is not None and split in cols:
        raise ConfigError(f"--split {split} is also a --by column: each group would be on one side only")
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())

    def load(some: list[str]) -> stoptriage.Classified:
        return o.load(some, input_format, mapping, route, phrases, continuation, strict, quiet)

    with o.reading(paths, quiet):
        if any(v is not None for v in (split, baseline_value, candidate_value, before, after)):
            res = load(paths)
            base, cand, desc = split_frame(res.frame, split, baseline_value, candidate_value, before, after)
        else:
            if len(paths) != 2:
                raise ConfigError(
                    f"compare takes two paths, BASELINE then CANDIDATE (each a file, directory or quoted glob), "
                    f"or one or more exports with --split COLUMN or --before/--after TIME; got {len(paths)} path(s)"
                )
            if paths == ["-", "-"]:
                raise ConfigError("compare: stdin ('-') can be one side only")
            base, cand = load([paths[0]]).frame, load([paths[1]]).frame
            desc = f"baseline: {paths[0]}, {_rows(base)} rows; candidate: {paths[1]}, {_rows(cand)} rows"
        df = compare_frames(base, cand, cols, min_rows=min_rows)
        if not quiet:
            o.err_console.print(f"stoptriage: {desc}", markup=False)
            for side, frame in (("baseline", base), ("candidate", cand)):
                if _rows(frame) == 0:
                    o.err_console.print(f"stoptriage: warning: the {side} has no rows: every rate on it is null", markup=False)
            sig = df.filter(pl.col("worse") & pl.col("significant")).height
            tested = df.filter(pl.col("p_value").is_not_null()).height
            o.err_console.print(
                f"stoptriage: {df.height} rows compared, {tested} tested, {sig} significant worsening(s) (q <= {FDR})",
                markup=False,
            )
    if chosen == "table":
        print_compare(df, cols, min_rows, top, show_all)
        return
    stoptriage.render.write(df, chosen, out, title=f"stoptriage compare --by {','.join(cols)}")
