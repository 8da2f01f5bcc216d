"""Flat tables (Parquet, CSV, JSON lines) whose columns already use canonical names.

Only ``output_text`` and ``provider_stop_reason`` are required (taxonomy.md §1);
``--map canonical=source`` renames columns of exports that name them otherwise.
CSV and JSON-lines tables are read with every column as text (no type inference
from the file) and then cast per the canonical schema; a value that does not fit
its canonical type is reported as ``bad_value`` with its row and becomes null.
``source_line`` is the 0-based row index for Parquet and CSV, the 1-based line for
JSON lines.
"""

from __future__ import annotations

import io

import polars as pl

from ..errors import MissingColumnError
from ..schema import CANONICAL, REQUIRED_FLAT, TOOL_CALL, TOOL_SCHEMA
from .jsonl import RAW, all_keys, jp, key_path, line_problems, read_checked_lines, robust_decode, to_int
from .problems import BAD_VALUE
from .responses import parse_timestamp
from .source import CSV, JSONL, PARQUET, Format, Source

_TRUE = ["true", "1", "yes", "t", "y"]
_FALSE = ["false", "0", "no", "f", "n"]


def _from_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """Cast a text column to its canonical dtype; a misfit becomes null."""
    c = pl.col(name)
    if dtype == pl.Boolean:
        low = c.str.strip_chars().str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
    if dtype == pl.Int64:
        return to_int(c.str.strip_chars())
    if isinstance(dtype, pl.Datetime):
        return parse_timestamp(c.str.strip_chars())
    if dtype == pl.List(TOOL_CALL) or dtype == pl.List(TOOL_SCHEMA):
        return robust_decode(c, dtype)
    return c


def _apply_map(lf: pl.LazyFrame, mapping: dict[str, str], path: str) -> pl.LazyFrame:
    names = lf.collect_schema().names()
    missing = [src for src in mapping.values() if src not in names]
    if missing:
        raise MissingColumnError(f"{path}: --map names column(s) {', '.join(missing)} that the file does not have (it has: {', '.join(names[:20])})")
    # Source columns renamed; a canonical column of the same name is replaced.
    drop = [dst for dst, src in mapping.items() if dst in names and dst != src]
    return lf.drop(drop).rename({src: dst for dst, src in mapping.items()})


def _check_required(names: list[str], path: str) -> None:
    missing = [c for c in REQUIRED_FLAT if c not in names]
    if missing:
        raise MissingColumnError(
            f"{path}: missing required column(s) {', '.join(missing)}; a flat table needs "
            f"{' and '.join(REQUIRED_FLAT)} (use --map {missing[0]}=YOUR_COLUMN); it has: {', '.join(names[:20])}"
        )


def _misfits(lf: pl.LazyFrame, names: list[str], casts: dict[str, pl.DataType], path: str) -> list[pl.DataFrame]:
    """One problem row (kind BAD_VALUE) per value of a text column in ``names`` that did
    not fit its canonical dtype: not blank, and null after :func:`_from_text`. ``lf``
    has ``source_line``, the text columns and their ``_typed_<name>`` conversions.
    The per-column queries run together (``pl.collect_all``: one pass over ``lf``)."""
    bad = []
    for n in names:
        misfit = pl.col(n).is_not_null() & (pl.col(n).str.strip_chars() != "") & pl.col(f"_typed_{n}").is_null()
        bad.append(
            lf.filter(misfit).select(
                pl.lit(path).alias("source_file"),
                "source_line",
                pl.lit(BAD_VALUE).alias("kind"),
                pl.concat_str([pl.lit(f"column {n}: expected {casts[n]}, got "), pl.col(n).str.slice(0, 60)]).alias("reason"),
            )
        )
    return pl.collect_all(bad)


def _typed(lf: pl.LazyFrame, path: str, text_columns: bool) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Cast canonical columns; report values of text columns that did not fit.

    A typed source (Parquet) stays lazy: its columns are cast as they stream, and a
    column that holds text where the canonical dtype is not text (a timestamp written
    as a string) is converted as a text source's would be, its misfits found by one
    pass over those columns alone."""
    schema = lf.collect_schema()
    casts = {n: d for n, d in CANONICAL.items() if n in schema and n not in ("source_file", "source_line")}
    if not text_columns:
        as_text = [n for n, d in casts.items() if schema[n] == pl.String and d != pl.String]
        fix = [
            _from_text(n, d).alias(n) if n in as_text else pl.col(n).cast(d, strict=False) if schema[n] != d else pl.col(n)
            for n, d in casts.items()
        ]
        if not as_text:
            return lf.with_columns(fix), pl.DataFrame()
        narrow = lf.select("source_line", *as_text).with_columns([_from_text(n, casts[n]).alias(f"_typed_{n}") for n in as_text])
        return lf.with_columns(fix), pl.concat(_misfits(narrow, as_text, casts, path))
    checked = [n for n, d in casts.items() if d != pl.String]
    df = lf.with_columns([_from_text(n, casts[n]).alias(f"_typed_{n}") for n in checked]).collect()
    bad = _misfits(df.lazy(), checked, casts, path)
    df = df.with_columns([pl.col(f"_typed_{n}").alias(n) for n in checked]).drop([f"_typed_{n}" for n in checked])
    problems = pl.concat(bad) if bad else pl.DataFrame()
    return df.lazy(), problems


def read(path: str, kind: str, mapping: dict[str, str], data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a flat table.

    Input: display path, ``kind`` (container) in {"parquet", "csv", "jsonl"}, the ``--map``
    mapping (canonical name -> source column), optional stdin bytes.
    Output: (LazyFrame with canonical columns typed where present plus all other
    columns untouched, problems DataFrame). Raises MissingColumnError when a
    required column is absent after mapping.
    """
    problems = []
    if kind == "parquet":
        src = io.BytesIO(data) if data is not None else path
        lf = pl.scan_parquet(src) if data is None else pl.read_parquet(src).lazy()
        lf = lf.with_row_index("source_line").with_columns(pl.col("source_line").cast(pl.Int64))
        text_columns = False
    elif kind == "csv":
        src = data if data is not None else path
        lf = pl.scan_csv(src, infer_schema=False) if data is None else pl.read_csv(src, infer_schema=False).lazy()
        lf = lf.with_row_index("source_line").with_columns(pl.col("source_line").cast(pl.Int64))
        text_columns = True
    else:
        df = read_checked_lines(path, data)
        problems.append(line_problems(df, path))
        df = df.filter(pl.col("_error").is_null())
        keys = [k for k in all_keys(df) if k != "source_line"]
        lf = df.lazy().select("source_line", *[jp(RAW, key_path(k)).alias(k) for k in keys])
        text_columns = True
    if mapping:
        lf = _apply_map(lf, mapping, path)
    _check_required(lf.collect_schema().names(), path)
    lf, bad = _typed(lf, path, text_columns)
    if bad.height:
        problems.append(bad)
    lf = lf.with_columns(pl.lit(path).alias("source_file"))
    return lf, (pl.concat(problems, how="vertical_relaxed") if problems else pl.DataFrame())


def _read_source(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    return read(src.path, src.container, src.mapping, src.data)


FORMATS = [
    Format(
        "table",
        "flat table with canonical column names (output_text, provider_stop_reason, ...; --map renames): "
        "Parquet (magic PAR1), CSV (header line) or JSON lines of flat objects",
        _read_source,
        containers=(PARQUET, CSV, JSONL),
    )
]
