"""Provider raw stop value -> normalized ``stop_reason``, from a table of data.

The table is ``data/stop_reasons.csv`` (provider, raw, stop_reason, source): one
row per provider value, ``*`` for a value that means the same for every provider,
each with its source in shared/reference/stop-reasons.md. Normalization is a lookup
in that table (first by (provider, key), then by key alone), which streams;
no if-chains.

The key is the raw value itself, except two composite cases read from the
provider's own fields: OpenAI Responses ``incomplete`` becomes
``incomplete:<incomplete_details.reason>``, and a Gemini body with no
candidates but a ``promptFeedback.blockReason`` becomes ``prompt_blocked``; and
the APIs that have no tool-call stop value and declare calls by output item type
(OpenAI Responses ``completed`` with ``function_call`` items, Gemini ``STOP``
with ``functionCall`` parts: stop-reasons.md G2, G11; Ollama ``stop`` and Cohere
v1 ``COMPLETE`` with tool calls, §4) get ``<raw>+tool_calls``,
which maps to ``tool_call``. OpenAI Chat ``stop`` with tool calls is NOT rewritten:
Chat has a ``tool_calls`` value, so that pair stays visible as a disagreement
(``hidden_tool_call``, G1).
A value with no row is ``other`` (never a clean stop); no value is ``unknown``.
A stream with no stop value keys on its ``stop_detail`` (``stream_incomplete``,
``stream_error``, ``guardrail_intervened``), so a cut-off capture reads ``aborted``,
never ``stop`` or ``unknown``.
Gemini enum numbers beyond 5 map to ``other``: the Gemini API and Vertex AI
number their later values differently, so a number alone does not say which.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import polars as pl

from .schema import STOP_REASON_ENUM

#: ``stop_detail`` values the stream reader sets when a stream carries no stop
#: value: it ended without its terminal event (-> ``aborted``), or with an error
#: event (-> ``error``). Rows in data/stop_reasons.csv map them (stop-reasons.md §1.2).
#: How exporters spell the Gemini provider (ours, OTel gen_ai.provider.name,
#: OpenInference llm.provider / llm.system).
GEMINI_PROVIDERS = ("gemini", "google", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "vertexai", "vertex_ai")

#: A Bedrock Titan stream blocked by a guardrail sends no completionReason, only
#: ``amazon-bedrock-guardrailAction: INTERVENED`` (-> ``guardrail_intervened``).
#: Langfuse ``level: ERROR`` / LangSmith run ``error`` with no output: ``call_error``.
#: An OTLP span with status error and no stop value nor ``error.type``: ``span_error``.
DETAIL_KEYS = ("stream_incomplete", "stream_error", "guardrail_intervened", "call_error", "span_error")


def position_in(value: pl.Expr, keys: pl.Series) -> pl.Expr:
    """Row index (u32) of ``value`` in ``keys`` (a String Series of distinct, non-null
    keys); null for a null value or one not among the keys.

    Used to look a value up in a small table: ``pl.lit(column).gather(position_in(...))``
    gives the table's value per row, as a left join would, without a join (a streaming
    left join rebuilds every column of the frame to attach one). Built from ``is_in``
    and a cast to ``pl.Enum(keys)``, both elementwise, so the streaming engine runs it
    morsel by morsel; ``replace_strict`` would give the same answer but runs as a
    columnar function that holds the whole column (Polars 2.1 physical plan).
    """
    known = pl.when(value.is_in(keys.to_list())).then(value)
    return known.cast(pl.Enum(keys.to_list())).to_physical().cast(pl.UInt32)


@lru_cache(maxsize=1)
def mapping_table() -> pl.DataFrame:
    """The shipped mapping: columns provider (str, ``*`` = any), raw (str), stop_reason (str)."""
    text = resources.files("stoptriage").joinpath("data/stop_reasons.csv").read_bytes()
    df = pl.read_csv(text, infer_schema=False)
    return df.select("provider", "raw", "stop_reason")


def stop_key() -> pl.Expr:
    """The lookup key per row (see module doc). Input: provider_stop_reason, stop_detail, provider, tool_calls."""
    raw = pl.col("provider_stop_reason")
    detail = pl.col("stop_detail")
    has_calls = pl.col("tool_calls").list.len().fill_null(0) > 0
    # APIs with no tool-call stop value declare calls by output item type (G2, G11).
    # Keyed on the value alone: exporters name the provider by host (azure, google,
    # aws, gcp.vertex_ai ...), and no other API sends these values.
    # The google-genai OTel instrumentation lowercases Gemini's values (stop-reasons.md §6),
    # but a lowercase ``stop`` is OpenAI's too, where it must stay ``stop`` (G1).
    # Ollama's native API and Cohere chat v1 have no tool-call value either: calls
    # come under ``stop`` / ``COMPLETE`` (stop-reasons.md §4, G1). Cohere v2 sends
    # ``TOOL_CALL`` whenever it calls a tool, so COMPLETE + calls is v1's shape.
    provider = pl.col("provider")
    declared_by_item = (
        raw.is_in(["completed", "STOP", "1"])
        | ((raw == "stop") & (provider.is_in(GEMINI_PROVIDERS) | (provider == "ollama")))
        | ((raw == "COMPLETE") & (provider == "cohere"))
    )
    return (
        pl.when(has_calls & declared_by_item)
        .then(pl.concat_str([raw, pl.lit("+tool_calls")]))
        .when((raw == "incomplete") & detail.is_not_null())
        .then(pl.concat_str([raw, pl.lit(":"), detail]))
        .when(raw.is_null() & detail.is_in(list(DETAIL_KEYS)))
        .then(detail)
        .when(raw.is_null() & detail.is_not_null() & pl.col("provider").is_in(GEMINI_PROVIDERS))
        .then(pl.lit("prompt_blocked"))
        .otherwise(raw)
    )


def add_stop_reason(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``stop_reason`` (Enum of schema.STOP_REASONS) to a canonical LazyFrame.

    Input columns: provider (str), provider_stop_reason (str), stop_detail (str),
    tool_calls (list).
    Output: the same frame plus ``stop_reason``; ``provider_stop_reason`` untouched.
    Null key -> ``unknown``; a key absent from the table -> ``other``.
    """
    table = mapping_table()
    exact = table.filter(pl.col("provider") != "*")
    generic = table.filter(pl.col("provider") == "*")
    # Two lookups by value (position_in: a hash of the few hundred table rows):
    # (provider, key) joined by a unit separator, then the key alone. The same
    # answer as two left joins on the table, which rebuilt every column of the
    # frame, text included, to attach one (issue 6 profile: 8% of classify's CPU).
    pair = pl.concat_str([pl.col("provider"), pl.lit("\x1f"), pl.col("_key")])
    lf = lf.with_columns(stop_key().alias("_key"))
    # The looked-up values are Enum codes already: no text per row, no cast after.
    lf = lf.with_columns(
        pl.lit(exact["stop_reason"].cast(STOP_REASON_ENUM)).gather(position_in(pair, exact["provider"] + "\x1f" + exact["raw"])).alias("_sr_exact"),
        pl.lit(generic["stop_reason"].cast(STOP_REASON_ENUM)).gather(position_in(pl.col("_key"), generic["raw"])).alias("_sr_any"),
    )
    sr = (
        pl.when(pl.col("_key").is_null())
        .then(pl.lit("unknown", dtype=STOP_REASON_ENUM))
        .otherwise(pl.coalesce("_sr_exact", "_sr_any", pl.lit("other", dtype=STOP_REASON_ENUM)))
    )
    return lf.with_columns(sr.alias("stop_reason")).drop("_key", "_sr_exact", "_sr_any")
