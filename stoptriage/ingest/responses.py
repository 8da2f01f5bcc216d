"""Readers for JSON lines of provider response bodies: bare, wrapped, and batch results.

Formats (names as in ``--input-format``):

* ``responses`` — one body per line, bare, or wrapped as ``{"request": {...},
  "response": {...}, ...}`` where every other top-level key passes through as a
  string column (``route``, ``timestamp``, ``trace_id``, ``span_id`` fill the
  canonical columns of the same name).
* ``openai-batch`` — OpenAI Batch output lines (trace-formats.md §7): the body is
  ``response.body``; entries with an ``error`` are reported, not read.
* ``anthropic-batch`` — Message Batches results (trace-formats.md §8): the body is
  ``result.message``; ``errored``/``canceled``/``expired`` entries are reported.

Every line that is not read (malformed JSON, HTTP error body, unknown body shape,
errored batch entry) becomes a problem row with file and line.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import polars as pl

from . import bodies
from .jsonl import RAW, all_keys, jp, key_path, line_problems, read_checked_lines
from ..schema import CANONICAL
from .problems import BATCH_ERRORED, ERROR_BODY, UNKNOWN_SHAPE
from .fields import parse_time as parse_timestamp  # re-exported: table.py and streams.py use it
from .source import Format

#: Wrapper keys that fill canonical columns instead of passing through.
WRAPPER_CANONICAL = ("route", "timestamp", "trace_id", "span_id")

_RESERVED = {"_rid", "_body", "_req", "_api", "_shape_error", "_problem", RAW, "_error", "_keys", "_body_keys", "_wrapped_response", "_wrapped_request", "source_line"}


def wrapper_column(key: str) -> str:
    """Column name of a wrapper key: canonical names are kept apart from the body's
    values (``_wrap_route`` ..., or ``wrapper_model`` for other canonical names)."""
    if key in WRAPPER_CANONICAL:
        return f"_wrap_{key}"
    if key in CANONICAL:
        return f"wrapper_{key}"
    return key


def fill_wrapper(rows: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Wrapper keys naming canonical columns (route, timestamp, trace_id, span_id)
    fill them: the body has no route or ids; a body's own time wins over the
    wrapper's. Input: rows with the :func:`wrapper_column` columns of ``keys``.
    Output: the rows with those canonical columns and without the wrapper columns."""
    fills = []
    for k in WRAPPER_CANONICAL:
        if k in keys:
            w = pl.col(wrapper_column(k))
            fills.append((pl.coalesce(pl.col("timestamp"), parse_timestamp(w)) if k == "timestamp" else w).alias(k))
    wrapper_cols = [wrapper_column(k) for k in WRAPPER_CANONICAL if k in keys and wrapper_column(k) in rows.columns]
    if not fills or not rows.height:
        return rows.drop(wrapper_cols)
    return rows.with_columns(fills).drop(wrapper_cols)


def _unwrap(df: pl.DataFrame, fmt: str) -> tuple[pl.DataFrame, list[str]]:
    """Add ``_body``, ``_req``, ``_problem`` per line; return pass-through keys."""
    raw = pl.col(RAW)
    if fmt == "openai-batch":
        err = jp(raw, "$.error")
        # The check pass already re-serialized the line's ``response`` object.
        body = jp("_wrapped_response", "$.body")
        problem = pl.when(err.is_not_null() & body.is_null()).then(
            pl.concat_str(
                [
                    pl.lit("errored batch entry: "),
                    pl.coalesce(jp(raw, "$.error.code"), pl.lit("error")),
                    pl.lit(": "),
                    pl.coalesce(jp(raw, "$.error.message"), pl.lit("")),
                ]
            )
        )
        out = df.with_columns(body.alias("_body"), pl.lit(None, dtype=pl.String).alias("_req"), problem.alias("_problem"))
        skip = {"response", "error"}
    elif fmt == "anthropic-batch":
        rtype = jp(raw, "$.result.type")
        detail = pl.coalesce(jp(raw, "$.result.error.error.type"), jp(raw, "$.result.error.type"))
        message = jp(raw, "$.result.error.error.message")
        said = pl.concat_str([detail, message], separator=" ", ignore_nulls=True)
        problem = pl.when(rtype != "succeeded").then(
            pl.concat_str([pl.lit("batch entry "), rtype.fill_null("without result.type"), pl.when(said != "").then(pl.concat_str([pl.lit(": "), said]))], ignore_nulls=True)
        )
        out = df.with_columns(jp(raw, "$.result.message").alias("_body"), pl.lit(None, dtype=pl.String).alias("_req"), problem.alias("_problem"))
        skip = {"result"}
    else:
        is_wrapped = pl.col("_wrapped_response").is_not_null()
        out = df.with_columns(
            pl.coalesce("_wrapped_response", RAW).alias("_body"),
            pl.when(is_wrapped).then(pl.col("_wrapped_request")).alias("_req"),
            pl.lit(None, dtype=pl.String).alias("_problem"),
        )
        wrapped = out.filter(is_wrapped)
        skip = {"request", "response"}
        keys = [k for k in all_keys(wrapped) if k not in skip]
        return out, keys
    keys = [k for k in all_keys(out) if k not in skip]
    return out, keys


def read(path: str, fmt: str, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read one JSON-lines file of response bodies.

    Input: path (display name), ``fmt`` in {"responses", "openai-batch",
    "anthropic-batch"}, optional stdin bytes. Output: (LazyFrame of canonical
    columns plus pass-through string columns and ``response_id``, problems
    DataFrame, in line order). Rows keep input order; ``source_line`` is the
    1-based line; the columns are ``source_line``, the pass-through columns (keys
    in first-seen order), then the rest.
    """
    rows, problems, _ = _read(path, fmt, data)
    return rows, problems


def _read(path: str, fmt: str, data: bytes | None) -> tuple[pl.LazyFrame, pl.DataFrame, list[str]]:
    """:func:`read`, plus the names of the pass-through columns."""
    wrapper = fmt == "responses"
    df = read_checked_lines(path, data, wrapper=wrapper)
    problems = [line_problems(df, path)]
    df = df.filter(pl.col("_error").is_null()).with_row_index("_rid")
    df, keys = _unwrap(df, fmt)
    if wrapper:
        # The pass-through keys of a wrapped record are read from the record without
        # its bodies (the same values: the check re-serialized them), not the line.
        df = df.with_columns(pl.coalesce("_wrapper", RAW).alias(RAW)).drop("_wrapper")
    keys = [k for k in keys if k not in _RESERVED]
    passthrough = [jp(RAW, key_path(k)).alias(wrapper_column(k)) for k in keys]
    # Done with the raw line: drop it (and the copies the check made) before the
    # extraction so the line text is not held alongside the body text.
    df = df.with_columns(passthrough).drop(RAW, "_error", "_keys", "_wrapped_response", "_wrapped_request")
    lf = df.lazy()
    batch_bad = lf.filter(pl.col("_problem").is_not_null())
    good = lf.filter(pl.col("_problem").is_null())
    extracted = bodies.extract(good, keys="_body_keys" if fmt == "responses" else None).collect()

    problems.append(
        batch_bad.select(pl.lit(path).alias("source_file"), "source_line", pl.lit(BATCH_ERRORED).alias("kind"), pl.col("_problem").alias("reason")).collect()
    )
    bad = extracted.filter(pl.col("_shape_error").is_not_null() | pl.col("_api").is_in([bodies.UNKNOWN, bodies.ERROR]))
    unknown_reason = pl.concat_str(
        [
            pl.lit("response body of a shape this release does not read"),
            pl.when(jp("_body", "$.object").is_not_null()).then(pl.concat_str([pl.lit(" (object="), jp("_body", "$.object"), pl.lit(")")])).otherwise(
                pl.when(jp("_body", "$.type").is_not_null()).then(pl.concat_str([pl.lit(" (type="), jp("_body", "$.type"), pl.lit(")")])).otherwise(pl.lit(""))
            ),
        ]
    )
    problems.append(
        bad.select(
            pl.lit(path).alias("source_file"),
            "source_line",
            pl.when(pl.col("_api") == bodies.ERROR).then(pl.lit(ERROR_BODY)).otherwise(pl.lit(UNKNOWN_SHAPE)).alias("kind"),
            pl.when(pl.col("_api") == bodies.UNKNOWN).then(unknown_reason).otherwise(pl.col("_shape_error")).alias("reason"),
        )
    )
    rows = extracted.filter(pl.col("_shape_error").is_null() & pl.col("_api").is_in(list(bodies.SPECS)))
    # The body texts are not needed past here: dropped before the sort copies the rows.
    del extracted, bad
    rows = rows.drop([c for c in ("_body", "_req", RAW, "_body_keys") if c in rows.columns]).sort("_rid")
    rows = fill_wrapper(rows, keys)
    rows = rows.with_columns(pl.lit(path).alias("source_file"))
    drop = [c for c in ("_rid", "_problem", "_shape_error") if c in rows.columns]
    rows = rows.rename({"_api": "provider_api"}).drop(drop)
    passthrough = [wrapper_column(k) for k in keys if wrapper_column(k) in rows.columns]
    rows = rows.select("source_line", *passthrough, pl.exclude("source_line", *passthrough))
    # Problems in line order (they were grouped by kind, then API): the same order
    # whether the file is read whole or in pieces (read_chunked).
    return rows.lazy(), pl.concat(problems, how="vertical_relaxed").sort("source_line", maintain_order=True), passthrough


#: Bytes of a file of bodies read at a time (cut at a line end): :func:`read_chunked`
#: reads, extracts and writes each piece to a temporary Parquet file, so memory holds
#: one piece (peak about 7x its size, measured on 182 MB of bodies) instead of the file.
CHUNK_BYTES = 128 * 1024 * 1024


def line_chunks(path: str, size: int) -> Iterator[tuple[bytes, int]]:
    """The file's bytes in pieces of about ``size`` bytes, each ending at a line end
    (the last one at the file's end), with the number of lines before each piece.
    A line longer than ``size`` is one piece. Raises OSError as ``open`` does."""
    lines_before, rest = 0, b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(size)
            buf = rest + block
            if not block:
                if buf:
                    yield buf, lines_before
                return
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                rest = buf
                continue
            piece, rest = buf[:cut], buf[cut:]
            yield piece, lines_before
            lines_before += piece.count(b"\n")


def read_chunked(path: str, fmt: str, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """:func:`read`, in bounded memory for a file larger than :data:`CHUNK_BYTES`.

    Same input and output as :func:`read` (the same rows, columns, line numbers and
    problems; classified, ``length_z`` can differ in the last bit, ~1e-16, as the
    per-route statistics then sum the same values in another order). A larger file
    is read in pieces of whole lines (:func:`line_chunks`); each piece's canonical
    rows go to a Parquet file in a temporary directory
    (removed when the process exits; 111 MB for 911 MB of generated bodies), and the
    result scans those files in order. Stdin bytes and smaller files are read whole.
    Every line is independent in these formats, so a piece boundary changes nothing.
    """
    if data is not None or os.path.getsize(path) <= CHUNK_BYTES:
        return read(path, fmt, data)
    tmp = tempfile.mkdtemp(prefix="stoptriage-bodies-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    parts: list[pl.LazyFrame] = []
    problems: list[pl.DataFrame] = []
    passthrough: dict[str, None] = {}  # every piece's, in first-seen order: read's column order
    columns: dict[str, None] = {}
    for piece, lines_before in line_chunks(path, CHUNK_BYTES):
        rows, bad, keys = _read(path, fmt, piece)
        shift = pl.col("source_line") + lines_before
        part = os.path.join(tmp, f"part-{len(parts):05d}.parquet")
        rows.with_columns(shift).sink_parquet(part, compression="lz4")
        parts.append(pl.scan_parquet(part))
        problems.append(bad.with_columns(shift))
        passthrough.update(dict.fromkeys(keys))
        columns.update(dict.fromkeys(rows.collect_schema().names()))
    order = ["source_line", *passthrough, *(c for c in columns if c != "source_line" and c not in passthrough)]
    return pl.concat(parts, how="diagonal_relaxed").select(order), pl.concat(problems, how="vertical_relaxed")


# --- Format declarations (sniffers per record: trace-formats.md §0, §7, §8, §11) ---

_BODY_OBJECTS = {"chat.completion", "response", "text_completion", "text.completion"}
_BODY_TYPES = {"message", "error", "completion"}
_BODY_KEYS = {"choices", "candidates", "promptFeedback", "stopReason", "output", "stop_reason", "finish_reason", "done_reason", "generations", "results", "outputs", "completion", "generation", "completions", "done", "inputTextTokenCount"}


def is_anthropic_batch(obj: dict) -> bool:
    """``custom_id`` + ``result.type`` (trace-formats.md §8)."""
    return "custom_id" in obj and isinstance(obj.get("result"), dict) and "type" in obj["result"]


def is_openai_batch(obj: dict) -> bool:
    """``custom_id`` + ``response`` or ``error`` (trace-formats.md §7)."""
    return "custom_id" in obj and ("response" in obj or "error" in obj)


def is_response_body(obj: dict) -> bool:
    """A bare provider body (§0 detect row), or ``{"response": {...}, ...}``."""
    if isinstance(obj.get("response"), dict):
        return True
    return obj.get("object") in _BODY_OBJECTS or obj.get("type") in _BODY_TYPES or bool(set(obj) & _BODY_KEYS)


FORMATS = [
    Format(
        "anthropic-batch",
        "Anthropic Message Batches results: JSON lines with custom_id and result.type",
        lambda src: read_chunked(src.path, "anthropic-batch", src.data),
        record=is_anthropic_batch,
    ),
    Format(
        "openai-batch",
        "OpenAI Batch output: JSON lines with custom_id and response.{status_code, body} or error",
        lambda src: read_chunked(src.path, "openai-batch", src.data),
        record=is_openai_batch,
    ),
    Format(
        "responses",
        "provider response bodies, one per line, bare or wrapped as {request, response, ...}; the API is detected "
        "per body from its own keys: OpenAI Chat Completions / Responses / legacy completions (and OpenAI-compatible "
        "servers), Anthropic Messages / Text Completions, Gemini generateContent, Bedrock Converse and InvokeModel "
        "(Nova, Claude, Titan, Llama, Mistral, Cohere Command, Jurassic-2), Cohere Chat v1/v2, Ollama /api/chat "
        "and /api/generate",
        lambda src: read_chunked(src.path, "responses", src.data),
        record=is_response_body,
    ),
]
