"""Ingest: files of any supported export format -> one canonical LazyFrame.

Each file's container (JSON lines, JSON array / concatenated objects, Parquet,
CSV, text, SQLite) and then its format are sniffed from its content, never its
name (trace-formats.md §11); ``input_format`` forces a format. Every format is a
:class:`~.source.Format` declared by a small reader module of this package;
:data:`FORMATS` lists them in sniff order, and ``stoptriage formats`` prints
that list with how each is recognised. JSON records vote: the first format (in
sniff order) that recognises a record gets its vote, and the file is read by
the format with most votes among its first records.

Adding a format: write ``ingest/<name>.py`` exposing ``FORMATS = [Format(...)]``,
add the module to :data:`_MODULES` and the format name to :data:`SNIFF_ORDER`.
"""

from __future__ import annotations

import glob
import io
import os
import sqlite3
import sys
from pathlib import Path

import orjson
import polars as pl

from ..errors import ConfigError, InputFileError, InputFormatError, MissingColumnError
from ..schema import conform
from . import gemini_batch, helicone, langfuse, langsmith, litellm, llm_logs, otlp, phoenix, responses, streams, table
from .jsonl import to_json_lines
from .problems import UNREADABLE_FILE, IngestReport
from .source import CSV, JSON, JSONL, PARQUET, SQLITE, TEXT, Format, Source

#: Sniff order (trace-formats.md §11): the first format recognising a record wins.
SNIFF_ORDER = (
    "otlp",
    "otel-console",
    "llm-logs",
    "anthropic-batch",
    "openai-batch",
    "litellm",
    "helicone",
    "langsmith",
    "langfuse",
    "phoenix",
    "gemini-batch",
    "streams",
    "responses",
    "table",
)

_MODULES = (otlp, phoenix, langfuse, langsmith, litellm, helicone, gemini_batch, llm_logs, streams, responses, table)


def _registry() -> dict[str, Format]:
    found = [f for m in _MODULES for f in getattr(m, "FORMATS", [])]
    unknown = [f.name for f in found if f.name not in SNIFF_ORDER]
    if unknown:
        raise RuntimeError(f"formats missing from SNIFF_ORDER: {unknown}")
    return {f.name: f for f in sorted(found, key=lambda f: SNIFF_ORDER.index(f.name))}


#: Every readable format, in sniff order: name -> Format.
FORMATS: dict[str, Format] = _registry()

SNIFF_BYTES = 1 << 20
SNIFF_LINES = 50
STDIN = "-"
#: A Parquet file's first bytes.
PARQUET_MAGIC = b"PAR1"
SQLITE_MAGIC = b"SQLite format 3\x00"


def expand_paths(paths: list[str]) -> list[str]:
    """Expand globs and directories (files inside, sorted, hidden files skipped).

    ``-`` stands for stdin. Raises InputFileError for a path or glob that matches
    nothing.
    """
    return [p for p, _ in _expand(paths)]


def _expand(paths: list[str]) -> list[tuple[str, bool]]:
    """(path, named): ``named`` is True for a file given literally on the command
    line (or stdin), False for one found by a glob or inside a directory."""
    out: list[tuple[str, bool]] = []
    for p in paths:
        if p == STDIN:
            out.append((p, True))
            continue
        magic = glob.has_magic(p)
        matches = sorted(glob.glob(p, recursive=True)) if magic else [p]
        if not matches:
            raise InputFileError(f"{p}: no file matches this pattern")
        for m in matches:
            if os.path.isdir(m):
                files = sorted(
                    str(f) for f in Path(m).rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(m).parts)
                )
                if not files:
                    raise InputFileError(f"{m}: directory holds no files")
                out.extend((f, False) for f in files)
            elif not os.path.exists(m):
                raise InputFileError(f"{m}: no such file")
            else:
                out.append((m, not magic))
    return out


def _record_format(obj: dict, mapping: dict[str, str]) -> str | None:
    """The first format (sniff order) whose record sniffer accepts ``obj``."""
    for name, fmt in FORMATS.items():
        if name == "table":
            names = {mapping.get(k, k) for k in obj} | set(mapping)
            if {"output_text", "provider_stop_reason"} & names:
                return name
        elif fmt.record is not None and fmt.record(obj):
            return name
    return None


def _vote(lines: list[bytes], mapping: dict[str, str]) -> str | None:
    votes: dict[str, int] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            kind = _record_format(obj, mapping)
            if kind:
                votes[kind] = votes.get(kind, 0) + 1
        if sum(votes.values()) >= SNIFF_LINES:
            break
    return max(votes, key=votes.get) if votes else None


_NO_JSON_FORMAT = (
    "JSON records of no known export; expected records of one of: "
    + ", ".join(n for n, f in FORMATS.items() if JSONL in f.containers and n != "table")
    + ", or flat objects with output_text and provider_stop_reason (`stoptriage formats` says how each is recognised)"
)


def container_of(head: bytes) -> str:
    """How a file's records are laid out, from its first bytes.

    Output: one of source.JSONL / JSON / PARQUET / CSV / TEXT / SQLITE. ``JSON``
    is a JSON array, or pretty-printed objects one after another (a first line
    that is not a whole JSON value). Raises InputFormatError for other binary
    files (OTLP protobuf / zstd exports included) with what was expected.
    """
    if head.startswith(PARQUET_MAGIC):
        return PARQUET
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if b"\x00" in head[:8192]:
        raise InputFormatError(
            "binary file that is not Parquet or SQLite (an OTLP protobuf/zstd export?); "
            "expected JSON lines, a JSON array, CSV, Parquet, SSE text or a SQLite logs.db"
        )
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("["):
        return JSON
    if text.startswith("{"):
        first = text.split("\n", 1)[0].strip()
        try:
            orjson.loads(first)
            return JSONL
        except orjson.JSONDecodeError:
            return JSON
    first = text.splitlines()[0] if text else ""
    if first.startswith(("event:", "data:", ":")) or "\ndata:" in text[:65536]:
        return TEXT
    if "," in first or "\t" in first:
        return CSV
    return TEXT


def _columns_format(names: set[str]) -> str:
    for name, fmt in FORMATS.items():
        if fmt.columns is not None and fmt.columns(names):
            return name
    return "table"


def detect_format(container: str, head: bytes, path: str | None, mapping: dict[str, str] | None = None, data: bytes | None = None) -> str:
    """Format name of a file, given its container and first bytes.

    Input: a container (see :func:`container_of`), up to :data:`SNIFF_BYTES` of
    the file as JSON lines when the container is JSON lines or converted JSON,
    the path (for Parquet schemas / SQLite tables; None for stdin, whose bytes
    may be passed as ``data`` for a SQLite file). Output: a key
    of :data:`FORMATS`. Raises InputFormatError when no format recognises it.
    """
    mapping = mapping or {}
    if container == PARQUET:
        if path is None and data is None:
            return "table"
        return _columns_format(set(pl.read_parquet_schema(path if path is not None else io.BytesIO(data))))
    if container == CSV:
        header = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0]
        names = {c.strip().strip('"') for c in header.replace("\t", ",").split(",")}
        return _columns_format(names)
    if container == SQLITE:
        tables: set[str] = set()
        if path is not None or data is not None:
            if path is not None:
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            else:
                con = sqlite3.connect(":memory:")
                con.deserialize(data)
            try:
                tables = {r[0] for r in con.execute("select name from sqlite_master where type in ('table','view')")}
            except sqlite3.DatabaseError as exc:
                raise InputFormatError(f"a SQLite file that cannot be read ({exc})") from None
            finally:
                con.close()
        for name, fmt in FORMATS.items():
            if fmt.sqlite is not None and fmt.sqlite(tables):
                return name
        raise InputFormatError(f"SQLite database of no known export (tables: {', '.join(sorted(tables)) or 'none'}); expected the llm CLI's logs.db")
    if container == TEXT:
        text = head.decode("utf-8", errors="replace")
        for name, fmt in FORMATS.items():
            if fmt.text is not None and fmt.text(text):
                return name
        raise InputFormatError("text that is not CSV, JSON or an SSE capture; expected one of: " + ", ".join(FORMATS))
    kind = _vote(head.splitlines()[: SNIFF_LINES * 4], mapping)
    if kind is None:
        raise InputFormatError(_NO_JSON_FORMAT)
    return kind


def detect(head: bytes, mapping: dict[str, str] | None = None) -> str:
    """Format name of a file from its first bytes alone (see :func:`detect_format`)."""
    container = container_of(head)
    if container == JSON:
        head = to_json_lines(head, partial=True)
    return detect_format(container, head, None, mapping)


def _read_head(path: str, data: bytes | None, display: str) -> bytes:
    try:
        if data is None:
            with open(path, "rb") as fh:
                return fh.read(SNIFF_BYTES)
        return data[:SNIFF_BYTES]
    except OSError as exc:
        raise InputFileError(f"{display}: cannot read ({exc.strerror})") from None


def read_one(path: str, input_format: str | None = None, mapping: dict[str, str] | None = None, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame, str]:
    """Read one file (or stdin bytes) into (canonical LazyFrame, problems, format name).

    Raises InputFileError (unreadable/empty), InputFormatError (no format
    recognises it, or the forced format cannot read its container), ConfigError
    (unknown ``input_format``).
    """
    mapping = mapping or {}
    display = "<stdin>" if path == STDIN else path
    if input_format is not None and input_format not in FORMATS:
        raise ConfigError(f"--input-format {input_format}: unknown format; choose one of {', '.join(FORMATS)}")
    head = _read_head(path, data, display)
    if not head.strip():
        raise InputFileError(f"{display}: empty file; expected Parquet, CSV, JSON lines or another format of `stoptriage formats` with at least one record")
    try:
        container = container_of(head)
        if container == JSON:
            if data is None:
                with open(path, "rb") as fh:
                    data = fh.read()
            data = to_json_lines(data, display)
            head = data[:SNIFF_BYTES]
        sniffed = input_format or detect_format(container, head, None if path == STDIN else path, mapping, data)
    except InputFormatError as exc:
        raise InputFormatError(f"{display}: {exc}") from None
    fmt = FORMATS[sniffed]
    read_as = JSONL if container == JSON else container
    if read_as not in fmt.containers:
        raise InputFormatError(f"{display}: a {container} file cannot be read as {sniffed} (it reads: {', '.join(fmt.containers)})")
    lf, problems = fmt.read(Source(display, data, read_as, mapping))
    return lf, problems, sniffed


def read(
    paths: list[str],
    input_format: str | None = None,
    mapping: dict[str, str] | None = None,
    route: str | None = None,
    stdin: bytes | None = None,
) -> tuple[pl.LazyFrame, IngestReport]:
    """Read every path into one canonical LazyFrame, in input order.

    Input: paths/globs/directories or ``-`` for stdin (its bytes may be passed as
    ``stdin``); ``input_format`` forces a format (a key of :data:`FORMATS`);
    ``mapping`` renames source columns to canonical names; ``route`` names the
    column/key holding the route (default: ``route`` when present, else
    "unknown"). Output: (LazyFrame with schema.CANONICAL columns then pass-through
    columns, IngestReport). Raises InputFileError / InputFormatError /
    MissingColumnError / ConfigError with the file named. A file found in a
    directory or by a glob that no format recognises (or that is empty, or a flat
    table without the required columns) is not an error: it is reported as
    ``unreadable_file`` and the other files are read
    (InputFormatError when none is readable).
    """
    report = IngestReport()
    frames: list[pl.LazyFrame] = []
    for path, named in _expand(paths):
        data = None
        if path == STDIN:
            data = stdin if stdin is not None else sys.stdin.buffer.read()
        display = "<stdin>" if path == STDIN else path
        try:
            lf, problems, fmt = read_one(path, input_format, mapping, data)
        except (InputFormatError, InputFileError, MissingColumnError) as exc:
            # A file named on the command line must be readable; one found in a
            # directory or by a glob (a README beside the exports, a CSV of
            # something else, a script) is reported and the others are read.
            if named:
                raise
            report.add(pl.DataFrame({"source_file": [display], "source_line": [None], "kind": [UNREADABLE_FILE], "reason": [str(exc).removeprefix(f"{display}: ")]}))
            continue
        if route:
            names = lf.collect_schema().names()
            if route not in names:
                raise ConfigError(f"{display}: --route {route}: no such column or key (has: {', '.join(n for n in names if not n.startswith('_'))[:300]})")
            lf = lf.with_columns(pl.col(route).cast(pl.String).alias("route"))
        report.formats[display] = fmt
        report.add(problems)
        frames.append(lf)
    if not frames:
        raise InputFormatError("no file of a known format among: " + "; ".join(f"{r['source_file']}: {r['reason']}" for r in report.problems.head(5).iter_rows(named=True)))
    extras: list[str] = []
    for lf in frames:
        for n in lf.collect_schema().names():
            if n not in extras and not n.startswith("_"):
                extras.append(n)
    conformed = [conform(lf, extras) for lf in frames]
    out = pl.concat(conformed, how="diagonal_relaxed") if len(conformed) > 1 else conformed[0]
    return out, report
