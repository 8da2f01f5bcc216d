"""``stoptriage classify``: one row per response with the derived stop taxonomy.

The rows are streamed, never collected: the classified LazyFrame goes straight to
Polars' streaming sinks (``sink_parquet`` / ``sink_csv`` / ``sink_ndjson``), to the
``-o`` file or to stdout (Polars 2.1 sinks to a binary file object), in input
order. The stderr count (rows, disagreements) is a second output of the same
streaming run (``pl.collect_all``: the plan runs once and feeds both). The
terminal table needs the first rows only: the first TABLE_ROWS rows and the count
are the two outputs of one run. Peak memory is then bounded by the engine's
buffers, not by the input (benchmarks/bench_stream.py measures it).
"""

from __future__ import annotations

import sys
from typing import IO, Annotated

import polars as pl
import typer
from rich.console import Console

import stoptriage

from . import options as o

#: Columns shown in the terminal table (all columns go to csv/jsonl/parquet).
TABLE_COLUMNS = ["source_line", "route", "provider", "provider_stop_reason", "stop_reason", "derived_stop", "disagrees", "alerts", "output_tail"]
#: Rows shown in the terminal table (render.print_table's default).
TABLE_ROWS = 200


def counts(lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row: ``rows`` (u32) and ``disagreements`` (u32, disagrees true; nulls count as 0)."""
    return lf.select(pl.len().alias("rows"), pl.col("disagrees").sum().alias("disagreements"))


def sink(lf: pl.LazyFrame, fmt: str, target: str | IO[bytes]) -> pl.LazyFrame:
    """The lazy sink writing ``lf`` as ``fmt`` (csv, jsonl or parquet) to ``target`` (a
    path or a binary file object such as ``sys.stdout.buffer``); run it with
    ``collect``/``pl.collect_all``. CSV is flattened as render.flatten_for_csv does
    (enums to text, list[str] joined by ';', other nested values to JSON text); JSON
    lines keep nested values and write enums as text; Parquet keeps every type and
    uses render.PARQUET_OPTIONS, as render.write does."""
    if fmt == "csv":
        return stoptriage.render.flatten_for_csv(lf).sink_csv(target, lazy=True)
    if fmt == "jsonl":
        return stoptriage.render.enums_as_text(lf).sink_ndjson(target, lazy=True)
    if fmt == "parquet":
        return lf.sink_parquet(target, lazy=True, **stoptriage.render.PARQUET_OPTIONS)
    raise ValueError(f"cannot stream format {fmt!r}")


def classify(
    paths: o.Paths,
    input_format: o.InputFormat = None,
    mapping: o.Map = None,
    route: o.Route = None,
    phrases: o.Phrases = None,
    continuation: o.Continuation = None,
    strict: o.Strict = False,
    fmt: o.Format = None,
    out: o.Output = None,
    quiet: o.Quiet = False,
    include_text: Annotated[bool, typer.Option("--include-text", help="Also output output_text and tool_calls.")] = False,
) -> None:
    """Classify every response: provider stop reason, normalized stop_reason, derived_stop, evidence, alerts."""
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    # The long part (reading, classifying, the streaming run), under the progress display.
    with o.reading(paths, quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        cols = stoptriage.output_columns(res.frame, include_bulky=include_text)
        if include_text:
            cols = [c for c in cols if c != "tool_schemas"]
        lf = res.frame.select(cols)
        if chosen == "table":
            first, counted = pl.collect_all([lf.select([c for c in TABLE_COLUMNS if c in cols]).head(TABLE_ROWS), counts(lf)], engine="streaming")
        else:
            target = out if out else sys.stdout.buffer
            _, counted = pl.collect_all([sink(lf, chosen, target), counts(lf)], engine="streaming")
    n, disagreements = counted.row(0)
    if not quiet:
        o.err_console.print(f"stoptriage: {n} responses classified, {disagreements or 0} disagree with their stop reason")
    if chosen == "table":
        stoptriage.render.print_table(first, title="stoptriage classify")
        if n > first.height:
            Console().print(f"[dim]… {n - first.height} more rows (use --format csv or -o FILE for all)[/dim]")
    elif not out:
        sys.stdout.flush()
