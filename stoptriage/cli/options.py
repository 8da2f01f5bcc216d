"""The one shared set of input and output options, and the shared read/report step."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import polars as pl
import typer
from rich.console import Console

import stoptriage

from ..errors import ConfigError, StrictModeError

#: Problems listed one per line on stderr before the rest are only counted.
MAX_PROBLEM_LINES = 50

Paths = Annotated[list[str], typer.Argument(help="Export files, globs or directories; '-' reads stdin.", show_default=False)]
InputFormat = Annotated[Optional[str], typer.Option("--input-format", help="Force the input format (see 'stoptriage formats').")]
Map = Annotated[Optional[list[str]], typer.Option("--map", help="canonical_name=source_column for flat tables; repeatable.")]
Route = Annotated[Optional[str], typer.Option("--route", help="Column or top-level key holding the route (default: 'route', else \"unknown\").")]
Phrases = Annotated[Optional[list[str]], typer.Option("--phrases", help="Extra soft-refusal phrase file (one phrase a line, '!' = not a refusal); repeatable.")]
Continuation = Annotated[Optional[list[str]], typer.Option("--continuation", help="Extra continuation-word file (one word a line); repeatable.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 3 when any record could not be read.")]
Format = Annotated[Optional[str], typer.Option("--format", "-f", help="table | csv | jsonl | parquet (default: table on a terminal, csv when piped, else from -o's extension).")]
Output = Annotated[Optional[str], typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
By = Annotated[str, typer.Option("--by", help="Group columns, comma-separated (e.g. route or route,model).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display, counts or warnings on stderr (errors still print).")]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


#: Rows per morsel (the streaming engine's unit of work) while a command runs:
#: ``pl.Config(streaming_chunk_size=...)``. Polars 2.1's default (100,000 rows) let
#: the classify sink's peak RSS swing from 1 to 7 GB at 10M rows on this project's
#: synthetic exports (long output texts: the case Config.set_streaming_chunk_size's
#: own docstring warns about); 25,000 held it near 1 GB at ~5% more time
#: (benchmarks/bench_stream.py).
STREAM_CHUNK_ROWS = 25_000


@contextmanager
def reading(paths: list[str], quiet: bool) -> Iterator[None]:
    """Context manager for a command's reading and computing (its ``load`` and its
    collect/sink calls; write stdout after). Inside it, the streaming engine works in
    morsels of STREAM_CHUNK_ROWS rows (``pl.Config``, restored on exit), and the
    progress display of :func:`progress.running` shows on stderr (inputs, bytes read,
    elapsed time), only on an interactive terminal and without --quiet
    (:func:`progress.wanted`), from 1 s on."""
    from . import progress  # rich.progress takes ~50 ms to import: only for a command that reads

    with pl.Config(streaming_chunk_size=STREAM_CHUNK_ROWS), progress.running(paths, console=err_console, enabled=progress.wanted(err_console, quiet)):
        yield


def by_columns(by: str) -> list[str]:
    """``--by "route, model"`` -> ["route", "model"]. Raises ConfigError (exit 2) when empty."""
    cols = [c.strip() for c in by.split(",") if c.strip()]
    if not cols:
        raise ConfigError("--by needs at least one column")
    return cols


def parse_map(items: list[str] | None) -> dict[str, str]:
    """``["output_text=completion", ...]`` -> {"output_text": "completion"}. Raises ConfigError."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--map {item}: expected canonical_name=source_column")
        dst, src = (part.strip() for part in item.split("=", 1))
        if not dst or not src:
            raise ConfigError(f"--map {item}: expected canonical_name=source_column")
        out[dst] = src
    return out


def load(paths: list[str], input_format, mapping, route, phrases, continuation, strict: bool, quiet: bool) -> stoptriage.Classified:
    """Read and classify; report formats and unreadable records on stderr."""
    stdin = sys.stdin.buffer.read() if "-" in paths else None
    res = stoptriage.classify(
        paths,
        input_format=input_format,
        mapping=parse_map(mapping),
        route=route,
        phrases=phrases,
        continuation=continuation,
        stdin=stdin,
    )
    report_problems(res.report, quiet)
    if strict and res.report.failures.height:
        raise StrictModeError(f"--strict: {res.report.failures.height} record(s) could not be read (listed above)")
    return res


def report_problems(report: stoptriage.IngestReport, quiet: bool) -> None:
    """stderr: formats read, then each unreadable record as file:line: kind: reason."""
    if quiet:
        return
    for path, fmt in report.formats.items():
        err_console.print(f"stoptriage: {path}: read as {fmt}")
    for row in report.skipped.iter_rows(named=True):
        err_console.print(f"stoptriage: {row['source_file']}: {row['reason']}", markup=False)
    failures = report.failures
    for row in failures.head(MAX_PROBLEM_LINES).iter_rows(named=True):
        where = row["source_file"] if row["source_line"] is None else f"{row['source_file']}:{row['source_line']}"
        err_console.print(f"stoptriage: {where}: {row['kind']}: {row['reason']}", markup=False)
    if failures.height > MAX_PROBLEM_LINES:
        err_console.print(f"stoptriage: … and {failures.height - MAX_PROBLEM_LINES} more records not read")
    counts = report.counts()
    if counts:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        err_console.print(f"stoptriage: records not read: {sum(v for k, v in counts.items() if k != 'blank_line')} ({parts})")

