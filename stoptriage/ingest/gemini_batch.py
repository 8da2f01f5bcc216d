"""Gemini batch output (trace-formats.md §8, last paragraph), and the shared last
step of every reader of embedded provider payloads.

Format ``gemini-batch``: the JSON-lines result file of a batch job, one line per
input request, in either of Google's two layouts:

* Gemini API Batch Mode (file input): ``{"key": ..., "response":
  GenerateContentResponse}``, or ``{"key": ..., "error": {"code", "message",
  "status"?}}`` for a request that failed. No request and no timestamp per line.
* Vertex AI batch prediction (Cloud Storage output): ``{"status": "",
  "processed_time": ..., "request": GenerateContentRequest, "response":
  GenerateContentResponse}``; a failed request has a non-empty ``status`` text
  and no ``response``.

``key`` (and every other top-level key but ``response`` / ``request`` /
``error`` / ``status``) passes through as a string column, as ``custom_id`` does
for the OpenAI and Anthropic batch readers: the route is a naming convention of
the key that only its author knows (``--route key`` uses it as is). Failed
entries are batch outcomes, not stop reasons: one ``batch_errored`` problem row
each. Timestamp: the body's ``createTime``, else Vertex ``processed_time``.

Shared helpers, used by the LiteLLM, Helicone and llm-logs readers too:
:func:`pick` reads several fields of each JSON line in one parse;
:func:`extract_embedded` (with :func:`record_problems`, :func:`body_problems`,
:func:`readable_rows`) turns a frame of embedded bodies into canonical rows and
problem rows.
"""

from __future__ import annotations

import orjson
import polars as pl

from ..schema import CANONICAL
from . import bodies
from .jsonl import RAW, all_keys, jp, line_problems, read_checked_lines
from .problems import BATCH_ERRORED, ERROR_BODY, PROBLEM_SCHEMA, UNKNOWN_SHAPE
from .responses import parse_timestamp
from .source import Format, Source

S = pl.String

#: Columns every embedded-payload frame carries into :func:`extract_embedded`.
INTERNAL = ("_rid", "_body", "_req", "_problem", "_problem_kind")


def record_problems(df: pl.DataFrame, path: str) -> pl.DataFrame:
    """Problem rows (problems.PROBLEM_SCHEMA) for records a reader refused itself.

    Input: ``source_line`` (i64), ``_problem`` (str reason, null = record is
    fine), ``_problem_kind`` (str, a problems kind). Output: one row per record
    whose ``_problem`` is set.
    """
    return df.filter(pl.col("_problem").is_not_null()).select(
        pl.lit(path).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.col("_problem_kind").cast(S).alias("kind"),
        pl.col("_problem").cast(S).alias("reason"),
    )


def _unknown_reason() -> pl.Expr:
    obj, typ = jp("_body", "$.object"), jp("_body", "$.type")
    what = (
        pl.when(obj.is_not_null())
        .then(pl.concat_str([pl.lit(" (object="), obj, pl.lit(")")]))
        .when(typ.is_not_null())
        .then(pl.concat_str([pl.lit(" (type="), typ, pl.lit(")")]))
        .otherwise(pl.lit(""))
    )
    return (
        pl.when(pl.col("_body").is_null())
        .then(pl.lit("no response body in the record"))
        .otherwise(pl.concat_str([pl.lit("response body of a shape this release does not read"), what]))
    )


def body_problems(extracted: pl.DataFrame, path: str) -> pl.DataFrame:
    """Problem rows for bodies :func:`bodies.extract` could not read.

    Input: the output of ``bodies.extract`` (``_api``, ``_shape_error``, ``_body``,
    ``source_line``). Output: ``error_body`` rows for HTTP error bodies (reason =
    the error type and message), ``unknown_shape`` rows for bodies of another
    shape (reason names their ``object`` / ``type``) or whose parts arrays do not
    decode.
    """
    bad = extracted.filter(pl.col("_shape_error").is_not_null() | pl.col("_api").is_in([bodies.UNKNOWN, bodies.ERROR]))
    return bad.select(
        pl.lit(path).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.when(pl.col("_api") == bodies.ERROR).then(pl.lit(ERROR_BODY)).otherwise(pl.lit(UNKNOWN_SHAPE)).alias("kind"),
        pl.when(pl.col("_api") == bodies.UNKNOWN).then(_unknown_reason()).otherwise(pl.col("_shape_error")).alias("reason"),
    )


def readable_rows(extracted: pl.DataFrame, path: str) -> pl.DataFrame:
    """The rows of ``bodies.extract`` output that were read, in ``_rid`` order.

    Output: canonical columns, ``provider_api`` (str, the body's API),
    ``response_id`` and the pass-through columns; ``source_file`` = ``path``;
    ``_rid`` kept (callers join on it, then drop it); ``_body`` / ``_req`` dropped.
    """
    rows = extracted.filter(pl.col("_shape_error").is_null() & pl.col("_api").is_in(list(bodies.SPECS))).sort("_rid")
    drop = [c for c in ("_body", "_req", "_shape_error", "_body_keys", "_problem", "_problem_kind") if c in rows.columns]
    return rows.rename({"_api": "provider_api"}).drop(drop).with_columns(pl.lit(path).alias("source_file"))


def extract_embedded(df: pl.DataFrame, path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Embedded provider payloads -> (canonical rows, problem rows).

    Input columns: ``_rid`` (row id), ``source_line`` (i64), ``_body`` (str JSON of
    the response, null when absent), ``_req`` (str JSON of the request or null),
    ``_problem`` / ``_problem_kind`` (str: set when the reader already knows the
    record cannot be read, e.g. a failed call) and any pass-through columns.
    Output: rows as :func:`readable_rows` (``_rid`` kept), problems as
    :func:`record_problems` + :func:`body_problems`. Errors: none (every odd
    record becomes a problem row).
    """
    df = df.with_columns(pl.col("_body").cast(S), pl.col("_req").cast(S), pl.col("_problem").cast(S), pl.col("_problem_kind").cast(S))
    problems = [record_problems(df, path)]
    good = df.filter(pl.col("_problem").is_null()).drop("_problem", "_problem_kind")
    extracted = bodies.extract(good.lazy()).collect()
    problems.append(body_problems(extracted, path))
    rows = readable_rows(extracted, path)
    return rows, pl.concat([p.cast(PROBLEM_SCHEMA) for p in problems], how="vertical")


def pick(expr: pl.Expr, fields: dict[str, tuple[str, ...]]) -> pl.Expr:
    """Several fields of each JSON line in one orjson parse (``map_batches``).

    Input: ``expr`` (str, one JSON object per row); ``fields``: output name ->
    key path (``("metadata", "user_api_key_alias")``). Output: a struct of String
    fields: a string value as is, a number / bool as its JSON text, an object or
    array as compact JSON text, null when the path is missing, null or the line
    is not JSON (never an error). The same values as :func:`jsonl.jp` gives, at
    one parse per line instead of one per field.
    """
    dtype = pl.Struct({name: S for name in fields})
    items = list(fields.items())

    def batch(s: pl.Series) -> pl.Series:
        columns: list[list[str | None]] = [[] for _ in items]
        for line in s.to_list():
            try:
                value = orjson.loads(line) if line else None
            except orjson.JSONDecodeError:
                value = None
            for column, (_, path) in zip(columns, items):
                v = value
                for key in path:
                    v = v.get(key) if isinstance(v, dict) else None
                column.append(v if v is None or isinstance(v, str) else orjson.dumps(v).decode())
        frame = pl.DataFrame({name: col for (name, _), col in zip(items, columns)}, schema={name: S for name, _ in items})
        return frame.to_struct(s.name)

    return expr.map_batches(batch, return_dtype=dtype)


def passthrough_name(key: str, prefix: str) -> str:
    """Column name of a record's top-level key: kept as is, unless it is a
    canonical column name (then ``<prefix>_<key>``) or starts with ``_``."""
    return f"{prefix}_{key}" if key in CANONICAL or key.startswith("_") else key


# --- Format gemini-batch ---

#: Keys of a GenerateContentResponse, one of which a batch line's ``response`` has.
GEMINI_BODY_KEYS = frozenset({"candidates", "usageMetadata", "promptFeedback", "modelVersion", "responseId"})
#: Top-level keys that are the entry itself, not pass-through columns.
_ENTRY_KEYS = {"response", "request", "error", "status"}


def is_gemini_batch(obj: dict) -> bool:
    """A Gemini batch result line (trace-formats.md §8).

    Gemini API: ``key`` + a ``response`` holding a GenerateContentResponse key
    (candidates / usageMetadata / promptFeedback / modelVersion / responseId), or
    ``key`` + an ``error`` object. Vertex AI: ``processed_time`` + ``request`` +
    a GenerateContentResponse ``response`` or a ``status`` text. Narrower than the
    ``responses`` sniffer (which also takes ``{"response": {...}}``) on purpose:
    gemini-batch is tried first.
    """
    resp = obj.get("response")
    body_like = isinstance(resp, dict) and not GEMINI_BODY_KEYS.isdisjoint(resp)
    if "key" in obj:
        return body_like or (resp is None and isinstance(obj.get("error"), dict))
    if "processed_time" in obj and isinstance(obj.get("request"), dict):
        return body_like or (resp is None and isinstance(obj.get("status"), str))
    return False


#: Entry fields read (besides the pass-through keys).
_ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "_err": ("error",),
    "_err_status": ("error", "status"),
    "_err_code": ("error", "code"),
    "_err_message": ("error", "message"),
    "_status": ("status",),
}


def _entry_problem() -> tuple[pl.Expr, pl.Expr]:
    """(reason, kind) for a line that is not a readable response; null reason otherwise."""
    body, err, status = pl.col("_wrapped_response"), pl.col("_err"), pl.col("_status")
    said = pl.concat_str([pl.coalesce("_err_status", "_err_code", pl.lit("error")), pl.coalesce("_err_message", pl.lit(""))], separator=": ")
    errored = body.is_null() & (err.is_not_null() | (status.is_not_null() & (status != "")))
    reason = (
        pl.when(body.is_null() & err.is_not_null())
        .then(pl.concat_str([pl.lit("errored batch entry: "), said.str.slice(0, 300)]))
        .when(errored)
        .then(pl.concat_str([pl.lit("errored batch entry: "), status.str.slice(0, 300)]))
        .when(body.is_null())
        .then(pl.lit("batch entry with neither a response object nor an error"))
    )
    return reason, pl.when(errored).then(pl.lit(BATCH_ERRORED)).otherwise(pl.lit(UNKNOWN_SHAPE))


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a Gemini / Vertex AI batch output file (JSON lines).

    Input: a Source (``jsonl`` container). Output: (LazyFrame of canonical
    columns, ``provider_api`` "gemini", ``response_id``, and pass-through string
    columns ``key`` / ``processed_time`` / any other top-level key; problems with
    problems.PROBLEM_SCHEMA). ``source_line`` is the 1-based line. Provider
    ``gemini``; model ``modelVersion``; request fields (max tokens, JSON mode,
    tool schemas, prior function response) only for Vertex lines, which carry
    their request. Errors: none; bad lines and failed entries are problem rows.
    """
    df = read_checked_lines(src.path, src.data)
    problems = [line_problems(df, src.path)]
    df = df.filter(pl.col("_error").is_null()).with_row_index("_rid")
    keys = [k for k in all_keys(df) if k not in _ENTRY_KEYS]
    fields = {**_ENTRY_FIELDS, **{passthrough_name(k, "batch"): (k,) for k in keys}}
    df = df.with_columns(pick(pl.col(RAW), fields).alias("_f")).drop(RAW, "_error", "_keys", "_body_keys").unnest("_f")
    reason, kind = _entry_problem()
    df = df.with_columns(
        pl.col("_wrapped_response").alias("_body"),
        pl.col("_wrapped_request").alias("_req"),
        reason.alias("_problem"),
        kind.alias("_problem_kind"),
    ).drop("_wrapped_response", "_wrapped_request", *_ENTRY_FIELDS)
    rows, bad = extract_embedded(df, src.path)
    problems.append(bad)
    if "processed_time" in keys:
        rows = rows.with_columns(pl.coalesce(pl.col("timestamp"), parse_timestamp(pl.col("processed_time"))).alias("timestamp"))
    return rows.drop("_rid").lazy(), pl.concat(problems, how="vertical_relaxed")


FORMATS = [
    Format(
        "gemini-batch",
        "Gemini batch output: JSON lines with key + response (GenerateContentResponse) or error; "
        "Vertex AI batch prediction lines with processed_time + request + response/status",
        read,
        record=is_gemini_batch,
    ),
]
