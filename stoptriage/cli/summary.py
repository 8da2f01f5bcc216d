"""``stoptriage summary``: one screen per export."""

from __future__ import annotations

import sys
from typing import Annotated

import polars as pl
import typer

import stoptriage

from . import options as o


def summary(
    paths: o.Paths,
    worst: Annotated[int, typer.Option("--worst", min=1, help="How many worst routes to list.")] = 5,
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
    """Rows, providers/models/routes, rate of each derived class and alert rule, worst routes."""
    # The long part (reading, classifying, the streaming run), under the progress display.
    with o.reading(paths, quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        parts = stoptriage.summary(res.frame, worst=worst)
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if chosen == "table":
        for name, df in parts.items():
            stoptriage.render.print_table(df, title=name)
        return
    # Piped: one long table, (section, key, rows, rate), easy to grep or load.
    long = []
    ov = parts["overview"].row(0, named=True)
    for k, v in ov.items():
        long.append({"section": "overview", "key": k, "rows": None if k == "disagreement_rate" else int(v), "rate": float(v) if k == "disagreement_rate" else None})
    frames = [pl.DataFrame(long, schema={"section": pl.String, "key": pl.String, "rows": pl.Int64, "rate": pl.Float64})]
    for section, key, rate in [("providers", "provider", None), ("models", "model", None), ("stop_reasons", "stop_reason", "rate"), ("derived", "derived_stop", "rate"), ("alerts", "rule", "rate"), ("worst_routes", "route", "disagreement_rate")]:
        df = parts[section]
        frames.append(
            df.select(
                pl.lit(section).alias("section"),
                pl.col(key).cast(pl.String).alias("key"),
                pl.col("rows").cast(pl.Int64),
                (pl.col(rate).cast(pl.Float64) if rate else pl.lit(None, dtype=pl.Float64)).alias("rate"),
            )
        )
    stoptriage.render.write(pl.concat(frames), chosen, out)
