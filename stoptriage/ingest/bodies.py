"""Raw provider response bodies -> canonical columns, for the five APIs of this release.

Input of :func:`extract`: a LazyFrame with ``_rid`` (row id), ``_body`` (the
response body as JSON text) and ``_req`` (the request body as JSON text, nullable).
Each API is described by an :class:`ApiSpec` (JSONPaths, read off the providers'
SDK types; see shared/reference/trace-formats.md §0 and stop-reasons.md §1–3), so
adding an API is adding a spec, not a code path.

Which API a body is comes from its own keys (:func:`detect_api`), never from the
file name. Bodies of another shape get ``_api = "unknown"``; HTTP error bodies get
``_api = "error"``; the caller reports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import polars as pl

from ..schema import TOOL_CALL, TOOL_SCHEMA
from .jsonl import jp, robust_decode

E = pl.element()
S = pl.String

#: API names, as detected per body.
OPENAI_CHAT = "openai_chat"
OPENAI_RESPONSES = "openai_responses"
ANTHROPIC_MESSAGES = "anthropic_messages"
GEMINI = "gemini"
BEDROCK_CONVERSE = "bedrock_converse"
ERROR = "error"
UNKNOWN = "unknown"


def detect_api(body: str = "_body", keys: str | None = None) -> pl.Expr:
    """Which API a response body is, from its keys (trace-formats.md §0, §11).

    Input: ``body`` (str JSON) and optionally ``keys`` (list[str], the body's
    top-level keys, when ingest already has them: saves a JSON parse per check).
    Output: str, one of the API names above, ``"error"`` for an HTTP error body
    (``{"type":"error",...}`` or a top-level ``error`` object without output), or
    ``"unknown"``. OpenAI text completions (``object: "text_completion"``) are
    ``unknown`` in this release.
    """

    def has(key: str) -> pl.Expr:
        if keys is not None:
            return pl.col(keys).list.contains(key).fill_null(False)
        return jp(body, f"$.{key}").is_not_null()

    if keys is not None:
        # One parse for the scalar markers; the key checks need none.
        sniff = robust_decode(
            pl.col(body),
            pl.Struct({"object": S, "type": S, "error": pl.Struct({"type": S, "code": S, "message": S})}),
        )
        obj, typ = sniff.struct.field("object"), sniff.struct.field("type")
        has_error = sniff.struct.field("error").is_not_null() | (has("error") & sniff.is_null())
    else:
        obj, typ = jp(body, "$.object"), jp(body, "$.type")
        has_error = jp(body, "$.error").is_not_null()
    # Same shape tests in both modes; has() only skips the parse when keys are known.
    chat_shaped = has("choices") & jp(body, "$.choices[0].message").is_not_null()
    bedrock_shaped = has("stopReason") | (has("output") & jp(body, "$.output.message").is_not_null())
    has_choices = has("choices")
    has_candidates = has("candidates") | has("promptFeedback")
    return (
        pl.when(obj == "response")
        .then(pl.lit(OPENAI_RESPONSES))
        .when((typ == "error") | (has_error & ~has_choices & ~has_candidates))
        .then(pl.lit(ERROR))
        .when((obj == "chat.completion") | (obj.is_null() & chat_shaped))
        .then(pl.lit(OPENAI_CHAT))
        .when(typ == "message")
        .then(pl.lit(ANTHROPIC_MESSAGES))
        .when(has_candidates)
        .then(pl.lit(GEMINI))
        .when(bedrock_shaped)
        .then(pl.lit(BEDROCK_CONVERSE))
        .otherwise(pl.lit(UNKNOWN))
    )


def error_reason(body: str = "_body") -> pl.Expr:
    """One-line description of an HTTP error body: ``<type or code>: <message>``."""
    kind = pl.coalesce(
        jp(body, "$.error.type"), jp(body, "$.error.code"), jp(body, "$.error.status"), pl.lit("error")
    )
    msg = pl.coalesce(jp(body, "$.error.message"), jp(body, "$.message"), pl.lit(""))
    return pl.concat_str([pl.lit("HTTP error body: "), kind, pl.lit(": "), msg.str.slice(0, 200)])


@dataclass(frozen=True)
class Parts:
    """An array of output parts in a body.

    ``path``: JSONPath of the array. ``dtype``: the minimal element dtype decoded
    (only scalar fields whose JSON type the API fixes). ``text``: element -> text
    piece (null when the element is not text). ``is_tool``: element -> is a client
    tool call. ``name_rel`` / ``args_rel``: paths of the tool name and arguments
    relative to the element (arguments are read as JSON text, objects included).
    ``refusal``: element -> refusal text piece, if the API has refusal parts.
    """

    path: str
    dtype: pl.DataType
    text: Callable[[pl.Expr], pl.Expr] | None = None
    is_tool: Callable[[pl.Expr], pl.Expr] | None = None
    name_rel: str = ".name"
    args_rel: str = ".arguments"
    refusal: Callable[[pl.Expr], pl.Expr] | None = None


@dataclass(frozen=True)
class Tools:
    """Tool definitions in a request: array path, name and JSON-schema paths per element."""

    path: str
    name_rel: str
    schema_rel: str


@dataclass(frozen=True)
class ApiSpec:
    """Where one API keeps each canonical field (JSONPaths on body / request)."""

    name: str
    provider: str
    stop: str
    model: str
    parts: Parts
    output_tokens: tuple[str, ...]
    req_max_tokens: tuple[str, ...]
    stop_detail: str | None = None
    text: str | None = None
    refusal: str | None = None
    response_id: str | None = None
    created_unix: str | None = None
    created_iso: str | None = None
    body_max_tokens: tuple[str, ...] = ()
    expects_json: Callable[[pl.Expr, pl.Expr], pl.Expr] | None = None
    after_tool_result: Callable[[pl.Expr], pl.Expr] | None = None
    tools: tuple[Tools, ...] = ()
    extra_tool: tuple[str, str] | None = None  # (name path, args path) of a lone legacy call


def _field(name: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: e.struct.field(name)


def _typed(type_value: str, name: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: pl.when(e.struct.field("type") == type_value).then(e.struct.field(name))


def _is_type(type_value: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: e.struct.field("type") == type_value


def _json_format(*paths: str) -> Callable[[pl.Expr, pl.Expr], pl.Expr]:
    """Request (or body) asks for JSON when any path holds json_object / json_schema."""

    def f(req: pl.Expr, body: pl.Expr) -> pl.Expr:
        vals = [jp(src, p) for p in paths for src in (req, body)]
        v = pl.coalesce(vals)
        return pl.when(v.is_not_null()).then(v.is_in(["json_object", "json_schema"]))

    return f


def _last_role_is(path: str, roles: list[str]) -> Callable[[pl.Expr], pl.Expr]:
    return lambda req: jp(req, f"{path}[-1:].role").is_in(roles)


def _last_has(path: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda req: jp(req, path).is_not_null()


def _anthropic_json(req: pl.Expr, body: pl.Expr) -> pl.Expr:
    return jp(req, "$.output_config.format").is_not_null() | jp(req, "$.output_format").is_not_null()


def _gemini_json(req: pl.Expr, body: pl.Expr) -> pl.Expr:
    mime = pl.coalesce(jp(req, "$.generationConfig.responseMimeType"), jp(req, "$.generation_config.response_mime_type"))
    schema = pl.coalesce(
        jp(req, "$.generationConfig.responseSchema"),
        jp(req, "$.generationConfig.responseJsonSchema"),
        jp(req, "$.generation_config.response_schema"),
    )
    return (mime == "application/json").fill_null(False) | schema.is_not_null()


SPECS: dict[str, ApiSpec] = {
    OPENAI_CHAT: ApiSpec(
        name=OPENAI_CHAT,
        provider="openai",
        stop="$.choices[0].finish_reason",
        model="$.model",
        response_id="$.id",
        created_unix="$.created",
        text="$.choices[0].message.content",
        refusal="$.choices[0].message.refusal",
        parts=Parts(
            path="$.choices[0].message.tool_calls",
            dtype=pl.List(pl.Struct({"type": S, "id": S})),
            is_tool=lambda e: pl.lit(True),
            name_rel=".function.name",
            args_rel=".function.arguments",
        ),
        extra_tool=("$.choices[0].message.function_call.name", "$.choices[0].message.function_call.arguments"),
        output_tokens=("$.usage.completion_tokens",),
        req_max_tokens=("$.max_completion_tokens", "$.max_tokens"),
        expects_json=_json_format("$.response_format.type"),
        after_tool_result=_last_role_is("$.messages", ["tool", "function"]),
        tools=(Tools("$.tools", ".function.name", ".function.parameters"), Tools("$.functions", ".name", ".parameters")),
    ),
    OPENAI_RESPONSES: ApiSpec(
        name=OPENAI_RESPONSES,
        provider="openai",
        stop="$.status",
        stop_detail="$.incomplete_details.reason",
        model="$.model",
        response_id="$.id",
        created_unix="$.created_at",
        parts=Parts(
            path="$.output",
            dtype=pl.List(
                pl.Struct({"type": S, "content": pl.List(pl.Struct({"type": S, "text": S, "refusal": S}))})
            ),
            text=None,  # nested: handled by _responses_text
            is_tool=_is_type("function_call"),
        ),
        output_tokens=("$.usage.output_tokens",),
        req_max_tokens=("$.max_output_tokens",),
        body_max_tokens=("$.max_output_tokens",),
        expects_json=_json_format("$.text.format.type"),
        after_tool_result=lambda req: jp(req, "$.input[-1:].type") == "function_call_output",
        tools=(Tools("$.tools", ".name", ".parameters"),),
    ),
    ANTHROPIC_MESSAGES: ApiSpec(
        name=ANTHROPIC_MESSAGES,
        provider="anthropic",
        stop="$.stop_reason",
        stop_detail="$.stop_details.category",
        model="$.model",
        response_id="$.id",
        parts=Parts(
            path="$.content",
            dtype=pl.List(pl.Struct({"type": S, "text": S})),
            text=_typed("text", "text"),
            is_tool=_is_type("tool_use"),
            args_rel=".input",
        ),
        output_tokens=("$.usage.output_tokens",),
        req_max_tokens=("$.max_tokens",),
        expects_json=_anthropic_json,
        after_tool_result=_last_has("$.messages[-1:].content[?(@.type=='tool_result')]"),
        tools=(Tools("$.tools", ".name", ".input_schema"),),
    ),
    GEMINI: ApiSpec(
        name=GEMINI,
        provider="gemini",
        stop="$.candidates[0].finishReason",
        stop_detail="$.promptFeedback.blockReason",
        model="$.modelVersion",
        response_id="$.responseId",
        created_iso="$.createTime",
        parts=Parts(
            path="$.candidates[0].content.parts",
            dtype=pl.List(pl.Struct({"text": S, "thought": S, "functionCall": pl.Struct({"name": S})})),
            text=lambda e: pl.when(e.struct.field("thought").fill_null("false") != "true").then(e.struct.field("text")),
            is_tool=lambda e: e.struct.field("functionCall").is_not_null(),
            name_rel=".functionCall.name",
            args_rel=".functionCall.args",
        ),
        output_tokens=("$.usageMetadata.candidatesTokenCount", "$.usageMetadata.thoughtsTokenCount"),
        req_max_tokens=("$.generationConfig.maxOutputTokens", "$.generation_config.max_output_tokens"),
        expects_json=_gemini_json,
        after_tool_result=_last_has("$.contents[-1:].parts[?(@.functionResponse)]"),
        tools=(Tools("$.tools[0].functionDeclarations", ".name", ".parameters"),),
    ),
    BEDROCK_CONVERSE: ApiSpec(
        name=BEDROCK_CONVERSE,
        provider="bedrock",
        stop="$.stopReason",
        stop_detail="$.trace.guardrail.actionReason",
        model="$.modelId",
        parts=Parts(
            path="$.output.message.content",
            dtype=pl.List(pl.Struct({"text": S, "toolUse": pl.Struct({"name": S})})),
            text=_field("text"),
            is_tool=lambda e: e.struct.field("toolUse").is_not_null(),
            name_rel=".toolUse.name",
            args_rel=".toolUse.input",
        ),
        output_tokens=("$.usage.outputTokens",),
        req_max_tokens=("$.inferenceConfig.maxTokens", "$.inferenceConfig.max_new_tokens"),
        after_tool_result=_last_has("$.messages[-1:].content[?(@.toolResult)]"),
        tools=(Tools("$.toolConfig.tools", ".toolSpec.name", ".toolSpec.inputSchema.json"),),
    ),
}


def _to_int(expr: pl.Expr) -> pl.Expr:
    """JSON number text -> Int64 (``"197.0"`` included); anything else -> null."""
    return expr.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def _indexed(lf: pl.LazyFrame, src: str, path: str, idx_col: str, rels: dict[str, str]) -> pl.LazyFrame:
    """Explode ``idx_col`` (list of element indices) and read ``rels`` of each element."""
    out = lf.select("_rid", src, idx_col).explode(idx_col).filter(pl.col(idx_col).is_not_null())
    base = pl.concat_str([pl.lit(path + "["), pl.col(idx_col).cast(pl.String), pl.lit("]")])
    return out.with_columns(
        [jp(src, pl.concat_str([base, pl.lit(rel)])).alias(name) for name, rel in rels.items()]
    )


def _tool_calls(lf: pl.LazyFrame, spec: ApiSpec) -> pl.LazyFrame:
    """``_rid`` -> tool_calls list[struct{name, arguments}], in output order."""
    p = spec.parts
    calls = _indexed(lf, "_body", p.path, "_tool_idx", {"name": p.name_rel, "arguments": p.args_rel})
    calls = calls.select("_rid", "_tool_idx", pl.struct("name", "arguments").alias("tc"))
    if spec.extra_tool:
        legacy = lf.select(
            "_rid",
            pl.lit(10**6).alias("_tool_idx"),
            pl.struct(jp("_body", spec.extra_tool[0]).alias("name"), jp("_body", spec.extra_tool[1]).alias("arguments")).alias("tc"),
        ).filter(pl.col("tc").struct.field("name").is_not_null())
        calls = pl.concat([calls, legacy.cast({"_tool_idx": pl.Int64})], how="vertical_relaxed")
    return calls.sort("_rid", "_tool_idx").group_by("_rid", maintain_order=True).agg(
        pl.col("tc").alias("tool_calls")
    )


def _tool_schemas(lf: pl.LazyFrame, spec: ApiSpec) -> pl.LazyFrame | None:
    """``_rid`` -> tool_schemas list[struct{name, schema}] from the request's tool definitions."""
    frames = []
    for t in spec.tools:
        arr = robust_decode(jp("_req", t.path), pl.List(pl.Struct({"type": S})))
        with_idx = lf.select("_rid", "_req", arr.list.eval(pl.int_range(pl.len())).alias("_def_idx"))
        defs = _indexed(with_idx, "_req", t.path, "_def_idx", {"name": t.name_rel, "schema": t.schema_rel})
        frames.append(defs.select("_rid", pl.struct("name", "schema").alias("ts")))
    if not frames:
        return None
    return (
        pl.concat(frames)
        .filter(pl.col("ts").struct.field("name").is_not_null())
        .group_by("_rid", maintain_order=True)
        .agg(pl.col("ts").alias("tool_schemas"))
    )


def _responses_text(parts: pl.Expr, kind: str, field_name: str) -> pl.Expr:
    content = parts.list.eval(
        E.filter(E.struct.field("type") == "message").struct.field("content").list.explode(keep_nulls=False, empty_as_null=False)
    )
    return content.list.eval(E.filter(E.struct.field("type") == kind).struct.field(field_name)).list.join("")


def extract_api(lf: pl.LazyFrame, spec: ApiSpec) -> pl.LazyFrame:
    """Canonical columns for rows of one API.

    Input: ``_rid`` (u32/i64), ``_body`` (str JSON), ``_req`` (str JSON, nullable).
    Output: ``_rid``, ``_shape_error`` (str, null when the body's arrays decoded),
    and the canonical columns provider, model, provider_stop_reason, stop_detail,
    provider_refusal, output_text, tool_calls, tool_schemas, output_tokens,
    max_tokens, expects_json, after_tool_result, timestamp, plus ``response_id``.
    """
    p = spec.parts
    body, req = pl.col("_body"), pl.col("_req")
    arr = jp(body, p.path)
    decoded = robust_decode(arr, p.dtype)
    lf = lf.with_columns(decoded.alias("_parts"))
    lf = lf.with_columns(
        pl.when(arr.is_not_null() & pl.col("_parts").is_null())
        .then(pl.lit(f"{spec.name} body: {p.path} is not an array of the documented parts"))
        .alias("_shape_error"),
        pl.col("_parts").list.eval(pl.int_range(pl.len()).filter(p.is_tool(E)) if p.is_tool else pl.int_range(0)).alias("_tool_idx"),
    )
    if spec.name == OPENAI_RESPONSES:
        text = _responses_text(pl.col("_parts"), "output_text", "text")
        refusal = _responses_text(pl.col("_parts"), "refusal", "refusal")
        refusal = pl.when(refusal != "").then(refusal)
    else:
        pieces = [jp(body, spec.text)] if spec.text else []
        if p.text:
            pieces.append(pl.col("_parts").list.eval(p.text(E)).list.join(""))
        text = pl.concat_str(pieces, ignore_nulls=True) if pieces else pl.lit("")
        refusal = jp(body, spec.refusal) if spec.refusal else pl.lit(None, dtype=S)

    tokens = [_to_int(jp(body, t)) for t in spec.output_tokens]
    out_tokens = pl.when(pl.any_horizontal([t.is_not_null() for t in tokens])).then(pl.sum_horizontal(tokens))
    max_tokens = pl.coalesce([_to_int(jp(req, t)) for t in spec.req_max_tokens] + [_to_int(jp(body, t)) for t in spec.body_max_tokens])
    has_req = req.is_not_null()
    expects_json = (
        pl.when(has_req | pl.lit(spec.name == OPENAI_RESPONSES)).then(spec.expects_json(req, body).fill_null(False))
        if spec.expects_json
        else pl.lit(None, dtype=pl.Boolean)
    )
    after_tool = (
        pl.when(has_req).then(spec.after_tool_result(req).fill_null(False))
        if spec.after_tool_result
        else pl.lit(None, dtype=pl.Boolean)
    )
    if spec.created_unix:
        ts = pl.from_epoch(_to_int(jp(body, spec.created_unix)), time_unit="s").dt.replace_time_zone("UTC")
    elif spec.created_iso:
        ts = jp(body, spec.created_iso).str.to_datetime(time_zone="UTC", strict=False)
    else:
        ts = pl.lit(None, dtype=pl.Datetime("us", "UTC"))

    out = lf.with_columns(
        pl.lit(spec.provider).alias("provider"),
        pl.coalesce(jp(body, spec.model), jp(req, "$.model")).alias("model"),
        jp(body, spec.stop).alias("provider_stop_reason"),
        (jp(body, spec.stop_detail) if spec.stop_detail else pl.lit(None, dtype=S)).alias("stop_detail"),
        refusal.alias("provider_refusal"),
        text.fill_null("").alias("output_text"),
        out_tokens.alias("output_tokens"),
        max_tokens.alias("max_tokens"),
        expects_json.alias("expects_json"),
        after_tool.alias("after_tool_result"),
        ts.cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        (jp(body, spec.response_id) if spec.response_id else pl.lit(None, dtype=S)).alias("response_id"),
    )
    calls = _tool_calls(out, spec)
    out = out.join(calls, on="_rid", how="left").with_columns(
        pl.col("tool_calls").fill_null(pl.lit([], dtype=pl.List(TOOL_CALL)))
    )
    schemas = _tool_schemas(out, spec)
    if schemas is not None:
        out = out.join(schemas, on="_rid", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.List(TOOL_SCHEMA)).alias("tool_schemas"))
    return out.drop("_parts", "_tool_idx")


def extract(lf: pl.LazyFrame, keys: str | None = None) -> pl.LazyFrame:
    """Canonical columns for a frame of bodies of any of the five APIs.

    Input: ``_rid``, ``_body``, ``_req`` and any pass-through columns. Adds ``_api``
    (see :func:`detect_api`), ``_shape_error`` and the canonical columns; rows of
    API ``error``/``unknown`` keep null canonical values (the caller reports them).
    ``keys``: optional column of the body's top-level keys (see :func:`detect_api`).
    Row order is not preserved: sort by ``_rid`` after.
    """
    lf = lf.with_columns(detect_api(keys=keys).alias("_api")).collect().lazy()
    frames = [extract_api(lf.filter(pl.col("_api") == name), spec) for name, spec in SPECS.items()]
    rest = lf.filter(~pl.col("_api").is_in(list(SPECS))).with_columns(
        pl.when(pl.col("_api") == ERROR).then(error_reason()).alias("_shape_error")
    )
    return pl.concat(frames + [rest], how="diagonal_relaxed")
