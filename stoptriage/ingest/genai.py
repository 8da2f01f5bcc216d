"""OTel GenAI spans of every generation, OpenLLMetry and the Vercel AI SDK -> canonical columns.

A span convention extractor (see ``spans.py`` for the SPANS / ATTRS / EVENTS
frames it reads). It recognises the LLM-call spans of four conventions
(trace-formats.md §1a–§1d, §11) and reads each canonical field from whichever
convention the span follows; the keys do not overlap, so one pass of coalesces
serves all four:

* **§1a OTel GenAI, current** (semconv v1.37+): ``gen_ai.operation.name`` in
  ``chat, text_completion, generate_content``; provider ``gen_ai.provider.name``
  (else deprecated ``gen_ai.system``); stop = first of
  ``gen_ai.response.finish_reasons`` (else ``gen_ai.output.messages[0].finish_reason``);
  text / tool calls from the parts of ``gen_ai.output.messages[0]`` (``text``
  parts; ``tool_call`` parts, ``arguments`` object or string; ``reasoning``
  parts are not output text); ``gen_ai.input.messages`` last item ``role=="tool"``
  or holding a ``tool_call_response`` part = after a tool result. The same
  attributes carried by a ``gen_ai.client.inference.operation.details`` event
  fill what the span's own attributes lack.
* **§1b OTel GenAI, older**: v1.26–1.27 span events ``gen_ai.content.completion``
  (attribute ``gen_ai.completion``, JSON ``[{"role","content",...}]``) and
  ``gen_ai.content.prompt`` (``gen_ai.prompt``); v1.28–1.36 events
  ``gen_ai.choice`` (body ``{index, finish_reason, message{content, tool_calls}}``;
  OpenLLMetry's event mode puts ``tool_calls`` beside ``message``) and the
  input-message events (``gen_ai.{system,user,assistant,tool}.message``: the
  last one being ``gen_ai.tool.message`` = after a tool result). A log-record
  body reaches EVENTS either as one row with key ``body`` (the body's JSON) or
  flattened to one row per body field; both are read.
* **§1c OpenLLMetry / Traceloop**: indexed ``gen_ai.completion.{i}.*`` /
  ``gen_ai.prompt.{i}.*`` (very old releases: ``llm.completions.{i}.*``),
  ``llm.request.type``, capitalised ``gen_ai.system`` before 2026. Stop = the
  lowest index's ``finish_reason`` (raw). Anthropic thinking is an extra index
  with role ``thinking`` (not output text); an Anthropic response's blocks may
  spread over several indices, so for provider ``anthropic`` every non-thinking
  index is one message, otherwise the first non-thinking index is the first
  choice. Content ``"FILTERED"`` beside ``finish_reason == "content_filter"`` is
  the instrumentation's placeholder, not model text (read as no text).
  ``.refusal`` -> ``provider_refusal``. 2026 releases (semconv-ai 0.5) write the
  §1a keys with finish reasons mapped to the OTel enum (trace-formats.md §0):
  on a span with OpenLLMetry markers (``traceloop.*`` / ``llm.*`` keys,
  ``gen_ai.is_streaming``) whose stop value is read from the §1a keys and is one
  of ``stop, length, content_filter, tool_call, error``, ``normalized_by`` is
  ``"openllmetry"``; a value outside that enum passed through raw (null).
* **§1d Vercel AI SDK**: the provider-call spans ``ai.{generateText,streamText,
  generateObject,streamObject}.{doGenerate,doStream}`` (``ai.operationId``, else
  the span name); the outer ``ai.generateText`` (…) span only when no provider-call
  child of it is in the file. ``ai.response.finishReason`` is the SDK's unified
  value -> ``normalized_by = "vercel-ai"``; text ``ai.response.text``; tool calls
  ``ai.response.toolCalls`` (JSON ``[{toolCallId, toolName, input|args}]``; older
  SDKs ``ai.result.*``); tokens ``ai.usage.outputTokens`` (v5) /
  ``ai.usage.completionTokens`` (v4); provider = ``ai.model.provider`` up to its
  first dot (``openai.chat`` -> ``openai``); route ``ai.telemetry.functionId``.

Which spans are model calls: never one carrying ``openinference.span.kind``
(the OpenInference extractor's, §2); a Vercel span as above; otherwise not one
whose ``gen_ai.operation.name`` / ``llm.request.type`` names another operation
(embeddings, execute_tool, invoke_agent, invoke_workflow, create_agent,
retrieval, embedding, rerank), and then one whose operation is a generation
(``chat``, ``text_completion``, ``generate_content``; OpenLLMetry ``chat``,
``completion``), or one without a known operation (semconv v1.26, custom names)
that names a provider (``gen_ai.provider.name`` / ``gen_ai.system``, or has
indexed keys) and shows a generation (finish reasons, output messages, output
tokens, ``error.type``, completion / choice events). Workflow, task and tool
spans of these conventions carry none of that.

Attribute spellings were checked against traceloop/openllmetry
``packages/opentelemetry-instrumentation-anthropic/.../span_utils.py`` (thinking
index, ``tool_calls.{j}``, raw ``stop_reason``) and
``packages/opentelemetry-instrumentation-openai/.../shared/chat_wrappers.py``
(``"FILTERED"``, ``.refusal``, ``gen_ai.choice`` events), its semantic-conventions-ai
``MIGRATION.md`` (0.5 renames, lowercase ``gen_ai.system``), and vercel/ai's
telemetry (``ai.response.toolCalls`` items ``{toolCallId, toolName, input}``).
"""

from __future__ import annotations

import polars as pl

from ..schema import TOOL_CALL
from .jsonl import jp, robust_decode, to_int

S = pl.String

#: Attributes pivoted to one column per span: column alias -> attribute key (§1a–§1d).
#: Output messages, indexed keys, tool-call arrays and prefixed keys are read by
#: their own steps (:func:`_message_parts`, :func:`_indexed`, :func:`_json_calls`,
#: :func:`_markers`).
KEYS: dict[str, str] = {
    "_op": "gen_ai.operation.name",
    "_provider_name": "gen_ai.provider.name",
    "_system": "gen_ai.system",
    "_resp_model": "gen_ai.response.model",
    "_req_model": "gen_ai.request.model",
    "_finish_reasons": "gen_ai.response.finish_reasons",
    "_in_msgs": "gen_ai.input.messages",
    "_out_tokens": "gen_ai.usage.output_tokens",
    "_completion_tokens": "gen_ai.usage.completion_tokens",
    "_max_tokens": "gen_ai.request.max_tokens",
    "_output_type": "gen_ai.output.type",
    "_response_format": "gen_ai.openai.request.response_format",
    "_error_type": "error.type",
    "agent_name": "gen_ai.agent.name",
    "_oi_kind": "openinference.span.kind",
    "_req_type": "llm.request.type",
    "_structured_schema": "gen_ai.request.structured_output_schema",
    "_workflow": "traceloop.workflow.name",
    "_entity_path": "traceloop.entity.path",
    "_ai_op": "ai.operationId",
    "_ai_provider": "ai.model.provider",
    "_ai_model": "ai.model.id",
    "_ai_resp_model": "ai.response.model",
    "_ai_finish": "ai.response.finishReason",
    "_ai_text": "ai.response.text",
    "_ai_result_text": "ai.result.text",
    "_ai_out_tokens": "ai.usage.outputTokens",
    "_ai_completion_tokens": "ai.usage.completionTokens",
    "_ai_max_output": "ai.settings.maxOutputTokens",
    "_ai_max_tokens": "ai.settings.maxTokens",
    "_ai_prompt_messages": "ai.prompt.messages",
    "_ai_function_id": "ai.telemetry.functionId",
}

#: ``gen_ai.operation.name`` values that are model generations (§1a).
LLM_OPERATIONS = ("chat", "text_completion", "generate_content")
#: Operations that are not (§1a list; OpenLLMetry ``llm.request.type`` adds embedding, rerank).
NON_LLM_OPERATIONS = (
    "embeddings", "execute_tool", "invoke_agent", "invoke_workflow", "create_agent", "retrieval",
    "embedding", "rerank",
)
#: OpenLLMetry ``llm.request.type`` values that are model generations (§1c).
LLM_REQUEST_TYPES = ("chat", "completion")
#: The OTel finish-reason enum 2026 OpenLLMetry maps provider values onto (§0).
OTEL_FINISH_ENUM = ("stop", "length", "content_filter", "tool_call", "error")

#: Provider spellings of the conventions (lowercased) -> the project's provider
#: names (taxonomy.md §1). OTel ``gen_ai.provider.name`` enum (§1a), OpenLLMetry
#: ``GenAISystem`` old and new values (MIGRATION.md §3), Vercel provider prefixes.
#: A spelling not listed is kept, lowercased.
PROVIDER_NAMES: dict[str, str] = {
    "gcp.gemini": "gemini", "gcp.vertex_ai": "gemini", "gcp.gen_ai": "gemini", "google": "gemini",
    "vertex_ai": "gemini", "vertexai": "gemini",
    "aws.bedrock": "bedrock", "aws": "bedrock", "amazon-bedrock": "bedrock",
    "azure.ai.openai": "azure", "az.ai.openai": "azure", "azure.ai.inference": "azure", "azure-openai": "azure",
    "mistral_ai": "mistral", "mistralai": "mistral",
    "x_ai": "xai", "ibm.watsonx.ai": "watsonx", "moonshot_ai": "moonshot",
    "together_ai": "together", "togetherai": "together", "hugging_face": "huggingface",
    "aleph_alpha": "alephalpha",
}

VERCEL_CALL = r"^ai\.(generateText|streamText|generateObject|streamObject)\.(doGenerate|doStream)$"
VERCEL_OUTER = r"^ai\.(generateText|streamText|generateObject|streamObject)$"
INDEXED = r"^(?:gen_ai|llm)\.(?<kind>completion|prompt)s?\.(?<i>\d+)\.(?<field>.+)$"
TOOL_FIELD = r"^tool_calls\.(?<j>\d+)\.(?<tf>name|arguments)$"

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
COMPLETION_EVENT = "gen_ai.content.completion"
PROMPT_EVENT = "gen_ai.content.prompt"
CHOICE_EVENT = "gen_ai.choice"
TOOL_MESSAGE_EVENT = "gen_ai.tool.message"
MESSAGE_EVENTS = ("gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message", TOOL_MESSAGE_EVENT)
ASSOCIATION_PREFIX = "traceloop.association.properties."
VERCEL_METADATA_PREFIX = "ai.telemetry.metadata."

#: Element probe for counting the items of a JSON array without decoding them.
_PROBE = pl.List(pl.Struct({"type": S}))
_TOOL_CALLS = pl.List(TOOL_CALL)
_KEY_ENUM = pl.Enum(list(KEYS.values()))
#: Minimal fixed dtype of ``gen_ai.output.messages`` (§1a output-messages schema).
_MESSAGES = pl.List(pl.Struct({"finish_reason": S, "parts": pl.List(pl.Struct({"type": S, "content": S}))}))


def _prefixed_pairs(attrs: pl.LazyFrame, prefix: str, alias: str) -> pl.LazyFrame:
    """``_sid``, ``alias`` (str: ``k=v`` of the keys under ``prefix``, prefix removed,
    sorted, ``;``-joined) for the spans that have such keys."""
    key = pl.col("key")
    pair = pl.concat_str([key.str.strip_prefix(prefix), pl.lit("="), pl.col("value")])
    return (
        attrs.filter(key.str.starts_with(prefix))
        .select("_sid", pair.alias(alias))
        .sort("_sid", alias)
        .group_by("_sid")
        .agg(pl.col(alias).str.join(";"))
    )


def _pivot(long: pl.LazyFrame) -> pl.LazyFrame:
    """Long attributes (_sid, key, value) -> one row per span with the :data:`KEYS`
    columns (str, the first value of each key; null when absent).

    Keys are coded through a fixed Enum (unknown keys -> null, dropped), so the
    pivot compares integers, not strings.
    """
    code = pl.col("key").cast(_KEY_ENUM, strict=False).to_physical()
    wanted = long.select("_sid", code.alias("_code"), "value").filter(pl.col("_code").is_not_null())
    value = pl.col("value")
    return wanted.group_by("_sid").agg(
        value.filter(pl.col("_code") == i).first().alias(alias) for i, alias in enumerate(KEYS)
    )


def _markers(attrs: pl.LazyFrame) -> pl.LazyFrame:
    """Convention markers and route pairs per span (only spans that have any).

    Output: ``_sid``, ``_openllmetry`` (bool: ``traceloop.*`` / ``llm.*`` keys or
    ``gen_ai.is_streaming``, the OpenLLMetry markers of §1c; null when none),
    ``_association`` / ``_ai_metadata`` (str ``k=v;...`` of
    ``traceloop.association.properties.*`` / ``ai.telemetry.metadata.*``, sorted;
    null when none).
    """
    key = pl.col("key")
    marked = key.str.starts_with("traceloop.") | key.str.starts_with("llm.") | (key == "gen_ai.is_streaming")
    flags = attrs.filter(marked).select("_sid").unique().with_columns(pl.lit(True).alias("_openllmetry"))
    return (
        flags.join(_prefixed_pairs(attrs, ASSOCIATION_PREFIX, "_association"), on="_sid", how="full", coalesce=True)
        .join(_prefixed_pairs(attrs, VERCEL_METADATA_PREFIX, "_ai_metadata"), on="_sid", how="full", coalesce=True)
    )


def _first_finish_reason(value: pl.Expr) -> pl.Expr:
    """First element of ``gen_ai.response.finish_reasons`` (JSON array text; a
    plain string is taken as is). Numbers come back as their decimal text."""
    return pl.when(value.str.starts_with("[")).then(jp(value, "$[0]")).otherwise(value)


def _array_elements(lf: pl.LazyFrame, arr: str) -> pl.LazyFrame:
    """One row per element of the JSON array held in column ``arr``.

    Input: ``_sid`` and ``arr`` (str, JSON array text; anything else gives no
    rows). Output: ``_sid``, ``_j`` (i64, position), ``_elem`` (str, the element
    as compact JSON text). Only the element count is decoded (fixed dtype via
    robust_decode); fields are read from ``_elem`` with JSONPath, so elements of
    any shape survive.
    """
    index_path = pl.concat_str([pl.lit("$["), pl.col("_j").cast(S), pl.lit("]")])
    return (
        lf.select("_sid", pl.col(arr).alias("_arr"))
        .filter(pl.col("_arr").is_not_null())
        .with_columns(robust_decode(pl.col("_arr"), _PROBE).list.len().cast(pl.Int64).alias("_n"))
        .filter(pl.col("_n") > 0)
        .with_columns(pl.int_ranges(0, pl.col("_n")).alias("_j"))
        .explode("_j")
        .with_columns(jp("_arr", index_path).alias("_elem"))
        .select("_sid", "_j", "_elem")
    )


def _calls_of(elems: pl.LazyFrame, name_paths: list[str], args_paths: list[str]) -> pl.LazyFrame:
    """Tool-call elements -> ``_sid``, ``tool_calls`` (list[schema.TOOL_CALL], in array order).

    ``arguments``: the first present path; a JSON string comes back as its text
    (the raw arguments JSON), an object as compact JSON text.
    """
    name = pl.coalesce([jp("_elem", p) for p in name_paths])
    args = pl.coalesce([jp("_elem", p) for p in args_paths])
    call = pl.struct(name.alias("name"), args.alias("arguments"))
    return elems.group_by("_sid").agg(call.sort_by("_j").alias("tool_calls"))


def _message_parts(long: pl.LazyFrame) -> pl.LazyFrame:
    """§1a ``gen_ai.output.messages`` -> stop, text and tool calls of the first message.

    Input: long attributes (_sid, key, value). Output, one row per span with the
    attribute: ``_sid``, ``_msg_stop`` (str, ``[0].finish_reason``),
    ``_parts_text`` (str: ``text`` parts' ``content`` joined in order; "" when the
    message has parts but no text; null when it has none or is not JSON),
    ``_parts_calls`` (list[TOOL_CALL] of ``tool_call`` parts, in order; null when
    there are none), ``_has_msgs`` (bool, True).

    The messages are decoded once with a fixed minimal dtype (the first
    message's ``finish_reason``, its parts' ``type`` and ``content``); a tool-call
    part's ``name`` and ``arguments`` (object or string) are then read with
    JSONPath. A value that does not fit that
    dtype (e.g. a part whose ``content`` is an object) is read element by
    element with JSONPath instead, so it still yields its text and calls.
    """
    el = pl.element()
    msgs = (
        long.filter(pl.col("key") == "gen_ai.output.messages")
        .unique("_sid", keep="first", maintain_order=True)
        .select("_sid", "value")
        .with_columns(robust_decode(pl.col("value"), _MESSAGES).list.first().alias("_m0"))
    )
    parts = pl.col("_m0").struct.field("parts")
    is_type = lambda t: el.struct.field("type") == t  # noqa: E731
    decoded = msgs.filter(pl.col("_m0").is_not_null()).select(
        "_sid",
        "value",
        pl.col("_m0").struct.field("finish_reason").alias("_msg_stop"),
        parts.list.eval(el.filter(is_type("text")).struct.field("content")).list.join("").alias("_parts_text"),
        parts.list.eval(pl.int_range(pl.len()).filter(is_type("tool_call"))).alias("_calls_at"),
    )
    def part_field(f: str) -> pl.Expr:
        return jp("value", pl.concat_str([pl.lit("$[0].parts["), pl.col("_j").cast(S), pl.lit(f"].{f}")]))

    call = pl.struct(part_field("name").alias("name"), part_field("arguments").alias("arguments"))
    decoded_calls = (
        decoded.select("_sid", "value", pl.col("_calls_at").alias("_j"))
        .filter(pl.col("_j").list.len() > 0)
        .explode("_j")
        .group_by("_sid")
        .agg(call.sort_by("_j").alias("_parts_calls"))
    )
    # Values the fixed dtype cannot hold: element by element with JSONPath.
    odd = msgs.filter(pl.col("_m0").is_null()).select(
        "_sid", jp("value", "$[0].finish_reason").alias("_msg_stop"), jp("value", "$[0].parts").alias("_p")
    )
    elems = _array_elements(odd, "_p").with_columns(jp("_elem", "$.type").alias("_type"))
    odd_call = pl.struct(jp("_elem", "$.name").alias("name"), jp("_elem", "$.arguments").alias("arguments"))
    text, tool = pl.col("_type") == "text", pl.col("_type") == "tool_call"
    odd_parts = elems.group_by("_sid").agg(
        jp("_elem", "$.content").filter(text).sort_by(pl.col("_j").filter(text)).str.join("").alias("_parts_text"),
        odd_call.filter(tool).sort_by(pl.col("_j").filter(tool)).alias("_parts_calls"),
    ).with_columns(pl.when(pl.col("_parts_calls").list.len() > 0).then(pl.col("_parts_calls")))
    return pl.concat(
        [
            decoded.select("_sid", "_msg_stop", "_parts_text").join(decoded_calls, on="_sid", how="left"),
            odd.select("_sid", "_msg_stop").join(odd_parts, on="_sid", how="left"),
        ],
        how="diagonal_relaxed",
    ).with_columns(pl.lit(True).alias("_has_msgs"))


def _indexed(attrs: pl.LazyFrame) -> pl.LazyFrame:
    """§1c indexed keys -> per span: stop, text, tool calls, refusal, prompt side.

    Input: ATTRS (long). Output, one row per span that has indexed keys:
    ``_sid``; ``_has_idx`` (bool, True); ``_idx_stop`` (str: ``finish_reason`` of
    the lowest index carrying one, raw); ``_idx_text_first`` / ``_idx_text_all``
    (str: ``content`` of the first non-thinking index / of every non-thinking
    index joined in index order; the ``"FILTERED"`` placeholder of a
    ``content_filter`` choice is no text); ``_idx_calls_first`` /
    ``_idx_calls_all`` (list[TOOL_CALL] of the same indices, in (index, position)
    order); ``_idx_refusal`` (str, the first non-thinking ``refusal``);
    ``_idx_after_tool`` (bool: the highest ``gen_ai.prompt.{n}`` with a role is a
    tool result — role ``tool``, or a user message whose JSON content holds a
    ``tool_result`` block; null without prompt roles). Which of first/all
    applies depends on the provider (see :func:`_fields`).
    """
    key, field, value = pl.col("key"), pl.col("field"), pl.col("value")
    long = (
        attrs.filter(key.str.starts_with("gen_ai.completion.") | key.str.starts_with("gen_ai.prompt.")
                     | key.str.starts_with("llm.completions.") | key.str.starts_with("llm.prompts."))
        .select("_sid", key.str.extract_groups(INDEXED).alias("_g"), "value")
        .unnest("_g")
        .filter(pl.col("kind").is_not_null())
        .with_columns(pl.col("i").cast(pl.Int64))
    )
    comp = long.filter(pl.col("kind") == "completion")
    per_index = (
        comp.filter(~field.str.starts_with("tool_calls."))
        .group_by("_sid", "i")
        .agg(*[value.filter(field == f).first().alias(f) for f in ("role", "content", "finish_reason", "refusal")])
        .with_columns(
            (pl.col("role").fill_null("") != "thinking").alias("_answer"),
            pl.when((pl.col("finish_reason") == "content_filter") & (pl.col("content") == "FILTERED"))
            .then(None).otherwise(pl.col("content")).alias("content"),
        )
    )
    tools = (
        comp.filter(field.str.starts_with("tool_calls."))
        .with_columns(field.str.extract_groups(TOOL_FIELD).alias("_t"))
        .unnest("_t")
        .filter(pl.col("j").is_not_null())
        .group_by("_sid", "i", pl.col("j").cast(pl.Int64))
        .agg(value.filter(pl.col("tf") == "name").first().alias("name"),
             value.filter(pl.col("tf") == "arguments").first().alias("arguments"))
        .with_columns(pl.lit(None, dtype=S).alias("role"), pl.lit(None, dtype=S).alias("content"),
                      pl.lit(None, dtype=S).alias("finish_reason"), pl.lit(None, dtype=S).alias("refusal"))
    )
    rows = pl.concat(
        [per_index.with_columns(pl.lit(None, dtype=pl.Int64).alias("j"), pl.lit(None, dtype=S).alias("name"),
                                pl.lit(None, dtype=S).alias("arguments")),
         tools.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_answer"))],
        how="diagonal_relaxed",
    )
    # A tool call's index is an answer index unless that index's role is thinking.
    rows = rows.with_columns(pl.col("_answer").max().over("_sid", "i").fill_null(True).alias("_answer"))
    ans = pl.col("_answer")
    first_i = pl.col("i").filter(ans).min()
    in_first = ans & (pl.col("i") == first_i)
    is_call = pl.col("j").is_not_null()
    order = [pl.col("i"), pl.col("j").fill_null(-1)]

    def joined(mask: pl.Expr) -> pl.Expr:
        m = mask & ~is_call
        return pl.col("content").filter(m).sort_by(pl.col("i").filter(m)).str.join("")

    def listed(mask: pl.Expr) -> pl.Expr:
        m = mask & is_call
        return pl.struct("name", "arguments").filter(m).sort_by([o.filter(m) for o in order])

    has_stop = pl.col("finish_reason").is_not_null()
    has_refusal = ans & pl.col("refusal").is_not_null()
    summary = rows.group_by("_sid").agg(
        pl.lit(True).alias("_has_idx"),
        pl.col("finish_reason").filter(has_stop).sort_by(pl.col("i").filter(has_stop)).first().alias("_idx_stop"),
        joined(in_first).alias("_idx_text_first"),
        joined(ans).alias("_idx_text_all"),
        listed(in_first).alias("_idx_calls_first"),
        listed(ans).alias("_idx_calls_all"),
        pl.col("refusal").filter(has_refusal).sort_by(pl.col("i").filter(has_refusal)).first().alias("_idx_refusal"),
    )
    prompt = (
        long.filter((pl.col("kind") == "prompt") & field.is_in(["role", "content"]))
        .group_by("_sid", "i")
        .agg(value.filter(field == "role").first().alias("role"), value.filter(field == "content").first().alias("content"))
        .filter(pl.col("role").is_not_null())
        .group_by("_sid")
        .agg(pl.col("role").sort_by("i").last(), pl.col("content").sort_by("i").last())
        .select(
            "_sid",
            ((pl.col("role") == "tool")
             | ((pl.col("role") == "user") & _flag(pl.col("content").str.contains(r'"type":\s*"tool_result"'))))
            .alias("_idx_after_tool"),
        )
    )
    return summary.join(prompt, on="_sid", how="full", coalesce=True).with_columns(pl.col("_has_idx").fill_null(True))


def _events(events: pl.LazyFrame) -> pl.LazyFrame:
    """§1b content events (and OTel exception events) -> one row per span.

    Input: EVENTS (long). Output: ``_sid``; ``_ev_text``, ``_ev_stop``,
    ``_ev_calls`` (str text / stop value / tool-calls JSON array of the first
    choice: the ``gen_ai.choice`` event with index 0, else the first one; else
    the v1.26–1.27 ``gen_ai.completion`` attribute's ``[0]``); ``_ev_after_tool``
    (bool: the last input-message event is ``gen_ai.tool.message``, else the last
    v1.26–1.27 ``gen_ai.prompt`` message has role ``tool``; null without either);
    ``_exception_type`` (str: ``exception.type`` of the first ``exception`` event).
    """
    name, key, value = pl.col("event_name"), pl.col("key"), pl.col("value")
    relevant = events.filter(
        name.is_in([COMPLETION_EVENT, PROMPT_EVENT, CHOICE_EVENT, "exception", *MESSAGE_EVENTS])
    )
    is_msg = name.is_in(MESSAGE_EVENTS)
    content = (
        relevant.group_by("_sid")
        .agg(
            value.filter((name == COMPLETION_EVENT) & (key == "gen_ai.completion")).first().alias("_completion"),
            value.filter((name == PROMPT_EVENT) & (key == "gen_ai.prompt")).last().alias("_prompt"),
            value.filter((name == "exception") & (key == "exception.type")).first().alias("_exception_type"),
            (name.filter(is_msg).sort_by(pl.col("event_index").filter(is_msg)).last() == TOOL_MESSAGE_EVENT).alias("_msg_tool"),
        )
        .with_columns(jp("_completion", "$[0]").alias("_c0"), jp("_prompt", "$[-1].role").alias("_prompt_role"))
    )

    def body_field(f: str) -> pl.Expr:
        return pl.coalesce(value.filter(key == f).first(), jp(value.filter(key == "body").first(), f"$.{f}"))

    choices = (
        relevant.filter(name == CHOICE_EVENT)
        .group_by("_sid", "event_index")
        .agg(body_field("index").alias("_idx"), body_field("finish_reason").alias("_choice_stop"),
             body_field("message").alias("_choice_message"), body_field("tool_calls").alias("_choice_calls"))
        .with_columns((pl.col("_idx").fill_null("0") != "0").alias("_later"))
        .group_by("_sid")
        .agg(pl.col("_choice_stop", "_choice_message", "_choice_calls").sort_by("_later", "event_index").first())
    )
    msg = pl.col("_choice_message")
    return content.join(choices, on="_sid", how="full", coalesce=True).select(
        "_sid",
        pl.coalesce(jp(msg, "$.content"), jp("_c0", "$.content")).alias("_ev_text"),
        pl.coalesce("_choice_stop", jp("_c0", "$.finish_reason")).alias("_ev_stop"),
        pl.coalesce(jp(msg, "$.tool_calls"), "_choice_calls", jp("_c0", "$.tool_calls")).alias("_ev_calls"),
        pl.coalesce("_msg_tool", pl.when(pl.col("_prompt_role").is_not_null()).then(pl.col("_prompt_role") == "tool"))
        .alias("_ev_after_tool"),
        "_exception_type",
        (pl.col("_completion").is_not_null() | pl.col("_choice_stop").is_not_null() | msg.is_not_null()).alias("_ev_output"),
    )


def _json_calls(attrs: pl.LazyFrame, ev: pl.LazyFrame) -> pl.LazyFrame:
    """Tool calls held as a JSON array: §1b event choices / completions (OpenAI
    shape ``{function{name, arguments}}``) and Vercel ``ai.response.toolCalls`` /
    ``ai.result.toolCalls`` (``{toolName, input|args}``).

    Input: ATTRS and the :func:`_events` frame. Output: ``_sid``, ``_json_calls``
    (list[TOOL_CALL]) for spans with such an array; the events' array wins, then
    ``ai.response.toolCalls``, then ``ai.result.toolCalls``.
    """
    key = pl.col("key")
    vercel = attrs.filter(key.is_in(["ai.response.toolCalls", "ai.result.toolCalls"])).select(
        "_sid",
        pl.when(key == "ai.response.toolCalls").then(pl.lit(1, dtype=pl.Int64)).otherwise(pl.lit(2, dtype=pl.Int64)).alias("_rank"),
        pl.col("value").alias("_arr"),
    )
    from_events = ev.filter(pl.col("_ev_calls").is_not_null()).select("_sid", pl.lit(0, dtype=pl.Int64).alias("_rank"), pl.col("_ev_calls").alias("_arr"))
    arrays = (
        pl.concat([from_events, vercel], how="vertical_relaxed")
        .sort("_sid", "_rank")
        .unique("_sid", keep="first", maintain_order=True)
    )
    elems = _array_elements(arrays, "_arr")
    return _calls_of(
        elems,
        name_paths=["$.function.name", "$.toolName", "$.name"],
        args_paths=["$.function.arguments", "$.input", "$.args", "$.arguments"],
    ).rename({"tool_calls": "_json_calls"})


def _flag(e: pl.Expr) -> pl.Expr:
    return e.fill_null(False)


def _provider_table() -> pl.LazyFrame:
    return pl.LazyFrame({"_praw": list(PROVIDER_NAMES), "_pmapped": list(PROVIDER_NAMES.values())})


def _vercel_op(name: pl.Expr, op: pl.Expr) -> pl.Expr:
    """The Vercel AI SDK operation of a span: ``ai.operationId``, else a span name starting ``ai.``."""
    return pl.coalesce(op, pl.when(name.str.starts_with("ai.")).then(name))


def _call_parents(spans: pl.LazyFrame, attrs: pl.LazyFrame) -> pl.LazyFrame:
    """(trace_id, span_id) of the spans that have a Vercel provider-call child (§1d)."""
    op = attrs.filter(pl.col("key") == "ai.operationId").unique("_sid", keep="first").select("_sid", pl.col("value").alias("_op"))
    return (
        spans.select("_sid", "trace_id", "parent_span_id", "name")
        .join(op, on="_sid", how="left")
        .filter(_flag(_vercel_op(pl.col("name"), pl.col("_op")).str.contains(VERCEL_CALL)) & pl.col("parent_span_id").is_not_null())
        .select("trace_id", pl.col("parent_span_id").alias("span_id"))
        .unique()
        .with_columns(pl.lit(True).alias("_has_call_child"))
    )


def extract(spans: pl.LazyFrame, attrs: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """LLM-call spans of OTel GenAI (§1a, §1b), OpenLLMetry (§1c) and the Vercel
    AI SDK (§1d) -> canonical columns (trace-formats.md §1a–§1d, §11; module doc).

    Input: the SPANS, ATTRS and EVENTS frames of ``spans.py`` (each is read
    several times: pass collected frames, not a pipeline that re-parses a file).
    Output, one row per LLM-call span of these conventions (spans with
    ``openinference.span.kind``, embeddings, tools, agents, workflows and the
    Vercel outer span of a provider call in the file are left out):
    ``_sid`` (i64); ``provider`` (str, :data:`PROVIDER_NAMES` applied to the
    lowercased convention value; null when the span names none); ``model`` (str,
    response model, else request model); ``provider_stop_reason`` (str, the first
    choice's value exactly as the attribute holds it, numbers as decimal text;
    null when absent); ``normalized_by`` (str ``"vercel-ai"`` / ``"openllmetry"``
    when the exporter rewrote the value, else null); ``stop_detail`` (str,
    ``error.type``; for a span with status error without it, the ``exception``
    event's ``exception.type``, else ``"span_error"``; null otherwise);
    ``provider_refusal`` (str, OpenLLMetry ``.refusal``); ``output_text`` (str,
    null when content was not captured); ``tool_calls`` (list[schema.TOOL_CALL],
    empty when none); ``output_tokens``, ``max_tokens`` (i64, null when absent
    or not a number); ``expects_json`` (bool: ``gen_ai.output.type == "json"``,
    ``gen_ai.openai.request.response_format`` json_object/json_schema,
    OpenLLMetry ``structured_output_schema`` present, a Vercel
    generateObject/streamObject call; False for another declared output type;
    null when unknown); ``after_tool_result`` (bool, null when the span carries
    no input messages); ``_route_hint`` (str: ``traceloop.workflow.name`` >
    ``traceloop.entity.path`` > association properties ``k=v;...`` >
    ``ai.telemetry.functionId`` > ``ai.telemetry.metadata.*`` ``k=v;...``;
    null for plain OTel GenAI, whose route is trace-level); ``agent_name`` (str,
    ``gen_ai.agent.name``); ``_convention`` (str: ``otel-genai``, ``openllmetry``,
    ``vercel-ai``).
    Errors: none; a malformed JSON attribute yields nulls for the fields read from it.
    """
    key = pl.col("key")
    details = events.filter((pl.col("event_name") == DETAILS_EVENT) & key.is_not_null()).select("_sid", "key", "value")
    long = pl.concat([attrs.select("_sid", "key", "value"), details], how="vertical_relaxed")
    ev = _events(events)
    calls = (
        spans.select("_sid", "trace_id", "span_id", "name", "status_code")
        .join(_pivot(long), on="_sid", how="left")
        .join(_markers(attrs), on="_sid", how="left")
        .join(_indexed(attrs), on="_sid", how="left")
        .join(_message_parts(long), on="_sid", how="left")
        .join(ev, on="_sid", how="left")
        .join(_json_calls(attrs, ev), on="_sid", how="left")
        .join(_call_parents(spans, attrs), on=["trace_id", "span_id"], how="left")
        .with_columns(_vercel_op(pl.col("name"), pl.col("_ai_op")).alias("_vop"), _flag(pl.col("_has_idx")))
        .filter(_is_llm_call())
    )
    vercel = pl.col("_vop").is_not_null()
    praw = (
        pl.when(vercel)
        .then(pl.coalesce("_ai_provider", "_system").str.split(".").list.first())
        .otherwise(pl.coalesce("_provider_name", "_system"))
        .str.to_lowercase()
    )
    return (
        calls.with_columns(praw.alias("_praw"))
        .join(_provider_table(), on="_praw", how="left")
        .with_columns(pl.coalesce("_pmapped", "_praw").alias("provider"))
        .select("_sid", *_fields())
    )


def _is_llm_call() -> pl.Expr:
    """Which spans of the joined per-span frame are model calls of these conventions (§1a–§1d, §11)."""
    vop, op, req = pl.col("_vop"), pl.col("_op"), pl.col("_req_type")
    vercel = vop.is_not_null()
    vercel_call = _flag(vop.str.contains(VERCEL_CALL)) | (
        _flag(vop.str.contains(VERCEL_OUTER)) & pl.col("_has_call_child").is_null()
    )
    evidence = pl.any_horizontal(
        pl.col(c).is_not_null()
        for c in ("_finish_reasons", "_has_msgs", "_out_tokens", "_completion_tokens", "_error_type")
    ) | _flag(pl.col("_ev_output")) | pl.col("_has_idx")
    names_provider = pl.col("_provider_name").is_not_null() | pl.col("_system").is_not_null() | pl.col("_has_idx")
    genai = (
        ~vercel
        & ~_flag(op.is_in(NON_LLM_OPERATIONS))
        & ~_flag(req.is_in(NON_LLM_OPERATIONS))
        & (_flag(op.is_in(LLM_OPERATIONS)) | _flag(req.is_in(LLM_REQUEST_TYPES)) | (names_provider & evidence))
    )
    return pl.col("_oi_kind").is_null() & ((vercel & vercel_call) | genai)


def _fields() -> list[pl.Expr]:
    """Canonical column expressions over the joined per-span frame of LLM calls (see :func:`extract`)."""
    vercel = pl.col("_vop").is_not_null()
    openllmetry = pl.col("_has_idx") | _flag(pl.col("_openllmetry")) | pl.col("_req_type").is_not_null()
    first_reason = _first_finish_reason(pl.col("_finish_reasons"))
    stop = (
        pl.when(vercel)
        .then(pl.coalesce("_ai_finish", first_reason))
        .otherwise(pl.coalesce("_idx_stop", first_reason, "_msg_stop", "_ev_stop"))
    )
    normalized_by = (
        pl.when(vercel & stop.is_not_null()).then(pl.lit("vercel-ai"))
        .when(openllmetry & pl.col("_idx_stop").is_null() & _flag(stop.is_in(OTEL_FINISH_ENUM)))
        .then(pl.lit("openllmetry"))
    )
    convention = (
        pl.when(vercel).then(pl.lit("vercel-ai")).when(openllmetry).then(pl.lit("openllmetry")).otherwise(pl.lit("otel-genai"))
    )
    # One Anthropic message may spread over several indices; other providers' indices are choices.
    whole = pl.col("provider") == "anthropic"
    idx_text = pl.when(whole).then(pl.col("_idx_text_all")).otherwise(pl.col("_idx_text_first"))
    idx_calls = pl.when(whole).then(pl.col("_idx_calls_all")).otherwise(pl.col("_idx_calls_first"))
    text = pl.coalesce(idx_text, "_parts_text", "_ev_text", "_ai_text", "_ai_result_text")
    tool_calls = pl.coalesce(idx_calls, "_parts_calls", "_json_calls").fill_null(pl.lit([], dtype=_TOOL_CALLS))
    response_format = pl.col("_response_format")
    response_format = pl.when(response_format.str.starts_with("{")).then(jp(response_format, "$.type")).otherwise(response_format)
    expects_json = pl.coalesce(
        pl.when(pl.col("_output_type").is_not_null()).then(pl.col("_output_type") == "json"),
        pl.when(response_format.is_not_null()).then(response_format.is_in(["json_object", "json_schema"])),
        pl.when(pl.col("_structured_schema").is_not_null()).then(pl.lit(True)),
        pl.when(_flag(pl.col("_vop").str.contains(r"^ai\.(generateObject|streamObject)"))).then(pl.lit(True)),
    )
    last_input = jp("_in_msgs", "$[-1]")
    last_role, last_parts = jp(last_input, "$.role"), jp(last_input, "$.parts")
    from_input = pl.when(last_role.is_not_null() | last_parts.is_not_null()).then(
        _flag(last_role == "tool") | _flag(last_parts.str.contains('"type":"tool_call_response"', literal=True))
    )
    after_tool = pl.coalesce(
        from_input, "_idx_after_tool", "_ev_after_tool", jp("_ai_prompt_messages", "$[-1].role") == "tool",
    )
    stop_detail = pl.coalesce(
        "_error_type",
        pl.when(pl.col("status_code") == "error").then(pl.coalesce("_exception_type", pl.lit("span_error"))),
    )
    return [
        pl.col("provider"),
        pl.coalesce("_resp_model", "_ai_resp_model", "_req_model", "_ai_model").alias("model"),
        stop.alias("provider_stop_reason"),
        normalized_by.alias("normalized_by"),
        stop_detail.alias("stop_detail"),
        pl.col("_idx_refusal").alias("provider_refusal"),
        text.alias("output_text"),
        tool_calls.alias("tool_calls"),
        to_int(pl.coalesce("_out_tokens", "_completion_tokens", "_ai_out_tokens", "_ai_completion_tokens")).alias("output_tokens"),
        to_int(pl.coalesce("_max_tokens", "_ai_max_output", "_ai_max_tokens")).alias("max_tokens"),
        expects_json.alias("expects_json"),
        after_tool.alias("after_tool_result"),
        pl.coalesce("_workflow", "_entity_path", "_association", "_ai_function_id", "_ai_metadata").alias("_route_hint"),
        pl.col("agent_name"),
        convention.alias("_convention"),
    ]
