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
from rich.console import Console
from rich.table import Table

from .errors import ConfigError

FORMATS = ("table", "csv", "jsonl", "parquet")
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


def flatten_for_csv(df: pl.DataFrame) -> pl.DataFrame:
    """Make every column CSV-safe: enums to text, list[str] joined by ';', other
    nested values to JSON text."""
    exprs = []
    for name, dtype in df.schema.items():
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
        df.with_columns([pl.col(n).cast(pl.String) for n, d in df.schema.items() if isinstance(d, pl.Enum)]).write_ndjson(target)
    elif fmt == "parquet":
        df.write_parquet(target)
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
    table = Table(title=title, show_lines=False, header_style="bold")
    for name in df.columns:
        table.add_column(name, overflow="fold")
    for row in df.head(max_rows).iter_rows():
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if df.height > max_rows:
        console.print(f"[dim]… {df.height - max_rows} more rows (use --format csv or -o FILE for all)[/dim]")
