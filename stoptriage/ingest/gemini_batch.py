"""Gemini batch output (trace-formats.md §8, last paragraph).

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
"""

from __future__ import annotations

import polars as pl

from .embedded import extract_embedded, passthrough_name
from .jsonl import RAW, all_keys, line_problems, pick, read_checked_lines
from .problems import BATCH_ERRORED, UNKNOWN_SHAPE
from .responses import parse_timestamp
from .source import Format, Source

S = pl.String


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
