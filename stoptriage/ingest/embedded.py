"""The shared last step of every reader of embedded provider payloads.

LiteLLM, Helicone, Gemini batch and llm-logs records each carry a provider body
(and sometimes its request) inside their own envelope. Their readers build a
frame with ``_rid``, ``_body``, ``_req``, ``_problem``, ``_problem_kind`` and
envelope columns; :func:`extract_embedded` (with :func:`record_problems`,
:func:`body_problems`, :func:`readable_rows`) turns it into canonical rows and
problem rows through ``bodies.extract``. (Moved here from gemini_batch.py, where
it was first written, so each reader imports it from a module named for it.)
"""

from __future__ import annotations

import polars as pl

from ..schema import CANONICAL
from . import bodies
from .jsonl import jp
from .problems import ERROR_BODY, PROBLEM_SCHEMA, UNKNOWN_SHAPE

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


def passthrough_name(key: str, prefix: str) -> str:
    """Column name of a record's top-level key: kept as is, unless it is a
    canonical column name (then ``<prefix>_<key>``) or starts with ``_``."""
    return f"{prefix}_{key}" if key in CANONICAL or key.startswith("_") else key


