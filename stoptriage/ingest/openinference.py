"""OpenInference (Arize Phoenix) span convention -> canonical rows (trace-formats.md §2).

Reads only the shared span frames (see ``spans.py``: SPANS / ATTRS / EVENTS), so it
works inside every span container: OTLP JSON (``otlp.py``), Phoenix span JSON and
Phoenix dataframes (``phoenix.py``). Every field is pulled from the long ATTRS
frame with vectorized Polars: filter by key, ``str.extract_groups`` the list
indices out of the flattened keys (``llm.output_messages.{i}.message...``),
pivot the few scalar keys with ``group_by`` + ``first``. Embedded provider bodies
(``output.value`` of older spans) go through ``bodies.extract``.

Attribute names: Arize-ai/openinference ``spec/semantic_conventions.md`` and
``spec/llm_spans.md``.
"""

from __future__ import annotations

import polars as pl

from ..schema import TOOL_CALL, TOOL_SCHEMA
from . import bodies
from .jsonl import jp, to_int

S = pl.String
KEY, VALUE = pl.col("key"), pl.col("value")

#: The span kind attribute and the kind of model-call spans (trace-formats.md §2 (a)).
SPAN_KIND = "openinference.span.kind"
LLM = "LLM"

#: Scalar attributes read per LLM span (attribute key -> internal column).
SCALARS: dict[str, str] = {
    "llm.provider": "_provider",
    "llm.system": "_system",
    "llm.response.model_name": "_model_response",
    "llm.model_name": "_model",
    "llm.request.model_name": "_model_request",
    "llm.finish_reason": "_finish",
    "llm.token_count.completion": "_tokens",
    "llm.invocation_parameters": "_params",
    "llm.choices.0.completion.text": "_choice_text",
    "output.value": "_output",
    "output.mime_type": "_output_mime",
    "input.value": "_input",
    "input.mime_type": "_input_mime",
    "openinference.project.name": "_project",
    "agent.name": "_agent",
    "graph.node.name": "_graph_node",
}

#: Output-token caps in ``llm.invocation_parameters`` (the call's keyword arguments:
#: OpenAI Chat / Responses, Anthropic, Gemini REST and google-genai, Bedrock Converse;
#: trace-formats.md §0 "max tokens" row), first present wins.
MAX_TOKEN_PATHS = (
    "$.max_tokens",
    "$.max_completion_tokens",
    "$.max_output_tokens",
    "$.generationConfig.maxOutputTokens",
    "$.generation_config.max_output_tokens",
    "$.config.max_output_tokens",
    "$.inferenceConfig.maxTokens",
)

JSON_MIME = "application/json"
_JSON_FORMATS = ["json_object", "json_schema"]


def _to_int(expr: pl.Expr) -> pl.Expr:
    """Number text (``"512"``, ``"512.0"``) -> Int64; anything else -> null."""
    return to_int(expr.str.strip_chars())


def _expects_json(params: pl.Expr) -> pl.Expr:
    """JSON output requested by the invocation parameters (trace-formats.md §0 "JSON requested").

    OpenAI ``response_format.type`` / Responses ``text.format.type`` in
    {json_object, json_schema}; Anthropic ``output_config.format`` / ``output_format``;
    Gemini ``responseMimeType`` application/json or a response schema. Null when the
    span has no invocation parameters, else True/False.
    """
    fmt = pl.coalesce(jp(params, "$.response_format.type"), jp(params, "$.text.format.type"))
    mime = pl.coalesce(
        jp(params, "$.generationConfig.responseMimeType"),
        jp(params, "$.generation_config.response_mime_type"),
        jp(params, "$.config.response_mime_type"),
    )
    schema = pl.coalesce(
        jp(params, "$.generationConfig.responseSchema"),
        jp(params, "$.generationConfig.responseJsonSchema"),
        jp(params, "$.generation_config.response_schema"),
        jp(params, "$.config.response_schema"),
    )
    asked = (
        fmt.is_in(_JSON_FORMATS).fill_null(False)
        | jp(params, "$.output_config.format").is_not_null()
        | jp(params, "$.output_format").is_not_null()
        | (mime == JSON_MIME).fill_null(False)
        | schema.is_not_null()
    )
    return pl.when(params.is_not_null()).then(asked)


def _groups(lf: pl.LazyFrame, prefix: str, pattern: str, ints: tuple[str, ...]) -> pl.LazyFrame:
    """Rows whose ``key`` starts with ``prefix`` and matches ``pattern`` (named
    groups), the groups as columns. The literal prefix test runs first, so the
    regex only sees the few keys of its family.

    ``ints``: groups that are list indices, cast to Int64.
    """
    return (
        lf.filter(KEY.str.starts_with(prefix))
        .filter(KEY.str.contains(pattern))
        .with_columns(KEY.str.extract_groups(pattern).alias("_g"))
        .unnest("_g")
        .with_columns([pl.col(c).cast(pl.Int64) for c in ints])
    )


def _output_message(a: pl.LazyFrame) -> pl.LazyFrame:
    """``_sid`` -> ``_text`` (str) and ``_calls`` (list[TOOL_CALL]) of the first output message.

    The first message is the lowest ``llm.output_messages.{i}`` index of the span
    (OpenAI's first choice, as ``llm.finish_reason`` is; Anthropic has one message).
    Text: ``message.content``, else the concatenated ``message.contents.{j}.message_content.text``
    of parts whose ``message_content.type`` is ``text`` or absent (reasoning parts left
    out). Tool calls: ``message.tool_calls.{j}.tool_call.function.{name,arguments}``
    in index order, plus a legacy ``message.function_call_name`` /
    ``message.function_call_arguments_json`` pair first; arguments are the JSON text as
    sent. A span without output messages has no row.
    """
    om = _groups(a, "llm.output_messages.", r"^llm\.output_messages\.(?<_i>\d+)\.message\.(?<_f>.+)$", ("_i",))
    first = om.group_by("_sid").agg(pl.col("_i").min())
    om = om.join(first, on=["_sid", "_i"], how="semi")
    f = pl.col("_f")
    content = om.filter(f == "content").group_by("_sid").agg(VALUE.first().alias("_content"))

    parts = _groups(om.rename({"key": "_key", "_f": "key"}), "contents.", r"^contents\.(?<_j>\d+)\.message_content\.(?<_p>text|type)$", ("_j",))
    p = pl.col("_p")
    parts_text = (
        parts.group_by("_sid", "_j")
        .agg(VALUE.filter(p == "text").first().alias("_t"), VALUE.filter(p == "type").first().alias("_type"))
        .filter(pl.col("_t").is_not_null() & (pl.col("_type").is_null() | (pl.col("_type") == "text")))
        .group_by("_sid")
        .agg(pl.col("_t").sort_by("_j").str.join("").alias("_contents"))
    )

    calls = _groups(om.rename({"key": "_key", "_f": "key"}), "tool_calls.", r"^tool_calls\.(?<_j>\d+)\.tool_call\.(?<_p>.+)$", ("_j",))
    legacy = (
        om.filter(f.is_in(["function_call_name", "function_call_arguments_json"]))
        .with_columns(
            pl.lit(-1, dtype=pl.Int64).alias("_j"),
            pl.when(f == "function_call_name").then(pl.lit("function.name")).otherwise(pl.lit("function.arguments")).alias("_p"),
        )
    )
    cols = ["_sid", "_j", "_p", "value"]
    calls = (
        pl.concat([calls.select(cols), legacy.select(cols)])
        .group_by("_sid", "_j")
        .agg(
            VALUE.filter(pl.col("_p") == "function.name").first().alias("name"),
            VALUE.filter(pl.col("_p") == "function.arguments").first().alias("arguments"),
        )
        .filter(pl.col("name").is_not_null() | pl.col("arguments").is_not_null())
        .group_by("_sid")
        .agg(pl.struct("name", "arguments").sort_by("_j").alias("_calls"))
    )
    return (
        first.select("_sid")
        .join(content, on="_sid", how="left")
        .join(parts_text, on="_sid", how="left")
        .join(calls, on="_sid", how="left")
        .select("_sid", pl.coalesce("_content", "_contents").alias("_text"), pl.col("_calls").cast(pl.List(TOOL_CALL)))
    )


def _last_input_role(a: pl.LazyFrame) -> pl.LazyFrame:
    """``_sid`` -> ``_last_role``: role of the highest ``llm.input_messages.{n}`` (§2 prev tool result)."""
    roles = _groups(a, "llm.input_messages.", r"^llm\.input_messages\.(?<_n>\d+)\.message\.role$", ("_n",))
    return roles.group_by("_sid").agg(VALUE.sort_by("_n").last().alias("_last_role"))


def _tool_schemas(a: pl.LazyFrame) -> pl.LazyFrame:
    """``_sid`` -> ``_schemas`` list[TOOL_SCHEMA] from ``llm.tools.{k}.tool.{name,json_schema}``.

    ``json_schema`` holds the tool definition as the caller sent it: OpenAI
    ``{"type":"function","function":{name, parameters}}``, Anthropic ``{name,
    input_schema}``, or a bare ``{name, parameters}``; the schema is its parameters
    object (a bare JSON Schema, ``"type":"object"``, is taken whole). Name:
    ``tool.name``, else the definition's name.
    """
    tools = _groups(a, "llm.tools.", r"^llm\.tools\.(?<_k>\d+)\.tool\.(?<_p>json_schema|name)$", ("_k",))
    js = pl.col("_js")
    named = tools.group_by("_sid", "_k").agg(
        VALUE.filter(pl.col("_p") == "name").first().alias("_name"),
        VALUE.filter(pl.col("_p") == "json_schema").first().alias("_js"),
    )
    schema = pl.coalesce(
        jp(js, "$.function.parameters"),
        jp(js, "$.input_schema"),
        jp(js, "$.parameters"),
        pl.when(jp(js, "$.type") == "object").then(js),
    )
    name = pl.coalesce("_name", jp(js, "$.function.name"), jp(js, "$.name"))
    return (
        named.with_columns(name.alias("name"), schema.alias("schema"))
        .filter(pl.col("name").is_not_null())
        .group_by("_sid")
        .agg(pl.struct("name", "schema").sort_by("_k").alias("_schemas"))
        .with_columns(pl.col("_schemas").cast(pl.List(TOOL_SCHEMA)))
    )


#: Columns taken from an embedded provider body (bodies.extract output -> ``_b_*``);
#: the span's own start time is its timestamp.
_BODY_COLUMNS = tuple(c for c in bodies.OUTPUT_COLUMNS if c != "timestamp")


def _embedded_bodies(base: pl.LazyFrame) -> pl.LazyFrame:
    """``_sid`` -> ``_b_<canonical>`` read from ``output.value`` by ``bodies.extract``.

    Only spans without ``llm.finish_reason`` whose ``output.mime_type`` is
    ``application/json`` (older OpenInference spans: the OpenAI and Anthropic
    instrumentors store the full response there, and the call's keyword arguments,
    i.e. the request body, in ``input.value``; trace-formats.md §2 (c)). A body of a
    shape ``bodies`` does not read (LangChain outputs, google-genai SDK wrappers,
    error bodies) gives no row: the span keeps its attribute values.
    """
    frame = base.filter(
        pl.col("_finish").is_null() & (pl.col("_output_mime") == JSON_MIME) & pl.col("_output").is_not_null()
    ).select(
        pl.col("_sid").alias("_rid"),
        pl.col("_output").alias("_body"),
        pl.when(pl.col("_input_mime") == JSON_MIME).then(pl.col("_input")).alias("_req"),
    )
    out = bodies.extract(frame).filter(pl.col("_api").is_in(list(bodies.SPECS)) & pl.col("_shape_error").is_null())
    names = out.collect_schema().names()
    return out.select(
        pl.col("_rid").alias("_sid"),
        *[(pl.col(c) if c in names else pl.lit(None)).alias(f"_b_{c}") for c in _BODY_COLUMNS],
    )


def extract(spans: pl.LazyFrame, attrs: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """Canonical columns for the OpenInference LLM spans (trace-formats.md §2).

    Input: the span frames of ``spans.py`` (only ATTRS is read: ``_sid`` i64, ``key``
    str, ``value`` str; SPANS / EVENTS are accepted for the shared contract).
    Output: one row per span whose ``openinference.span.kind`` is ``LLM``
    (case-insensitive), with ``_sid`` (i64) and:

    - ``provider`` str: ``llm.provider`` (hosting provider: openai, azure, google,
      aws, anthropic...), else ``llm.system``, else the embedded body's API family;
    - ``model`` str: ``llm.response.model_name`` > ``llm.model_name`` >
      ``llm.request.model_name`` > embedded body;
    - ``provider_stop_reason`` str: ``llm.finish_reason`` as sent (OpenInference keeps
      raw values; ``normalized_by`` is null), else the stop value of the provider body
      in ``output.value`` (when ``output.mime_type`` is application/json), else null;
      ``stop_detail`` / ``provider_refusal`` from that body (null otherwise);
    - ``output_text`` str: first output message (see :func:`_output_message`), else
      ``llm.choices.0.completion.text``, else the body's text, else null;
    - ``tool_calls`` list[struct{name, arguments}]: the first output message's calls;
      when it has none, the body's; ``[]`` when neither has any;
    - ``tool_schemas`` list[struct{name, schema}]: ``llm.tools.{k}.tool.json_schema``,
      else the body pass's request tools, else null;
    - ``output_tokens`` i64: ``llm.token_count.completion`` (float text accepted),
      else the body's usage;
    - ``max_tokens`` i64 / ``expects_json`` bool: from JSON ``llm.invocation_parameters``
      (:data:`MAX_TOKEN_PATHS`, :func:`_expects_json`), else from the request in
      ``input.value`` on the body pass; null when neither is known;
    - ``after_tool_result`` bool: the last ``llm.input_messages.{n}.message.role`` is
      ``tool``, or the request in ``input.value`` ends with a tool result (Anthropic
      tool results sit in a ``user`` message); null when neither is known;
    - ``normalized_by`` str: null (raw values); ``response_id`` str: the body's id;
    - ``_route_hint`` str: ``openinference.project.name`` (a resource attribute:
      container readers copy it into ATTRS), else ``agent.name``, else
      ``graph.node.name``; null when none is set. ``session.id`` is per
      conversation and not a route; the root CHAIN/AGENT span name is the
      dispatcher's fallback (it sees the whole trace).

    Errors: none; malformed JSON in a value gives nulls for the fields read from it.
    """
    kind_is_llm = (KEY == SPAN_KIND) & (VALUE.str.strip_chars().str.to_uppercase() == LLM)
    llm = attrs.filter(kind_is_llm).select("_sid").unique()
    a = attrs.join(llm, on="_sid", how="semi").collect().lazy()
    scal = (
        a.filter(KEY.is_in(list(SCALARS)))
        .group_by("_sid")
        .agg([VALUE.filter(KEY == k).first().alias(c) for k, c in SCALARS.items()])
    )
    base = llm.join(scal, on="_sid", how="left").collect().lazy()
    joined = (
        base.join(_output_message(a), on="_sid", how="left")
        .join(_last_input_role(a), on="_sid", how="left")
        .join(_tool_schemas(a), on="_sid", how="left")
        .join(_embedded_bodies(base), on="_sid", how="left")
    )
    params = pl.col("_params")
    role_tool = pl.when(pl.col("_last_role").is_not_null()).then(pl.col("_last_role") == "tool")
    body_tool = pl.col("_b_after_tool_result")
    after_tool = (
        pl.when(role_tool.fill_null(False) | body_tool.fill_null(False))
        .then(True)
        .when(role_tool.is_not_null() | body_tool.is_not_null())
        .then(False)
    )
    attr_calls = pl.col("_calls")
    calls = pl.when(attr_calls.list.len() > 0).then(attr_calls).otherwise(pl.col("_b_tool_calls"))
    from_body = pl.col("_finish").is_null()
    max_tokens = pl.coalesce([_to_int(jp(params, p)) for p in MAX_TOKEN_PATHS] + [pl.col("_b_max_tokens").cast(pl.Int64)])
    # A cap <= 0 is no cap (as in bodies.extract_api).
    max_tokens = pl.when(max_tokens > 0).then(max_tokens)
    return joined.select(
        "_sid",
        pl.coalesce("_provider", "_system", "_b_provider").alias("provider"),
        pl.coalesce("_model_response", "_model", "_model_request", "_b_model").alias("model"),
        pl.coalesce("_finish", "_b_provider_stop_reason").alias("provider_stop_reason"),
        pl.lit(None, dtype=S).alias("normalized_by"),
        pl.when(from_body).then(pl.col("_b_stop_detail")).cast(S).alias("stop_detail"),
        pl.col("_b_provider_refusal").cast(S).alias("provider_refusal"),
        pl.coalesce("_text", "_choice_text", "_b_output_text").alias("output_text"),
        calls.cast(pl.List(TOOL_CALL)).fill_null(pl.lit([], dtype=pl.List(TOOL_CALL))).alias("tool_calls"),
        pl.coalesce(pl.col("_schemas"), pl.col("_b_tool_schemas").cast(pl.List(TOOL_SCHEMA))).alias("tool_schemas"),
        pl.coalesce(_to_int(pl.col("_tokens")), pl.col("_b_output_tokens").cast(pl.Int64)).alias("output_tokens"),
        max_tokens.alias("max_tokens"),
        pl.coalesce(_expects_json(params), pl.col("_b_expects_json").cast(pl.Boolean)).alias("expects_json"),
        after_tool.alias("after_tool_result"),
        pl.col("_b_response_id").cast(S).alias("response_id"),
        pl.coalesce("_project", "_agent", "_graph_node").alias("_route_hint"),
    )
