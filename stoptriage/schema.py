"""The canonical schema: one row per model response (an LLM call / LLM span).

This module is the single source of truth for column names, dtypes and the two
vocabularies (normalized ``stop_reason`` and ``derived_stop``). Every ingest
reader produces exactly :data:`CANONICAL` (plus pass-through columns of the
input); every later stage reads these names.

Source: ``shared/design/taxonomy.md`` §1 (canonical row) and §3 (derived classes),
``shared/reference/stop-reasons.md`` §5 (normalized vocabulary).
"""

from __future__ import annotations

import polars as pl

#: Tool call as carried in the canonical frame: ``arguments`` is the raw JSON text
#: exactly as the provider sent it (OpenAI) or the provider's object re-serialized
#: compactly (Anthropic ``input``, Gemini ``args``, Bedrock ``toolUse.input``).
TOOL_CALL = pl.Struct({"name": pl.String, "arguments": pl.String})

#: Tool definition from the request: tool name and its JSON Schema as JSON text.
TOOL_SCHEMA = pl.Struct({"name": pl.String, "schema": pl.String})

#: Canonical columns, in output order, with their dtypes (taxonomy.md §1).
CANONICAL: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "timestamp": pl.Datetime("us", "UTC"),
    "route": pl.String(),
    "provider": pl.String(),
    "model": pl.String(),
    "provider_stop_reason": pl.String(),
    "normalized_by": pl.String(),
    "stop_detail": pl.String(),
    "provider_refusal": pl.String(),
    "output_text": pl.String(),
    "tool_calls": pl.List(TOOL_CALL),
    "tool_schemas": pl.List(TOOL_SCHEMA),
    "output_tokens": pl.Int64(),
    "max_tokens": pl.Int64(),
    "expects_json": pl.Boolean(),
    "after_tool_result": pl.Boolean(),
}

#: Columns a flat table must carry (after ``--map``): the text and a stop reason.
REQUIRED_FLAT = ("output_text", "provider_stop_reason")

#: Normalized stop reasons (stop-reasons.md §5). ``unknown`` = no value was sent
#: (missing/null/unspecified); ``other`` = a value we do not recognise.
STOP_REASONS = (
    "stop",
    "stop_sequence",
    "length",
    "context_window",
    "tool_call",
    "pause",
    "content_filter",
    "refusal",
    "malformed_output",
    "error",
    "aborted",
    "other",
    "unknown",
)

#: Derived classes in precedence order, first match wins (taxonomy.md §3).
DERIVED_STOP = (
    "empty",
    "tool_call_malformed",
    "tool_call",
    "truncated",
    "invalid_json",
    "refusal",
    "short_outlier",
    "complete",
)

STOP_REASON_ENUM = pl.Enum(STOP_REASONS)
DERIVED_STOP_ENUM = pl.Enum(DERIVED_STOP)

#: Bulky columns left out of ``classify`` output unless asked for (taxonomy.md §5).
BULKY = ("output_text", "tool_calls", "tool_schemas")


def conform(lf: pl.LazyFrame, extra: list[str] | None = None) -> pl.LazyFrame:
    """Add missing canonical columns as typed nulls and cast present ones.

    Input: any LazyFrame whose canonical-named columns hold castable values.
    Output: the canonical columns in :data:`CANONICAL` order with their dtypes,
    followed by ``extra`` pass-through columns (unchanged). Casts are non-strict:
    a value that does not fit becomes null. ``route`` null becomes ``"unknown"``,
    ``output_text`` null becomes ``""`` (taxonomy.md §1).
    """
    names = lf.collect_schema().names()
    cols = []
    for name, dtype in CANONICAL.items():
        if name in names:
            cols.append(pl.col(name).cast(dtype, strict=False))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    out = lf.select(*cols, *[pl.col(c) for c in (extra or []) if c in names and c not in CANONICAL])
    return out.with_columns(
        pl.col("route").fill_null("unknown"),
        pl.col("output_text").fill_null(""),
        pl.col("tool_calls").fill_null(pl.lit([], dtype=pl.List(TOOL_CALL))),
    )
