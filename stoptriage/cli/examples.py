"""``stoptriage examples``: the rows behind a number, with their evidence and a remediation hint."""

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
from rich.text import Text

import stoptriage

from ..reports.examples import examples as build_examples
from ..reports.examples import selector
from . import options as o

#: Rows shown on a terminal when --limit is not given (piped or -o: all rows).
TERMINAL_LIMIT = 20
#: Characters at the end of output_tail styled so the cut is visible.
CUT_CHARS = 6
_NEWLINE = re.compile(r"[ \t]*\r?\n\s*")


def tail_text(tail: str | None, chars: int | None) -> Text:
    """``output_tail`` as rich Text: ``…`` when the output is longer than the tail,
    a line break and the indentation around it shown as one ``⏎``, the last CUT_CHARS characters in reverse video so
    where the text stops is visible. Text objects are never parsed as markup."""
    if not tail:
        return Text("(empty)", style="dim")
    shown = _NEWLINE.sub("⏎", tail)
    cut = min(CUT_CHARS, len(shown))
    head = "…" if (chars or 0) > len(tail) else ""
    return Text.assemble(head, shown[:-cut] if cut < len(shown) else "", (shown[-cut:], "bold reverse"))


def print_examples(df: pl.DataFrame, by: list[str], shared_hint: str | None, console: Console | None = None) -> None:
    """Terminal view of an examples frame: file:line over route, the ``by`` columns,
    stop_reason over derived_stop, alerts, evidence and the highlighted output_tail.
    The hint is printed once above the table when every row shares it, else once per
    derived class below it. Every cell is escaped (rich.markup.escape) or a Text."""
    console = console or Console()
    if shared_hint:
        console.print(Text.assemble(("hint: ", "bold"), shared_hint))
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_lines=True)
    extra = [b for b in by if b != "route"]
    for name in ["where / route", *extra, "stop_reason / derived", "alerts", "evidence", "output_tail"]:
        # The short columns keep their width; the evidence and the tail share the rest and fold.
        ratio = {"evidence": 3, "output_tail": 2}.get(name)
        table.add_column(name, overflow="fold", no_wrap=ratio is None and name != "alerts", ratio=ratio, min_width=12 if ratio else None)
    for row in df.iter_rows(named=True):
        where = f"{row['source_file']}:{row['source_line']}" if row["source_line"] is not None else str(row["source_file"])
        cells = [
            escape(f"{where}\n{row['route']}"),
            *[escape("" if row[b] is None else str(row[b])) for b in extra],
            escape(f"{row['stop_reason']}\n→ {row['derived_stop']}"),
            escape("\n".join(row["alerts"] or [])),
            escape(row["evidence"] or ""),
            tail_text(row["output_tail"], row["output_chars"]),
        ]
        table.add_row(*cells)
    console.print(table)
    if not shared_hint:
        hints = df.filter(pl.col("hint").is_not_null()).select("derived_stop", "hint").unique(maintain_order=True)
        for derived, hint in hints.iter_rows():
            console.print(Text.assemble(("hint ", "bold"), (f"{derived}: ", "bold"), hint))


def examples(
    paths: o.Paths,
    rule: Annotated[Optional[str], typer.Option("--rule", help="Rows this alert rule fired on (e.g. truncated_json).")] = None,
    derived: Annotated[Optional[str], typer.Option("--derived", help="Rows of this derived class (e.g. truncated, refusal).")] = None,
    disagree: Annotated[bool, typer.Option("--disagree", help="Rows whose derived_stop disagrees with their stop_reason.")] = False,
    limit: Annotated[
        Optional[int],
        typer.Option("--limit", min=0, help=f"Show the first N matching rows. Default: {TERMINAL_LIMIT} on a terminal, all when piped or with -o."),
    ] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Extra columns to show after route, comma-separated (e.g. prompt_version,model).")] = None,
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
    """The rows behind a number: one of --rule NAME, --derived CLASS or --disagree, in input order.

    Each row: route, ids, file:line, stop_reason, derived_stop, alerts, the evidence
    (e.g. truncation_cue=token_cap; json_error=...), output_tail and a remediation hint.
    """
    cols = [c.strip() for c in (by or "").split(",") if c.strip()]
    selector(rule, derived, disagree)  # bad selector: exit 2 before reading
    chosen = stoptriage.render.choose_format(fmt, out, sys.stdout.isatty())
    if limit is None and chosen == "table":
        limit = TERMINAL_LIMIT
    with o.reading(paths, quiet):
        res = o.load(paths, input_format, mapping, route, phrases, continuation, strict, quiet)
        result = build_examples(res.frame, rule=rule, derived=derived, disagree=disagree, by=cols, limit=limit)
    if not quiet:
        o.err_console.print(f"stoptriage: {result.matched} of {result.rows} rows match; showing {result.frame.height}")
    if chosen == "table":
        hints = result.frame["hint"].unique()
        shared = hints[0] if (rule or derived) and hints.len() == 1 else None
        print_examples(result.frame, cols, shared)
        return
    what = f"--rule {rule}" if rule else f"--derived {derived}" if derived else "--disagree"
    stoptriage.render.write(result.frame, chosen, out, title=f"stoptriage examples {what}")
