"""LangSmith runs (trace-formats.md §4) -> canonical rows.

Reads ``client.list_runs()`` dumps as JSON lines (or a JSON array) and the bulk
export's Parquet files, whose ``inputs, outputs, extra, events`` columns are JSON
strings (docs.langchain.com ``langsmith/data-export``, ``run-data-format``). Only
runs with ``run_type == "llm"`` are model calls; the other run types (chain, tool,
retriever, prompt, parser, embedding) are counted in one ``not_a_model_call`` row
per file. A record without ``run_type`` is reported (``unknown_shape``).

Two shapes of ``outputs`` (§4c):

* LangChain chat / LLM runs: ``outputs.generations[0][0]`` with ``text``,
  ``generation_info.finish_reason`` (OpenAI, Gemini) and a serialized message
  whose ``kwargs`` hold ``content`` (string or block list), ``tool_calls``
  (``{name, args}``), ``response_metadata.finish_reason | stop_reason`` and
  ``usage_metadata``; Anthropic also ``outputs.llm_output.stop_reason``.
* SDK wrappers (``wrap_openai`` / ``wrap_anthropic``): ``outputs`` is the
  provider's response dict (plus ``usage_metadata``) and ``inputs`` the request
  kwargs; both go to ``bodies.extract`` (§0).

LangSmith keeps the provider's raw stop value (§0 "Normalization warning"), so
``normalized_by`` is null.
"""

from __future__ import annotations

import polars as pl

from .jsonl import jp, to_int
from ..schema import CANONICAL
from .fields import (
    CALL_ERROR,
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
from .source import JSON, JSONL, PARQUET, Format, Source

S = pl.String

#: Top-level run fields read (run-data-format).
FIELDS = (
    "id", "name", "run_type", "trace_id", "parent_run_id", "dotted_order", "start_time",
    "inputs", "outputs", "extra", "error", "status", "completion_tokens", "session_id",
)  # fmt: skip

#: Fields holding objects (JSON strings in the bulk export); the others are scalars.
NESTED = frozenset({"inputs", "outputs", "extra"})

#: Pass-through columns of a LangSmith row (besides the canonical ones).
PASSTHROUGH = ("run_name", "parent_run_id", "session_id", "ls_provider", "error", "response_id", "provider_api")

_JSON_FORMATS = ["json_object", "json_schema"]


def _f(name: str) -> pl.Expr:
    return pl.col(f"f_{name}")


def _with_root_names(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``_root_name``: the ``name`` of the trace's root run when it is in the file.

    The root run is the one whose ``id`` equals its ``trace_id`` (LangSmith sets a
    trace's id to its root run's id). One vectorized join on ``trace_id``.
    """
    roots = (
        df.filter(_f("id").is_not_null() & (_f("id") == _f("trace_id")))
        .select(pl.col("f_trace_id"), nonempty(_f("name")).alias("_root_name"))
        .unique("f_trace_id", keep="first", maintain_order=True)
    )
    return df.join(roots, on="f_trace_id", how="left")


def _prepare(runs: pl.DataFrame) -> pl.DataFrame:
    """Intermediate text columns: outputs / inputs / extra JSON text, the first
    generation and its message kwargs, and whether ``outputs`` is a provider body."""
    # JSON text as sent (not re-serialized: every JSONPath match parses it anyway);
    # ``_out`` is null when outputs is not a JSON object / array (a bare string).
    text = json_field(_f("outputs"))
    stripped = text.str.strip_chars_start()
    out = pl.when(stripped.str.starts_with("{") | stripped.str.starts_with("[")).then(stripped)
    gen = jp(out, "$.generations[0][0]")
    df = runs.with_columns(
        text.alias("_out_text"),
        out.alias("_out"),
        json_field(_f("inputs")).str.strip_chars_start().alias("_in"),
        json_field(_f("extra")).str.strip_chars_start().alias("_extra"),
        gen.alias("_gen"),
        pl.coalesce(jp(gen, "$.message.kwargs"), jp(gen, "$.message")).alias("_kw"),
        jp(out, "$.llm_output").alias("_llm_output"),
    )
    return flag_bodies(df, "_out", pl.col("_gen").is_null())


def _own_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical values read from the LangChain shape and the run's ``extra``."""
    # Sub-objects read several times are materialized once (each JSONPath match parses).
    df = df.with_columns(
        jp("_extra", "$.metadata").alias("_meta"),
        jp("_extra", "$.invocation_params").alias("_params"),
        jp("_kw", "$.response_metadata").alias("_resp"),
        jp("_kw", "$.content").alias("_content"),
    )
    gen, kw, llm_out, extra, inp = (pl.col(c) for c in ("_gen", "_kw", "_llm_output", "_extra", "_in"))
    meta, params, resp = pl.col("_meta"), pl.col("_params"), pl.col("_resp")
    is_lc = gen.is_not_null()
    stop = pl.coalesce(
        first_value(jp(gen, "$.generation_info.finish_reason")),
        jp(resp, "$.finish_reason"),
        jp(resp, "$.stop_reason"),
        jp(resp, "$.stopReason"),
        jp(resp, "$.done_reason"),
        jp(llm_out, "$.stop_reason"),
    )
    gen_text = nonempty(jp(gen, "$.text"))
    lc_text = pl.coalesce(gen_text, content_text(kw, pl.col("_content")), pl.lit(""))
    other_text = pl.coalesce(jp(pl.col("_out"), "$.output"), pl.col("_out"), pl.col("_out_text"))
    calls = pl.when(jp(kw, "$.tool_calls[0]").is_not_null()).then(jp(kw, "$.tool_calls")).otherwise(jp(kw, "$.additional_kwargs.tool_calls"))
    response_model = pl.coalesce(jp(resp, "$.model_name"), jp(resp, "$.model"), jp(llm_out, "$.model_name"), jp(llm_out, "$.model"))
    request_model = pl.coalesce(jp(meta, "$.ls_model_name"), jp(params, "$.model"), jp(params, "$.model_name"))
    tokens = pl.coalesce(
        to_int(jp(kw, "$.usage_metadata.output_tokens")),
        to_int(jp(pl.col("_out"), "$.usage_metadata.output_tokens")),
        to_int(jp(llm_out, "$.token_usage.completion_tokens")),
        to_int(jp(llm_out, "$.usage.output_tokens")),
    )
    cap = pl.coalesce(
        to_int(jp(meta, "$.ls_max_tokens")),
        to_int(jp(params, "$.max_tokens")),
        to_int(jp(params, "$.max_completion_tokens")),
        to_int(jp(params, "$.max_output_tokens")),
    )
    structured = jp(extra, "$.options.ls_structured_output_format")
    rf = pl.coalesce(jp(params, "$.response_format"), jp(meta, "$.ls_invocation_params.response_format"), jp(inp, "$.response_format"))
    rf_type = pl.coalesce(jp(rf, "$.type"), rf)
    expects = (
        pl.when(structured.is_not_null())
        .then(pl.lit(True))
        .when(rf.is_not_null())
        .then(rf_type.is_in(_JSON_FORMATS).fill_null(False))
        .when(extra.is_not_null() | inp.is_not_null())
        .then(pl.lit(False))
    )
    after = pl.coalesce(last_is_tool_result(jp(inp, "$.messages")), pl.when(inp.is_not_null()).then(pl.lit(False)))
    failed = nonempty(_f("error")).is_not_null() & pl.col("_out_text").is_null()
    return df.with_columns(
        pl.coalesce("_root_name", nonempty(_f("name"))).alias("route"),
        nonempty(_f("trace_id")).alias("trace_id"),
        nonempty(_f("id")).alias("span_id"),
        parse_time(_f("start_time")).alias("timestamp"),
        response_model.alias("model"),
        request_model.alias("_request_model"),
        nonempty(jp(meta, "$.ls_provider")).alias("ls_provider"),
        pl.when(is_lc).then(stop).alias("provider_stop_reason"),
        pl.when(failed).then(pl.lit(CALL_ERROR)).alias("_call_error"),
        pl.when(is_lc).then(lc_text).otherwise(other_text).alias("_text"),
        pl.when(is_lc).then(calls).alias("_calls"),
        tokens.alias("output_tokens"),
        to_int(_f("completion_tokens")).alias("_run_tokens"),
        pl.when(cap > 0).then(cap).alias("max_tokens"),
        expects.alias("expects_json"),
        after.alias("after_tool_result"),
        pl.coalesce(jp(params, "$.tools"), jp(inp, "$.tools")).alias("_tools"),
        nonempty(_f("name")).alias("run_name"),
        nonempty(_f("parent_run_id")).alias("parent_run_id"),
        nonempty(_f("session_id")).alias("session_id"),
        nonempty(_f("error")).alias("error"),
    )


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read LangSmith runs (trace-formats.md §4).

    Input: a Source (JSON lines / converted JSON array, or bulk-export Parquet).
    Output: (LazyFrame, problems). One row per ``llm`` run, in file order, with the
    canonical columns (schema.CANONICAL) and pass-through ``run_name,
    parent_run_id, session_id, ls_provider, error`` (str) plus, for wrapper runs,
    ``response_id`` and ``provider_api``. Column rules (first present wins):

    * ``route``: the root run's ``name`` (same ``trace_id``, ``id == trace_id``)
      when the root run is in the file, else the run's own ``name`` (§11).
      ``trace_id`` / ``span_id``: ``trace_id`` and the run ``id``;
      ``timestamp``: ``start_time`` (naive values are UTC).
    * ``provider_stop_reason``: ``generations[0][0].generation_info.finish_reason``,
      message ``response_metadata.finish_reason | stop_reason | stopReason |
      done_reason``, ``llm_output.stop_reason``; a wrapper run's body stop
      (§0). Null (``unknown``) when none.
    * ``provider``: a wrapper body's API family; else ``extra.metadata.ls_provider``
      in the provider's own spelling (``google_genai`` -> gemini, ``amazon_bedrock``
      -> bedrock, ...; raw value passes through as ``ls_provider``); else from the
      model id. ``model``: response metadata / ``llm_output`` model, else
      ``ls_model_name`` / ``invocation_params.model``.
    * ``output_text``: ``generations[0][0].text``, else the message ``content``
      (string or text blocks); a wrapper body's text. ``tool_calls``: message
      ``tool_calls[].{name, args}`` (args object -> compact JSON text), else
      ``additional_kwargs.tool_calls`` (OpenAI shape); a body's calls.
    * ``output_tokens``: message / outputs ``usage_metadata.output_tokens``,
      ``llm_output`` usage, a body's usage, else the run's ``completion_tokens``.
      ``max_tokens``: ``ls_max_tokens``, ``invocation_params.max_tokens |
      max_completion_tokens | max_output_tokens``, a wrapper request's cap.
    * ``expects_json``: ``extra.options.ls_structured_output_format`` present, or
      ``response_format.type`` in ``json_object, json_schema`` (invocation params,
      ``ls_invocation_params``, wrapper inputs); False when the run recorded its
      parameters or inputs without either; null when it recorded neither.
    * ``after_tool_result``: the last of ``inputs.messages`` (LangChain ``[[...]]``
      serialized messages or wrapper dicts) is a tool result.
    * A run with ``error`` and no outputs is a row with ``stop_detail =
      "call_error"`` (the error text passes through as ``error``).

    Problems: blank / malformed lines; a record without ``run_type``
    (unknown_shape); a wrapper body whose part arrays do not decode
    (unknown_shape); one ``not_a_model_call`` row counting the other run types.
    """
    df, problems = load_fields(src, FIELDS, NESTED)
    df = df.with_row_index("_rid")
    kind = nonempty(_f("run_type")).str.to_lowercase()
    report = [
        problems,
        *kind_problems(df, kind, "llm", src.path, "run", "record without run_type; expected a LangSmith run (run_type llm, chain, tool, ...)"),
    ]
    runs = _own_columns(_prepare(_with_root_names(df).filter(kind == "llm")))
    runs = runs.with_columns(
        pl.when(pl.col("_is_body")).then(pl.col("_out")).alias("_body"),
        pl.when(pl.col("_is_body") & pl.col("_in").str.starts_with("{")).then(pl.col("_in")).alias("_req"),
    )
    runs, bad = merge_body_columns(runs, "_body", "_req", src.path)
    report.append(bad)
    for frame in (
        tool_calls_from(runs, "_calls").rename({"tool_calls": "_tc"}),
        tool_schemas_from(runs, "_tools").rename({"tool_schemas": "_schemas"}),
    ):
        runs = runs.join(frame, on="_rid", how="left")
    is_body = pl.col("_is_body")
    rows = runs.sort("_rid").with_columns(
        pl.lit(src.path).alias("source_file"),
        pl.coalesce("b_provider", provider_name(pl.col("ls_provider")), provider_from_model(pl.coalesce("model", "b_model", "_request_model"))).alias("provider"),
        pl.coalesce("model", "b_model", "_request_model").alias("model"),
        pl.coalesce("provider_stop_reason", "b_provider_stop_reason").alias("provider_stop_reason"),
        pl.lit(None, dtype=S).alias("normalized_by"),
        pl.coalesce("b_stop_detail", "_call_error").alias("stop_detail"),
        pl.col("b_provider_refusal").alias("provider_refusal"),
        pl.when(is_body).then(pl.col("b_output_text")).otherwise(pl.col("_text")).fill_null("").alias("output_text"),
        pl.when(is_body).then(pl.col("b_tool_calls")).otherwise(pl.col("_tc")).alias("tool_calls"),
        pl.coalesce("b_tool_schemas", "_schemas").alias("tool_schemas"),
        pl.coalesce("output_tokens", "b_output_tokens", "_run_tokens").alias("output_tokens"),
        pl.coalesce("max_tokens", "b_max_tokens").alias("max_tokens"),
        either_true("expects_json", "b_expects_json").alias("expects_json"),
        either_true("after_tool_result", "b_after_tool_result").alias("after_tool_result"),
        pl.coalesce("timestamp", "b_timestamp").alias("timestamp"),
        pl.col("b_response_id").alias("response_id"),
        pl.col("b_api").alias("provider_api"),
    )
    return rows.select(*CANONICAL, *PASSTHROUGH).lazy(), all_problems(report)


_RUN_KEYS = {"inputs", "outputs", "extra", "trace_id", "dotted_order"}


def is_run(obj: dict) -> bool:
    """Record sniffer (§4a, §11): ``run_type`` with any of ``inputs, outputs, extra,
    trace_id, dotted_order``."""
    return "run_type" in obj and bool(_RUN_KEYS & obj.keys())


def has_run_columns(names: set[str]) -> bool:
    """Parquet sniffer (bulk export): ``run_type`` with any of ``inputs, outputs, extra, trace_id, dotted_order``."""
    return "run_type" in names and bool(_RUN_KEYS & names)


FORMATS = [
    Format(
        "langsmith",
        "LangSmith runs: records / bulk-export Parquet columns with run_type and inputs/outputs/extra/trace_id; "
        "JSON lines (list_runs dumps), JSON array or Parquet",
        read,
        containers=(JSONL, JSON, PARQUET),
        record=is_run,
        columns=has_run_columns,
    )
]
