"""``stoptriage classify``: one row per response with the derived stop taxonomy."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import stoptriage

from . import options as o

#: Columns shown in the terminal table (all columns go to csv/jsonl/parquet).
TABLE_COLUMNS = ["source_line", "route", "provider", "provider_stop_reason", "stop_reason", "derived_stop", "disagrees", "alerts", "output_tail"]


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
    res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
    cols = stoptriage.output_columns(res.frame, include_bulky=include_text)
    if include_text:
        cols = [c for c in cols if c != "tool_schemas"]
    df = res.frame.select(cols).collect()
    if not quiet:
        o.err_console.print(f"stoptriage: {df.height} responses classified, {int(df['disagrees'].sum() or 0)} disagree with their stop reason")
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if chosen == "table":
        df = df.select([c for c in TABLE_COLUMNS if c in df.columns])
    stoptriage.render.write(df, chosen, out, title="stoptriage classify")
