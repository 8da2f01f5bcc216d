"""LiteLLM StandardLoggingPayload records (trace-formats.md §5).

Format ``litellm``: one payload per JSON line (or JSON objects one after another,
as the ``s3`` / ``gcs_bucket`` callbacks and custom loggers write them). The
``response`` is what LiteLLM returned to the caller, parsed with
:func:`bodies.extract` (OpenAI Chat for ``completion``, text completion,
Responses, or the native Anthropic / Gemini body of a pass-through route).

Column sources (LiteLLM ``litellm/types/utils.py`` ``StandardLoggingPayload``):

* ``provider``: ``custom_llm_provider`` as LiteLLM spells it (``anthropic``,
  ``vertex_ai``, ``bedrock``, ...), else ``error_information.llm_provider``,
  else the body's API provider.
* ``normalized_by``: ``"litellm"`` when the body is LiteLLM's OpenAI-shaped
  rewrite of another provider's answer (OpenAI Chat / completions / Responses
  body with a provider other than openai / azure, or no provider named): LiteLLM
  maps every finish reason to OpenAI's values (§0 normalization warning,
  ``map_finish_reason``), so ``end_turn`` and ``stop_sequence`` both read
  ``stop``. Null for OpenAI's own values and for native bodies passed through.
* ``model``: the body's model, else top-level ``model``. ``output_tokens``: body
  usage, else top-level ``completion_tokens``.
* request: ``model_parameters`` (max tokens, ``response_format``, tools) merged
  with ``messages`` (last message role ``tool`` = after a tool result).
* ``timestamp``: ``startTime`` (unix seconds, float). ``trace_id``: ``trace_id``
  (shared by retries and fallbacks); ``span_id``: ``id`` (the call id).
* ``route``: the first non-empty of ``request_tags[0]``,
  ``metadata.user_api_key_alias``, ``metadata.user_api_key_team_alias``,
  ``model_group`` (trace-formats.md §11: tags name the feature when the caller
  sets them; a key alias is usually per application; the model group is the
  last resort). ``request_tags`` (JSON text) and the other keys pass through.

Not read (problem rows): ``status == "failure"`` records are ``error_body``
problems with LiteLLM's error class, code and message: a failed call has no
stop reason, and an on-call engineer wants it counted as a failure, not as a
row with an invented ``error`` stop. Records whose ``response`` is missing or
not an object, or of an unknown shape, are ``unknown_shape``. Records of
non-LLM call types (embedding, image, audio, rerank, moderation, batch/file
management, ...) are counted in one ``not_a_model_call`` summary per file.
"""

from __future__ import annotations

import polars as pl

from .embedded import extract_embedded
from .jsonl import pick, to_int
from .jsonl import RAW, jp, line_problems, read_checked_lines
from .problems import ERROR_BODY, SKIPPED, UNKNOWN_SHAPE
from .responses import parse_timestamp
from .source import Format, Source

S = pl.String

#: Call types that are not a model generating text (LiteLLM ``CallTypes``), matched
#: as a substring of ``call_type``.
NON_LLM_CALL_TYPES = (
    "embedding",
    "image",
    "moderation",
    "transcription",
    "speech",
    "rerank",
    "search",
    "batch",
    "file",
    "assistant",
    "vector_store",
    "fine_tuning",
    "ocr",
    "video",
    "realtime",
    "container",
)

#: Providers whose own finish reasons are OpenAI's (no rewrite to flag).
OPENAI_NATIVE = ("openai", "azure", "text-completion-openai", "azure_text")

#: Payload fields read, by column name (``_``-prefixed ones are used, then dropped).
FIELDS: dict[str, tuple[str, ...]] = {
    "call_type": ("call_type",),
    "model_group": ("model_group",),
    "request_tags": ("request_tags",),
    "end_user": ("end_user",),
    "user_api_key_alias": ("metadata", "user_api_key_alias"),
    "user_api_key_team_alias": ("metadata", "user_api_key_team_alias"),
    "cache_hit": ("cache_hit",),
    "api_base": ("api_base",),
    "_status": ("status",),
    "_provider": ("custom_llm_provider",),
    "_error_provider": ("error_information", "llm_provider"),
    "_error_code": ("error_information", "error_code"),
    "_error_class": ("error_information", "error_class"),
    "_error_message": ("error_information", "error_message"),
    "_error_str": ("error_str",),
    "_model": ("model",),
    "_completion_tokens": ("completion_tokens",),
    "_start": ("startTime",),
    "_trace_id": ("trace_id",),
    "_id": ("id",),
    "_messages": ("messages",),
    "_params": ("model_parameters",),
}


def is_litellm(obj: dict) -> bool:
    """``call_type`` plus ``custom_llm_provider`` or ``model_parameters`` (§5, §11;
    payloads older than the ``custom_llm_provider`` field still have the other)."""
    return "call_type" in obj and ("custom_llm_provider" in obj or "model_parameters" in obj)


def _request() -> pl.Expr:
    """Request JSON text: ``model_parameters`` with ``messages`` added (and as
    ``input`` for Responses calls, whose spec reads ``input``). A value of another
    shape gives text that is not JSON, which every request path reads as null."""
    msgs, params = pl.col("_messages"), pl.col("_params")
    is_array = msgs.str.starts_with("[").fill_null(False)
    responses_call = pl.col("call_type").str.contains("responses").fill_null(False)
    inner = pl.when(params.str.starts_with("{")).then(params.str.strip_prefix("{").str.strip_suffix("}"))
    members = pl.concat_str(
        [
            pl.when(is_array).then(pl.concat_str([pl.lit('"messages":'), msgs])),
            pl.when(is_array & responses_call).then(pl.concat_str([pl.lit('"input":'), msgs])),
            pl.when(inner.str.strip_chars() != "").then(inner),
        ],
        separator=",",
        ignore_nulls=True,
    )
    return pl.concat_str([pl.lit("{"), members, pl.lit("}")])


def _failure_reason() -> pl.Expr:
    code = pl.col("_error_code")
    msg = pl.coalesce("_error_str", "_error_message", pl.lit(""))
    head = pl.concat_str(
        [pl.lit("failed call: "), pl.coalesce("_error_class", pl.lit("error")), pl.when(code.is_not_null() & (code != "")).then(pl.concat_str([pl.lit(" "), code]))],
        ignore_nulls=True,
    )
    return pl.concat_str([head, pl.lit(": "), msg.str.replace_all(r"\s+", " ").str.slice(0, 200)])


def _skipped_summary(df: pl.DataFrame, path: str) -> pl.DataFrame:
    """One ``not_a_model_call`` row for the file (none when every record is an LLM call)."""
    skipped = df.filter(pl.col("_skip")).group_by("call_type").len().sort(["len", "call_type"], descending=[True, False])
    if skipped.is_empty():
        return pl.DataFrame(schema={"source_file": S, "source_line": pl.Int64, "kind": S, "reason": S})
    total = int(skipped["len"].sum())
    kinds = ", ".join(f"{c} {n}" for c, n in skipped.iter_rows())
    what = "record is not an LLM call" if total == 1 else "records are not LLM calls"
    return pl.DataFrame(
        {"source_file": [path], "source_line": [None], "kind": [SKIPPED], "reason": [f"{total} {what} ({kinds})"]},
        schema={"source_file": S, "source_line": pl.Int64, "kind": S, "reason": S},
    )


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read LiteLLM StandardLoggingPayload records (JSON lines).

    Input: a Source (``jsonl`` container). Output: (LazyFrame of canonical
    columns plus ``provider_api``, ``response_id`` and the un-prefixed :data:`FIELDS`
    string columns; problems with problems.PROBLEM_SCHEMA). ``source_line`` is
    the 1-based line (record). Errors: none; see the module doc for what
    becomes a problem row.
    """
    df = read_checked_lines(src.path, src.data)
    problems = [line_problems(df, src.path)]
    df = (
        df.filter(pl.col("_error").is_null())
        .with_row_index("_rid")
        .with_columns(pick(pl.col(RAW), FIELDS).alias("_f"))
        .drop(RAW, "_error", "_keys", "_body_keys", "_wrapped_request")
        .unnest("_f")
        .with_columns(pl.col("call_type").str.contains("|".join(NON_LLM_CALL_TYPES)).fill_null(False).alias("_skip"))
    )
    problems.append(_skipped_summary(df, src.path))
    failed = (pl.col("_status") == "failure").fill_null(False)
    body = pl.col("_wrapped_response")
    tags = jp("request_tags", "$[0]")
    df = df.filter(~pl.col("_skip")).with_columns(
        body.alias("_body"),
        _request().alias("_req"),
        pl.when(failed)
        .then(_failure_reason())
        .when(body.is_null() | (body == "{}"))
        .then(pl.lit("no response object in the record (response is missing, empty or not an object)"))
        .alias("_problem"),
        pl.when(failed).then(pl.lit(ERROR_BODY)).otherwise(pl.lit(UNKNOWN_SHAPE)).alias("_problem_kind"),
        pl.coalesce([pl.when(v != "").then(v) for v in (tags, pl.col("user_api_key_alias"), pl.col("user_api_key_team_alias"), pl.col("model_group"))]).alias("_route"),
    )
    df = df.drop("_wrapped_response", "_skip", "_messages", "_params", "_status", "_error_code", "_error_class", "_error_message", "_error_str")
    rows, bad = extract_embedded(df, src.path)
    problems.append(bad)
    provider = pl.coalesce("_provider", "_error_provider", "provider")
    rewritten = pl.col("provider_api").is_in(["openai_chat", "openai_completions", "openai_responses"]) & ~provider.is_in(list(OPENAI_NATIVE)).fill_null(False)
    rows = rows.with_columns(
        provider.alias("provider"),
        pl.when(rewritten).then(pl.lit("litellm")).alias("normalized_by"),
        pl.coalesce("model", "_model").alias("model"),
        pl.coalesce("output_tokens", to_int(pl.col("_completion_tokens"))).alias("output_tokens"),
        pl.coalesce(parse_timestamp(pl.col("_start")), "timestamp").alias("timestamp"),
        pl.col("_trace_id").alias("trace_id"),
        pl.col("_id").alias("span_id"),
        pl.col("_route").alias("route"),
    ).drop("_rid", "_provider", "_error_provider", "_model", "_completion_tokens", "_start", "_trace_id", "_id", "_route")
    return rows.lazy(), pl.concat(problems, how="vertical_relaxed")


FORMATS = [
    Format(
        "litellm",
        "LiteLLM StandardLoggingPayload: JSON records with call_type and custom_llm_provider / model_parameters",
        read,
        record=is_litellm,
    ),
]
