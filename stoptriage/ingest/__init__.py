"""Ingest: files of any supported export format -> one canonical LazyFrame.

Each file's format is sniffed from its content (never its name); ``input_format``
forces one. Formats of this release (``stoptriage formats`` lists them):

=================  =====================================================================
name               recognised by
=================  =====================================================================
table              Parquet magic ``PAR1``; CSV header line; JSON lines whose objects
                   carry canonical (or ``--map``-ped) column names
responses          JSON lines of provider response bodies (OpenAI Chat / Responses,
                   Anthropic Messages, Gemini generateContent, Bedrock Converse),
                   bare or wrapped as ``{"request":…, "response":…, …}``
openai-batch       JSON lines with ``custom_id`` and ``response.body`` / ``error``
anthropic-batch    JSON lines with ``custom_id`` and ``result.type``
=================  =====================================================================
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

import orjson
import polars as pl

from ..errors import ConfigError, InputFileError, InputFormatError
from ..schema import conform
from . import responses, table
from .problems import IngestReport

FORMATS: dict[str, str] = {
    "table": "flat table with canonical column names: Parquet (magic PAR1), CSV (header line), or JSON lines of flat objects",
    "responses": "JSON lines of provider response bodies, bare or wrapped as {request, response, ...}",
    "openai-batch": "OpenAI Batch output JSON lines: custom_id + response.{status_code, body} or error",
    "anthropic-batch": "Anthropic Message Batches results JSON lines: custom_id + result.type",
}

SNIFF_BYTES = 1 << 20
SNIFF_LINES = 50
STDIN = "-"

_BODY_OBJECTS = {"chat.completion", "response", "text_completion", "chat.completion.chunk"}
_BODY_TYPES = {"message", "error", "completion"}
_BODY_KEYS = {"choices", "candidates", "promptFeedback", "stopReason", "output", "stop_reason", "finish_reason", "done_reason", "generations", "results", "outputs", "completion", "generation"}


def expand_paths(paths: list[str]) -> list[str]:
    """Expand globs and directories (files inside, sorted, hidden files skipped).

    ``-`` stands for stdin. Raises InputFileError for a path or glob that matches
    nothing.
    """
    out: list[str] = []
    for p in paths:
        if p == STDIN:
            out.append(p)
            continue
        matches = sorted(glob.glob(p, recursive=True)) if glob.has_magic(p) else [p]
        if not matches:
            raise InputFileError(f"{p}: no file matches this pattern")
        for m in matches:
            if os.path.isdir(m):
                files = sorted(
                    str(f) for f in Path(m).rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(m).parts)
                )
                if not files:
                    raise InputFileError(f"{m}: directory holds no files")
                out.extend(files)
            elif not os.path.exists(m):
                raise InputFileError(f"{m}: no such file")
            else:
                out.append(m)
    return out


def _classify_record(obj: dict, mapping: dict[str, str]) -> str | None:
    keys = set(obj)
    if "custom_id" in keys and isinstance(obj.get("result"), dict) and "type" in obj["result"]:
        return "anthropic-batch"
    if "custom_id" in keys and ("response" in keys or "error" in keys):
        return "openai-batch"
    if isinstance(obj.get("response"), dict):
        return "responses"
    if obj.get("object") in _BODY_OBJECTS or obj.get("type") in _BODY_TYPES or keys & _BODY_KEYS:
        return "responses"
    names = {mapping.get(k, k) for k in keys} | set(mapping)
    if "output_text" in keys or "output_text" in mapping or "provider_stop_reason" in names:
        return "table"
    return None


def detect(head: bytes, mapping: dict[str, str] | None = None) -> str:
    """Format name of a file from its first bytes.

    Input: up to :data:`SNIFF_BYTES` of the file. Output: a key of :data:`FORMATS`,
    or ``"parquet"``/``"csv"``/``"jsonl-table"`` refinements of ``table``.
    Raises InputFormatError (binary, JSON array, unrecognised JSON lines, text
    that is not CSV) with what was expected.
    """
    mapping = mapping or {}
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"\x00" in head[:8192]:
        raise InputFormatError("binary file that is not Parquet; expected Parquet, CSV or JSON lines")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("["):
        raise InputFormatError("a JSON array; expected JSON lines (one JSON object per line)")
    if stripped.startswith("{"):
        votes: dict[str, int] = {}
        for line in text.splitlines()[: SNIFF_LINES * 4]:
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                kind = _classify_record(obj, mapping)
                if kind:
                    votes[kind] = votes.get(kind, 0) + 1
            if sum(votes.values()) >= SNIFF_LINES:
                break
        if not votes:
            raise InputFormatError(
                "JSON lines of no known export; expected provider response bodies, {request, response} records, "
                "OpenAI/Anthropic batch results, or flat objects with output_text and provider_stop_reason"
            )
        kind = max(votes, key=votes.get)
        return "jsonl-table" if kind == "table" else kind
    first = stripped.splitlines()[0] if stripped else ""
    if "," in first or "\t" in first:
        return "csv"
    raise InputFormatError("not Parquet, CSV or JSON lines; expected one of: " + ", ".join(FORMATS))


def _resolve(forced: str | None, sniffed: str) -> str:
    if forced is None:
        return sniffed
    if forced not in FORMATS:
        raise ConfigError(f"--input-format {forced}: unknown format; choose one of {', '.join(FORMATS)}")
    if forced == "table":
        return sniffed if sniffed in ("parquet", "csv", "jsonl-table") else "jsonl-table"
    return forced


def read_one(path: str, input_format: str | None = None, mapping: dict[str, str] | None = None, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame, str]:
    """Read one file (or stdin bytes) into (canonical LazyFrame, problems, format)."""
    mapping = mapping or {}
    display = "<stdin>" if path == STDIN else path
    try:
        if data is None:
            with open(path, "rb") as fh:
                head = fh.read(SNIFF_BYTES)
        else:
            head = data[:SNIFF_BYTES]
    except OSError as exc:
        raise InputFileError(f"{display}: cannot read ({exc.strerror})") from None
    if not head.strip():
        raise InputFileError(f"{display}: empty file; expected Parquet, CSV or JSON lines with at least one record")
    try:
        sniffed = detect(head, mapping)
    except InputFormatError as exc:
        if input_format is None:
            raise InputFormatError(f"{display}: {exc}") from None
        sniffed = "unknown"
    fmt = _resolve(input_format, sniffed)
    if fmt in ("parquet", "csv", "jsonl-table"):
        lf, problems = table.read(display, {"jsonl-table": "jsonl"}.get(fmt, fmt), mapping, data)
    elif fmt in ("responses", "openai-batch", "anthropic-batch"):
        lf, problems = responses.read(display, fmt, data)
    else:
        raise InputFormatError(f"{display}: cannot read as {fmt}")
    return lf, problems, fmt


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
    MissingColumnError / ConfigError with the file named.
    """
    report = IngestReport()
    frames: list[pl.LazyFrame] = []
    for path in expand_paths(paths):
        data = None
        if path == STDIN:
            data = stdin if stdin is not None else sys.stdin.buffer.read()
        lf, problems, fmt = read_one(path, input_format, mapping, data)
        display = "<stdin>" if path == STDIN else path
        if route:
            names = lf.collect_schema().names()
            if route not in names:
                raise ConfigError(f"{display}: --route {route}: no such column or key (has: {', '.join(n for n in names if not n.startswith('_'))[:300]})")
            lf = lf.with_columns(pl.col(route).cast(pl.String).alias("route"))
        report.formats[display] = fmt
        report.add(problems)
        frames.append(lf)
    extras: list[str] = []
    for lf in frames:
        for n in lf.collect_schema().names():
            if n not in extras and not n.startswith("_"):
                extras.append(n)
    conformed = [conform(lf, extras) for lf in frames]
    out = pl.concat(conformed, how="diagonal_relaxed") if len(conformed) > 1 else conformed[0]
    return out, report
