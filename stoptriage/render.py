"""Render frames: a rich table on a terminal; CSV, JSON lines or Parquet for pipes and files.

Nested columns are flattened for CSV only: a list of strings (``alerts``) is joined
with ``;``, a list of structs (``tool_calls``) becomes JSON text. JSON lines and
Parquet keep the nested types.
"""

from __future__ import annotations

import io
import sys
from typing import IO

import polars as pl
from rich import box
from rich.console import Console
from rich.table import Table

from .errors import ConfigError

FORMATS = ("table", "csv", "jsonl", "parquet")
#: Parquet writer options for every Parquet stoptriage writes (write_parquet and
#: sink_parquet accept both). zstd level 1 writes the 1M-row classify output in 0.58 s
#: of CPU against 0.93 s at Polars' default level 3, for a 2% larger file (36.7 vs
#: 36.0 MB); snappy is as fast but 1.7x larger (measured in issue 6).
PARQUET_OPTIONS: dict = {"compression": "zstd", "compression_level": 1}
_EXT = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def choose_format(requested: str | None, out_path: str | None, is_tty: bool) -> str:
    """Output format: ``requested``, else from ``out_path``'s extension, else
    ``table`` on a terminal and ``csv`` when stdout is piped. Raises ConfigError."""
    if requested:
        if requested not in FORMATS:
            raise ConfigError(f"--format {requested}: choose one of {', '.join(FORMATS)}")
        if requested == "table" and out_path:
            raise ConfigError("--format table writes to the terminal only; use csv, jsonl or parquet with -o")
        return requested
    if out_path:
        for ext, fmt in _EXT.items():
            if out_path.lower().endswith(ext):
                return fmt
        return "csv"
    return "table" if is_tty else "csv"


def enums_as_text(df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Enum columns cast to text, the rest unchanged (for JSON lines, which write an
    Enum's text; render.write and classify's streaming sink both use it). A DataFrame
    gives a DataFrame, a LazyFrame a LazyFrame."""
    return df.with_columns([pl.col(n).cast(pl.String) for n, d in df.collect_schema().items() if isinstance(d, pl.Enum)])


def flatten_for_csv(df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Make every column CSV-safe: enums to text, list[str] joined by ';', other
    nested values to JSON text. A DataFrame gives a DataFrame, a LazyFrame a LazyFrame
    (classify streams its CSV through it)."""
    exprs = []
    for name, dtype in df.collect_schema().items():
        col = pl.col(name)
        if isinstance(dtype, pl.Enum | pl.Categorical):
            exprs.append(col.cast(pl.String))
        elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
            exprs.append(col.list.join(";"))
        elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            exprs.append(pl.concat_str([pl.lit("["), col.list.eval(pl.element().struct.json_encode()).list.join(","), pl.lit("]")]))
        elif isinstance(dtype, pl.Struct):
            exprs.append(col.struct.json_encode())
        else:
            exprs.append(col)
    return df.select(exprs)


def write(df: pl.DataFrame, fmt: str, out_path: str | None, title: str | None = None, console: Console | None = None) -> None:
    """Write ``df`` as ``fmt`` to ``out_path`` (or stdout)."""
    if fmt == "table":
        print_table(df, title=title, console=console)
        return
    target: IO[bytes] | str
    if out_path:
        target = out_path
    else:
        target = io.BytesIO()
    if fmt == "csv":
        flatten_for_csv(df).write_csv(target)
    elif fmt == "jsonl":
        enums_as_text(df).write_ndjson(target)
    elif fmt == "parquet":
        df.write_parquet(target, **PARQUET_OPTIONS)
    if not out_path:
        sys.stdout.buffer.write(target.getvalue())  # type: ignore[union-attr]
        sys.stdout.flush()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def print_table(df: pl.DataFrame, title: str | None = None, console: Console | None = None, max_rows: int = 200) -> None:
    """A rich table of ``df`` (first ``max_rows`` rows, with a note when cut)."""
    console = console or Console()
    table = Table(title=title, show_lines=False, header_style="bold", box=box.SIMPLE_HEAD)
    shown = df.head(max_rows)
    last = df.columns[-1] if df.columns else None
    for name in df.columns:
        # Every column but the last gets the width of its header or widest cell (at
        # most 40) on one line; the last (the evidence, e.g. output_tail) folds.
        if name == last:
            table.add_column(name, overflow="fold", min_width=len(name))
            continue
        cells = [len(_cell(v)) for v in shown[name].to_list()]
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=min(max([len(name), *cells]), 40))
    for row in shown.iter_rows():
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if df.height > max_rows:
        console.print(f"[dim]… {df.height - max_rows} more rows (use --format csv or -o FILE for all)[/dim]")


def print_diff(df: pl.DataFrame, by: list[str], console: Console | None = None, max_groups: int = 30) -> None:
    """Terminal view of a diff frame: one small table per group, worst group first.

    Each group's heading gives its rows and disagreement rate; each pair row its
    count, share, whether it disagrees, the rules that fired (``rule×n``) and, when
    present, the quoted examples.
    """
    console = console or Console()
    rule_cols = [c for c in df.columns if c.startswith("rule_")]
    groups = df.select(by).unique(maintain_order=True)
    for i, key in enumerate(groups.iter_rows(named=True)):
        if i == max_groups:
            console.print(f"[dim]… {groups.height - max_groups} more groups (use --format csv for all)[/dim]")
            break
        part = df.filter(pl.all_horizontal([pl.col(k).eq_missing(v) for k, v in key.items()]))
        first = part.row(0, named=True)
        label = ", ".join(f"{k}={v}" for k, v in key.items())
        table = Table(
            title=f"{label}: {first['group_rows']} rows, {first['group_disagreement_rate']:.1%} disagree",
            title_justify="left",
            header_style="bold",
        )
        for name in ("stop_reason", "derived_stop", "count", "share", "disagrees", "alerts"):
            table.add_column(name, no_wrap=name != "alerts")
        has_examples = "examples" in part.columns
        if has_examples:
            table.add_column("examples", overflow="fold")
        for row in part.iter_rows(named=True):
            fired = ", ".join(f"{c[5:]}×{row[c]}" for c in rule_cols if row[c])
            cells = [row["stop_reason"], row["derived_stop"], str(row["count"]), f"{row['share']:.1%}", "yes" if row["disagrees"] else "", fired]
            if has_examples:
                cells.append(row["examples"] or "")
            style = "red" if row["disagrees"] else None
            table.add_row(*cells, style=style)
        console.print(table)
