"""Helicone request exports (trace-formats.md §6).

Format ``helicone``: the records of ``npx @helicone/export`` (JSON lines by
default, or a JSON array) and of Helicone's request query API: one
``HeliconeRequest`` per record. ``response_body`` / ``request_body`` are the raw
provider payloads (objects, or the same as JSON strings), parsed with
:func:`bodies.extract`; Helicone keeps stop values raw (§0).

Column sources:

* ``provider``: Helicone's ``provider`` (``OPENAI``, ``ANTHROPIC``, ``GOOGLE``,
  ...) in the project's spelling: lowercased, ``GOOGLE`` -> ``gemini``, ``AWS`` /
  ``BEDROCK`` -> ``bedrock``, ``TOGETHER`` / ``TOGETHERAI`` -> ``together``, ``X``
  -> ``xai``; ``CUSTOM`` / ``LOCAL`` / ``HELICONE`` (a gateway, not a provider)
  and a missing value fall back to the body's API provider. The raw value passes
  through as ``helicone_provider``.
* ``model``: ``response_model`` > ``model_override`` > ``request_model`` > the
  body's model > ``model``. ``output_tokens``: body usage, else
  ``completion_tokens``. ``timestamp``: ``request_created_at``.
* ids: ``span_id`` = ``request_id``; ``trace_id`` = the session id
  (``request_properties["Helicone-Session-Id"]``).
* ``route`` (rule, trace-formats.md §11 "request_properties"): the custom
  property named ``Route``, else ``Feature`` (names compared without case and
  without the ``Helicone-Property-`` header prefix, which exports may or may not
  keep), else the session name ``Helicone-Session-Name``, else null. Every custom
  property also passes through as a column ``property_<name>`` (name lowercased,
  prefix removed), so ``--route property_<name>`` groups by any other one;
  ``session_name`` / ``session_path`` pass through too.

Not read (problem rows): records without a response body (exports without
``--include-body`` carry only ``signed_body_url``; the CSV export never has the
response body: every CSV row is a problem), streamed responses left as raw
chunks in ``response_body.streamed_data`` (not read yet: the SSE stream reader
will take them), non-2xx ``response_status`` (``error_body``, with the
provider's error type and message), and bodies of an unknown shape.
"""

from __future__ import annotations

import io
import re

import orjson
import polars as pl

from .embedded import extract_embedded
from .jsonl import pick, to_int
from .jsonl import RAW, jp, key_path, line_problems, read_checked_lines
from .problems import ERROR_BODY, PROBLEM_SCHEMA, UNKNOWN_SHAPE
from .responses import parse_timestamp
from .source import CSV, JSON, JSONL, Format, Source

S = pl.String

#: Helicone provider names whose project spelling is not just the lowercase.
PROVIDER_SPELLING = {"GOOGLE": "gemini", "AWS": "bedrock", "BEDROCK": "bedrock", "TOGETHER": "together", "TOGETHERAI": "together", "X": "xai"}
#: Helicone provider values that name a gateway or an unknown host, not a provider.
NOT_A_PROVIDER = ("CUSTOM", "LOCAL", "HELICONE")
#: Custom properties tried for the route, in order (compared lowercased, prefix removed).
ROUTE_PROPERTIES = ("route", "feature")
SESSION_ID, SESSION_NAME, SESSION_PATH = "Helicone-Session-Id", "Helicone-Session-Name", "Helicone-Session-Path"
_PROPERTY_PREFIX = re.compile(r"(?i)^helicone-property-")
#: Columns of the CSV export (``examples/export``): no response body.
CSV_COLUMNS = frozenset({"response_id", "response_created_at", "response_status", "request_created_at", "request_body", "request_properties"})


def is_helicone(obj: dict) -> bool:
    """``request_id`` + ``provider`` + one of ``response_body`` / ``request_body``
    / ``signed_body_url`` (§6, §11; records exported without bodies still count)."""
    return "request_id" in obj and "provider" in obj and any(k in obj for k in ("response_body", "request_body", "signed_body_url"))


def is_helicone_csv(names: set[str]) -> bool:
    """The CSV export's header (§6)."""
    return CSV_COLUMNS <= names


def _property_keys(s: pl.Series) -> pl.Series:
    """Top-level keys of each JSON-object text (null for anything else), via orjson."""

    def keys(text: str | None) -> list[str] | None:
        if not text:
            return None
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        return list(value) if isinstance(value, dict) else None

    return pl.Series(s.name, [keys(x) for x in s.to_list()], dtype=pl.List(S))


def _properties(df: pl.DataFrame) -> tuple[list[pl.Expr], pl.Expr]:
    """(pass-through ``property_*`` / session expressions, route expression) from
    the ``_props`` column (JSON object text), for the keys present in the file."""
    found = df.select(pl.col("_props").map_batches(_property_keys, return_dtype=pl.List(S)).explode().drop_nulls().unique(maintain_order=True)).to_series().to_list()
    by_name: dict[str, list[str]] = {}
    session: dict[str, list[str]] = {SESSION_ID: [], SESSION_NAME: [], SESSION_PATH: []}
    for key in found:
        for s_key in session:
            if key.lower() == s_key.lower():
                session[s_key].append(key)
        if key.lower().startswith("helicone-") and not _PROPERTY_PREFIX.match(key):
            continue
        by_name.setdefault(_PROPERTY_PREFIX.sub("", key).lower(), []).append(key)

    def value(keys: list[str]) -> pl.Expr:
        vals = [jp("_props", key_path(k)) for k in keys]
        return pl.coalesce([pl.when(v != "").then(v) for v in vals]) if vals else pl.lit(None, dtype=S)

    cols = [value(keys).alias(f"property_{name}") for name, keys in by_name.items()]
    cols += [value(session[SESSION_ID]).alias("_session_id"), value(session[SESSION_NAME]).alias("session_name"), value(session[SESSION_PATH]).alias("session_path")]
    route = pl.coalesce([value(by_name.get(name, [])) for name in ROUTE_PROPERTIES] + [value(session[SESSION_NAME])])
    return cols, route


#: Record fields read, by column name (``_``-prefixed ones are used, then dropped).
FIELDS: dict[str, tuple[str, ...]] = {
    "_props": ("request_properties",),
    "_body": ("response_body",),
    "_req": ("request_body",),
    "response_status": ("response_status",),
    "helicone_provider": ("provider",),
    "_response_model": ("response_model",),
    "_model_override": ("model_override",),
    "_request_model": ("request_model",),
    "_model_column": ("model",),
    "_completion_tokens": ("completion_tokens",),
    "_created": ("request_created_at",),
    "_request_id": ("request_id",),
    "request_path": ("request_path",),
    "request_user_id": ("request_user_id",),
    "_signed_url": ("signed_body_url",),
}


def _provider(raw_provider: pl.Expr) -> pl.Expr:
    up = raw_provider.str.to_uppercase()
    return pl.when(up.is_null() | up.is_in(list(NOT_A_PROVIDER))).then(pl.lit(None, dtype=S)).otherwise(up.replace(PROVIDER_SPELLING).str.to_lowercase())


def _problems(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``_problem`` (reason, null when the record is read) and ``_problem_kind``.

    Only the suspect records (no body, a non-2xx status, a ``streamed_data`` key)
    have their body parsed again for the reason; the others keep null."""
    body = pl.col("_body")
    missing = body.is_null() | body.str.strip_chars().is_in(["", "{}", "null"])
    code = to_int(pl.col("response_status"))
    failed = code.is_not_null() & ((code < 200) | (code > 299))
    # An unescaped "streamed_data": is a key (inside a JSON string it would be \").
    maybe_stream = body.str.contains(r'"streamed_data"\s*:').fill_null(False)
    suspect = df.filter(missing | failed | maybe_stream)
    fine = df.filter(~(missing | failed | maybe_stream)).with_columns(pl.lit(None, dtype=S).alias("_problem"), pl.lit(None, dtype=S).alias("_problem_kind"))
    stream = jp(body, "$.streamed_data").is_not_null()
    err_kind = pl.coalesce(jp(body, "$.error.type"), jp(body, "$.error.code"), jp(body, "$.error.status"), jp(body, "$.type"), pl.lit("error"))
    err_msg = pl.coalesce(jp(body, "$.error.message"), jp(body, "$.message"), body, pl.lit(""))
    reason = (
        pl.when(missing & pl.col("_signed_url").is_not_null())
        .then(pl.lit("no response body in the export (only signed_body_url): export again with --include-body"))
        .when(missing)
        .then(pl.lit("no response body in the record"))
        .when(stream)
        .then(pl.lit("streamed response kept as raw chunks (response_body.streamed_data): not read by this release (the SSE stream reader will read it)"))
        .when(failed)
        .then(pl.concat_str([pl.lit("HTTP "), code.cast(S), pl.lit(" error body: "), err_kind, pl.lit(": "), err_msg.str.replace_all(r"\s+", " ").str.slice(0, 200)]))
    )
    kind = pl.when(~missing & ~stream & failed).then(pl.lit(ERROR_BODY)).otherwise(pl.lit(UNKNOWN_SHAPE))
    suspect = suspect.with_columns(reason.alias("_problem"), kind.alias("_problem_kind"))
    return pl.concat([fine, suspect]).sort("_rid")


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a Helicone export: JSON records, or the CSV export (all problems).

    Input: a Source (``jsonl`` or ``csv`` container). Output: (LazyFrame of
    canonical columns plus ``provider_api``, ``response_id``, ``request_path``,
    ``response_status``, ``request_user_id``, ``helicone_provider``,
    ``session_name``, ``session_path`` and ``property_*`` string columns;
    problems with problems.PROBLEM_SCHEMA). ``source_line`` is the 1-based line
    (record); for the CSV export, the 0-based data row as for every CSV table.
    Errors: none; see the module doc for what becomes a problem row.
    """
    if src.container == CSV:
        return _read_csv(src)
    df = read_checked_lines(src.path, src.data)
    problems = [line_problems(df, src.path)]
    df = (
        df.filter(pl.col("_error").is_null())
        .with_row_index("_rid")
        .with_columns(pick(pl.col(RAW), FIELDS).alias("_f"))
        .drop(RAW, "_error", "_keys", "_body_keys", "_wrapped_response", "_wrapped_request")
        .unnest("_f")
    )
    prop_cols, route = _properties(df)
    df = _problems(df.with_columns(*prop_cols, route.alias("_route"))).drop("_props", "_signed_url")
    rows, bad = extract_embedded(df, src.path)
    problems.append(bad)
    tokens = to_int(pl.col("_completion_tokens"))
    rows = rows.with_columns(
        pl.coalesce(_provider(pl.col("helicone_provider")), pl.col("provider")).alias("provider"),
        pl.coalesce("_response_model", "_model_override", "_request_model", "model", "_model_column").alias("model"),
        pl.coalesce("output_tokens", tokens).alias("output_tokens"),
        pl.coalesce(parse_timestamp(pl.col("_created")), "timestamp").alias("timestamp"),
        pl.col("_request_id").alias("span_id"),
        pl.col("_session_id").alias("trace_id"),
        pl.col("_route").alias("route"),
    )
    drop = ["_rid", "_response_model", "_model_override", "_request_model", "_model_column", "_completion_tokens", "_created", "_request_id", "_session_id", "_route"]
    return rows.drop(drop).lazy(), pl.concat(problems, how="vertical_relaxed")


def _read_csv(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """The CSV export: no response body, so every data row is a problem row."""
    source = io.BytesIO(src.data) if src.data is not None else src.path
    df = pl.read_csv(source, infer_schema=False).with_row_index("source_line")
    reason = "Helicone CSV export has no response body (no stop reason, no output): export as JSONL with --include-body"
    problems = df.select(
        pl.lit(src.path).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.lit(UNKNOWN_SHAPE).alias("kind"),
        pl.lit(reason).alias("reason"),
    )
    return pl.DataFrame(schema={"source_file": S, "source_line": pl.Int64}).lazy(), problems.cast(PROBLEM_SCHEMA)


FORMATS = [
    Format(
        "helicone",
        "Helicone export: records with request_id, provider and request_body / response_body (or signed_body_url); "
        "the CSV export is recognised by its header and reported (it has no response body)",
        read,
        containers=(JSONL, JSON, CSV),
        record=is_helicone,
        columns=is_helicone_csv,
    ),
]
