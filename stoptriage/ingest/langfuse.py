"""Langfuse observation exports (trace-formats.md §3) -> canonical rows.

Both spellings of an observation are read:

* public API / UI JSON export (camelCase): ``id, traceId, type, name, startTime,
  model, modelParameters, usageDetails, input, output, metadata, level,
  statusMessage``;
* blob-storage export (snake_case, ``observations/`` and the enriched
  ``observations_v2/``): ``trace_id, start_time`` (``YYYY-MM-DD HH:MM:SS.ffffff``
  UTC), ``provided_model_name, model_parameters`` (a JSON string),
  ``usage_details, input, output`` (strings), ``tool_calls`` (JSON strings),
  ``tool_call_names, trace_name`` (langfuse-docs ``blob-storage-export-fields.mdx``),

in JSON lines, a JSON array (converted to lines before us), CSV (every cell text;
objects and arrays JSON-encoded) and Parquet (Langfuse's default blob format since
2026-07; typed columns: maps, lists and structs are read as JSON).

Only ``GENERATION`` observations are model calls; every other type is counted in
one ``not_a_model_call`` row per file. A record without ``type`` is reported
(``unknown_shape``) with its line.

Langfuse has **no stop field** (§3c). The stop value is, first found:
``metadata.finish_reason`` (the Langfuse OpenAI wrapper writes it for streams,
langfuse-python PR #1526), ``metadata.stop_reason``, the OTel attribute
``gen_ai.response.finish_reasons`` kept in metadata by OTel ingestion (first
element), else the stop field of a raw provider body held in ``output``
(``bodies.extract``, §0); else null (normalized ``unknown``). The Langfuse OpenAI
wrapper stores no stop value for non-streaming calls (output = ``{role, content,
tool_calls?}``), so those rows are ``unknown``, never guessed from the text.

Field helpers shared with ``langsmith.py`` live in ``fields.py``.
"""

from __future__ import annotations


import polars as pl

from ..schema import CANONICAL, TOOL_CALL
from .fields import (
    CALL_ERROR,
    S,
    all_problems,
    content_text,
    either_true,
    first_value,
    flag_bodies,
    json_field,
    kind_problems,
    last_is_tool_result,
    load_fields,
    merge_body_columns,
    nonempty,
    parse_time,
    provider_from_model,
    provider_name,
    tool_calls_from,
    tool_schemas_from,
)
from .jsonl import jp, key_path, robust_decode, to_int
from .source import CSV, JSON, JSONL, PARQUET, Format, Source

# ---------------------------------------------------------------------------
# Langfuse reader (trace-formats.md §3)
# ---------------------------------------------------------------------------

#: Observation types (§3a); only GENERATION is a model call.
OBSERVATION_TYPES = frozenset({"GENERATION", "SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL"})

#: Fields that may hold an object or array (or JSON text); the others are scalars.
NESTED = frozenset({
    "modelParameters", "model_parameters", "usageDetails", "usage_details", "usage",
    "input", "output", "metadata", "tool_calls", "tool_call_names",
})  # fmt: skip

#: Top-level fields read, both spellings (camelCase API / UI export, snake_case blob export).
FIELDS = (
    "id", "type", "name", "traceId", "trace_id", "startTime", "start_time",
    "model", "provided_model_name", "modelParameters", "model_parameters",
    "usageDetails", "usage_details", "usage", "input", "output", "metadata",
    "level", "statusMessage", "status_message", "parentObservationId", "parent_observation_id",
    "traceName", "trace_name", "environment", "tool_calls", "tool_call_names",
)  # fmt: skip

_JSON_FORMATS = ["json_object", "json_schema"]


def _f(name: str) -> pl.Expr:
    return pl.col(f"f_{name}")


def _either(camel: str, snake: str) -> pl.Expr:
    return pl.coalesce(nonempty(_f(camel)), nonempty(_f(snake)))


def _meta_attr(meta: pl.Expr, key: str) -> pl.Expr:
    """An OTel attribute kept in Langfuse metadata: under ``attributes`` or at the top level."""
    quoted = key_path(key)[1:]  # '["gen_ai.x"]'
    return pl.coalesce(jp(meta, "$.attributes" + quoted), jp(meta, "$" + quoted))


def _prepare(gen: pl.DataFrame) -> pl.DataFrame:
    """Per-observation intermediate columns (all text) from the ``f_*`` fields."""
    out = json_field(_f("output"))
    as_json = jp(out, "$")  # compact JSON, an unquoted JSON string, or null (plain text)
    # n > 1: the wrapper stores a list of messages; the canonical row reads the first.
    first = pl.when(as_json.str.starts_with("[") & jp(as_json, "$[0]").is_not_null()).then(jp(as_json, "$[0]")).otherwise(as_json)
    inp = jp(json_field(_f("input")), "$")
    df = gen.with_columns(
        out.alias("_out"),
        first.alias("_msg"),
        json_field(_f("metadata")).alias("_meta"),
        _either("modelParameters", "model_parameters").alias("_params"),
        _either("usageDetails", "usage_details").alias("_usage"),
        inp.alias("_in"),
        pl.when(inp.str.starts_with("[")).then(inp).otherwise(jp(inp, "$.messages")).alias("_msgs"),
    )
    # A chat message dict ({role, content, ...}: the OpenAI wrapper's output) is not a
    # body; an Anthropic body also has a role but is typed (type "message", stop_reason).
    msg = pl.col("_msg")
    df = df.with_columns(jp(msg, "$.role").alias("_role"), jp(msg, "$.content").alias("_content"))
    plain_message = pl.col("_role").is_not_null() & jp(msg, "$.type").is_null() & jp(msg, "$.stop_reason").is_null()
    return flag_bodies(df, "_msg", ~plain_message)


def _own_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical values read from the observation itself (not from a provider body)."""
    msg, meta, params, usage = pl.col("_msg"), pl.col("_meta"), pl.col("_params"), pl.col("_usage")
    calls = pl.coalesce(
        jp(msg, "$.tool_calls"),
        jp(msg, "$.additional_kwargs.tool_calls"),
        pl.concat_str([pl.lit("["), jp(msg, "$.function_call"), pl.lit("]")]),
    )
    df = df.with_columns(calls.alias("_msg_calls"))
    is_msg = ~pl.col("_is_body") & pl.any_horizontal([pl.col(c).is_not_null() for c in ("_role", "_content", "_msg_calls")])
    stop = pl.coalesce(
        first_value(jp(meta, "$.finish_reason")),
        first_value(jp(meta, "$.stop_reason")),
        first_value(_meta_attr(meta, "gen_ai.response.finish_reasons")),
    )
    hint = pl.coalesce(
        provider_name(jp(meta, "$.ls_provider")),
        provider_name(_meta_attr(meta, "gen_ai.provider.name")),
        provider_name(_meta_attr(meta, "gen_ai.system")),
    )
    legacy = nonempty(_f("usage"))
    tokens = pl.coalesce(
        to_int(jp(usage, "$.output")),
        to_int(jp(usage, "$.completion_tokens")),
        to_int(jp(legacy, "$.output")),
        to_int(jp(legacy, "$.completionTokens")),
    )
    cap = pl.coalesce(
        [to_int(jp(src, f"$.{k}")) for src in (params, pl.col("_in")) for k in ("max_tokens", "max_completion_tokens", "max_output_tokens")]
    )
    rf = pl.coalesce(jp(params, "$.response_format"), jp("_in", "$.response_format"))
    rf_type = pl.coalesce(jp(rf, "$.type"), rf)
    expects = pl.when(params.is_not_null() | rf.is_not_null()).then(rf_type.is_in(_JSON_FORMATS).fill_null(False))
    after = pl.coalesce(last_is_tool_result(pl.col("_msgs")), pl.when(pl.col("_in").is_not_null()).then(pl.lit(False)))
    level = _f("level").str.to_uppercase()
    return df.with_columns(
        pl.coalesce(nonempty(_f("trace_name")), nonempty(_f("traceName")), nonempty(_f("name"))).alias("route"),
        _either("traceId", "trace_id").alias("trace_id"),
        nonempty(_f("id")).alias("span_id"),
        parse_time(_either("startTime", "start_time")).alias("timestamp"),
        _either("model", "provided_model_name").alias("model"),
        hint.alias("_hint"),
        stop.alias("provider_stop_reason"),
        pl.when((level == "ERROR") & pl.col("_out").is_null()).then(pl.lit(CALL_ERROR)).alias("_call_error"),
        pl.when(is_msg).then(content_text(msg, pl.col("_content")).fill_null("")).otherwise(pl.coalesce(msg, pl.col("_out"))).alias("_text"),
        pl.when(is_msg).then(jp(msg, "$.refusal")).alias("_refusal"),
        pl.when(is_msg).then(pl.col("_msg_calls")).alias("_calls"),
        pl.when(is_msg & pl.col("_msg_calls").is_null()).then(pl.col("_content")).alias("_blocks"),
        tokens.alias("output_tokens"),
        pl.when(cap > 0).then(cap).alias("max_tokens"),
        expects.alias("expects_json"),
        after.alias("after_tool_result"),
        jp("_in", "$.tools").alias("_tools"),
        nonempty(_f("name")).alias("observation_name"),
        nonempty(_f("level")).alias("level"),
        _either("statusMessage", "status_message").alias("status_message"),
        _either("parentObservationId", "parent_observation_id").alias("parent_observation_id"),
        nonempty(_f("environment")).alias("environment"),
    )


def _blob_tool_calls(df: pl.DataFrame) -> pl.DataFrame:
    """``_rid`` -> tool_calls from the blob export's ``tool_calls`` (JSON strings of
    ``{id, arguments, type, index}``) and parallel ``tool_call_names`` (langfuse
    ``convertCallsToArrays``)."""
    idx = robust_decode(_f("tool_calls"), pl.List(S)).list.eval(pl.int_range(pl.len()))
    arrays = df.filter(_f("tool_calls").str.starts_with("[") & (_f("tool_calls") != "[]"))
    out = arrays.select("_rid", "f_tool_calls", "f_tool_call_names", idx.alias("_i")).explode("_i").filter(pl.col("_i").is_not_null())
    at = pl.concat_str([pl.lit("$["), pl.col("_i").cast(S), pl.lit("]")])
    out = out.with_columns(jp("f_tool_call_names", at).alias("name"), jp(jp("f_tool_calls", at), "$.arguments").alias("arguments"))
    return (
        out.filter(pl.col("name").is_not_null())
        .sort("_rid", "_i")
        .group_by("_rid", maintain_order=True)
        .agg(pl.struct("name", "arguments").cast(TOOL_CALL).alias("tool_calls"))
    )


#: Pass-through columns of a Langfuse row (besides the canonical ones).
PASSTHROUGH = ("observation_name", "level", "status_message", "parent_observation_id", "environment", "response_id", "provider_api")


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a Langfuse observation export (trace-formats.md §3).

    Input: a Source (JSON lines / converted JSON array, CSV or Parquet), either
    spelling. Output: (LazyFrame, problems). The frame has one row per
    ``GENERATION`` observation, in file order, with the canonical columns
    (schema.CANONICAL) filled as the module doc says, plus pass-through
    ``observation_name, level, status_message, parent_observation_id,
    environment`` (str) and, for a raw provider body in ``output``,
    ``response_id`` and ``provider_api`` (the ``bodies`` API name). Column rules:

    * ``route``: ``trace_name`` (enriched blob export), else the observation
      ``name`` (§11 route table); ``trace_id`` / ``span_id``: ``traceId`` /
      ``trace_id`` and the observation ``id``; ``timestamp``: ``startTime`` /
      ``start_time``.
    * ``provider``: from a raw body, else metadata ``ls_provider`` /
      ``gen_ai.provider.name`` / ``gen_ai.system``, else guessed from the model
      id (:func:`provider_from_model`); null when none says.
    * ``output_text``: the body's text; a message's ``content`` (string or text
      blocks); the first message of a list (n > 1); else the output as text.
    * ``tool_calls``: body calls; message ``tool_calls`` / ``additional_kwargs.tool_calls``
      / ``function_call``; Anthropic ``tool_use`` blocks; else the blob
      ``tool_calls`` + ``tool_call_names``.
    * ``output_tokens``: ``usageDetails.output`` / ``usage_details.output``
      (legacy ``usage.completionTokens``); ``max_tokens``:
      ``modelParameters.max_tokens | max_completion_tokens`` (``Infinity``, the
      wrapper's "not set", and caps <= 0 are null); ``expects_json``:
      ``response_format.type`` in ``json_object, json_schema`` in the parameters
      or the input (False when parameters were recorded without it, else null);
      ``after_tool_result``: last message of ``input`` (a list, or ``{messages}``).
    * ``level == "ERROR"`` with no output: a row (the call was made and failed),
      ``stop_detail = "call_error"``, ``provider_stop_reason`` null; the
      ``status_message`` passes through. With an output it is an ordinary row.

    Problems: blank / malformed lines; a record without ``type`` (unknown_shape);
    a body in ``output`` whose part arrays do not decode (unknown_shape); one
    ``not_a_model_call`` row counting the other observation types.
    """
    df, problems = load_fields(src, FIELDS, NESTED)
    df = df.with_row_index("_rid")
    typ = nonempty(_f("type")).str.to_uppercase()
    report = [
        problems,
        *kind_problems(df, typ, "GENERATION", src.path, "observation", "record without an observation type; expected a Langfuse observation (GENERATION, SPAN, ...)"),
    ]
    gen = _own_columns(_prepare(df.filter(typ == "GENERATION")))
    # A body's request: the input when it is a request object ({model, messages, ...}).
    gen = gen.with_columns(
        pl.when(pl.col("_is_body")).then(pl.col("_msg")).alias("_body"),
        pl.when(pl.col("_in").str.starts_with("{")).then(pl.col("_in")).alias("_req"),
    )
    gen, bad = merge_body_columns(gen, "_body", "_req", src.path)
    report.append(bad)
    calls = [
        tool_calls_from(gen, "_calls").rename({"tool_calls": "_tc_msg"}),
        tool_calls_from(gen, "_blocks", only_type="tool_use").rename({"tool_calls": "_tc_blocks"}),
        _blob_tool_calls(gen).rename({"tool_calls": "_tc_blob"}),
        tool_schemas_from(gen, "_tools").rename({"tool_schemas": "_schemas"}),
    ]
    for frame in calls:
        gen = gen.join(frame, on="_rid", how="left")
    is_body = pl.col("_is_body")
    rows = gen.sort("_rid").with_columns(
        pl.lit(src.path).alias("source_file"),
        pl.coalesce("b_provider", "_hint", provider_from_model(pl.col("model"))).alias("provider"),
        pl.coalesce("model", "b_model").alias("model"),
        pl.coalesce("provider_stop_reason", "b_provider_stop_reason").alias("provider_stop_reason"),
        pl.lit(None, dtype=S).alias("normalized_by"),
        pl.coalesce("b_stop_detail", "_call_error").alias("stop_detail"),
        pl.coalesce("b_provider_refusal", "_refusal").alias("provider_refusal"),
        pl.when(is_body).then(pl.col("b_output_text")).otherwise(pl.col("_text")).fill_null("").alias("output_text"),
        pl.when(is_body).then(pl.col("b_tool_calls")).otherwise(pl.coalesce("_tc_msg", "_tc_blocks", "_tc_blob")).alias("tool_calls"),
        pl.coalesce("b_tool_schemas", "_schemas").alias("tool_schemas"),
        pl.coalesce("output_tokens", "b_output_tokens").alias("output_tokens"),
        pl.coalesce("max_tokens", "b_max_tokens").alias("max_tokens"),
        either_true("expects_json", "b_expects_json").alias("expects_json"),
        either_true("after_tool_result", "b_after_tool_result").alias("after_tool_result"),
        pl.coalesce("timestamp", "b_timestamp").alias("timestamp"),
        pl.col("b_response_id").alias("response_id"),
        pl.col("b_api").alias("provider_api"),
    )
    return rows.select(*CANONICAL, *PASSTHROUGH).lazy(), all_problems(report)


def is_observation(obj: dict) -> bool:
    """Record sniffer (§3a, §11): an observation ``type`` with ``traceId``/``startTime``,
    or ``trace_id`` with ``start_time`` / ``provided_model_name`` / ``usage_details``."""
    typed = str(obj.get("type", "")).upper() in OBSERVATION_TYPES
    camel = "traceId" in obj or "startTime" in obj
    snake = "trace_id" in obj and bool({"start_time", "provided_model_name", "usage_details"} & obj.keys())
    return (typed and (camel or snake)) or ("trace_id" in obj and "provided_model_name" in obj)


def has_observation_columns(names: set[str]) -> bool:
    """CSV / Parquet sniffer: ``type`` with ``trace_id`` + ``start_time`` / ``provided_model_name``
    / ``usage_details`` (blob export), or with ``traceId`` + ``startTime`` (UI export)."""
    if "type" not in names:
        return False
    blob = "trace_id" in names and bool({"start_time", "provided_model_name", "usage_details"} & names)
    return blob or {"traceId", "startTime"} <= names


FORMATS = [
    Format(
        "langfuse",
        "Langfuse observations (API/UI export, camelCase; blob export, snake_case): records with type GENERATION/SPAN/... "
        "and traceId/startTime or trace_id with provided_model_name/usage_details; JSON lines, JSON array, CSV or Parquet",
        read,
        containers=(JSONL, JSON, CSV, PARQUET),
        record=is_observation,
        columns=has_observation_columns,
    )
]
