"""``stoptriage diff``: per group, stop_reason x derived_stop, disagreement rate, rules."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import stoptriage

from . import options as o


def diff(
    paths: o.Paths,
    by: o.By = "route",
    examples: Annotated[int, typer.Option("--examples", min=0, help="Quote N disagreeing rows (file:line «output_tail») per pair.")] = 0,
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
    """Disagreement report: stop_reason x derived_stop counts and rates per group (with the group's p50/p95 output tokens), worst first."""
    cols = o.by_columns(by)
    # The long part (reading, classifying, the streaming run), under the progress display.
    with o.reading(paths, quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        df = stoptriage.diff(res.frame, cols, examples=examples).collect(engine="streaming")
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if chosen == "table":
        stoptriage.render.print_diff(df, cols)
        return
    stoptriage.render.write(df, chosen, out, title=f"stoptriage diff --by {','.join(cols)}")
