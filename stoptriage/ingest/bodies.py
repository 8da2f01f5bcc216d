"""Raw provider response bodies -> canonical columns, one :class:`ApiSpec` per API.

Input of :func:`extract`: a LazyFrame with ``_rid`` (row id), ``_body`` (the
response body as JSON text) and ``_req`` (the request body as JSON text, nullable).
Each API is described by an :class:`ApiSpec` (JSONPaths, read off the providers'
SDK types and API references; see shared/reference/trace-formats.md §0 and
stop-reasons.md §1–4), so adding an API is adding a spec, not a code path.

APIs read (``_api`` name: body shape):

* ``openai_chat``, ``openai_responses`` — OpenAI Chat Completions / Responses
  (and OpenAI-compatible servers);
* ``openai_completions`` — legacy text completions (``object: "text_completion"``,
  ``choices[].text``), also from OpenAI-compatible servers and Bedrock endpoints;
* ``anthropic_messages`` — Messages, direct or through Bedrock InvokeModel;
* ``anthropic_completions`` — legacy Text Completions (``type: "completion"``),
  direct or through Bedrock InvokeModel;
* ``gemini`` — generateContent;
* ``bedrock_converse`` — Converse, and Nova through InvokeModel (same body);
* ``bedrock_titan``, ``bedrock_meta``, ``bedrock_mistral``, ``bedrock_cohere``,
  ``bedrock_ai21`` — InvokeModel bodies of Amazon Titan Text, Meta Llama, Mistral,
  Cohere Command (generate) and AI21 Jurassic-2;
* ``cohere_v1``, ``cohere_v2`` — Cohere Chat v1 (top-level ``text``) and v2
  (``message.content[]``), direct or through Bedrock;
* ``ollama_chat``, ``ollama_generate`` — Ollama native ``/api/chat`` and
  ``/api/generate``.

Each body is parsed once, strictly, for the fields its spec reads
(:func:`fast_fields`, :func:`jsonl.strict_decode`); a body whose JSON types differ
from the documented ones is read path by path with JSONPath, which gives the same
values for the bodies that fit (``FAST_BODY``; tests/test_strict_bodies.py).

Which API a body is comes from its own keys (:func:`detect_api`), never from the
file name. Bodies of another shape get ``_api = "unknown"``; HTTP error bodies get
``_api = "error"``; the caller reports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import polars as pl

from ..schema import CANONICAL, TOOL_CALL, TOOL_SCHEMA
from .jsonl import field_at, jp, path_dtype, robust_decode, simple_path, strict_decode, to_int

E = pl.element()
S = pl.String

#: API names, as detected per body.
OPENAI_CHAT = "openai_chat"
OPENAI_RESPONSES = "openai_responses"
ANTHROPIC_MESSAGES = "anthropic_messages"
GEMINI = "gemini"
BEDROCK_CONVERSE = "bedrock_converse"
OPENAI_COMPLETIONS = "openai_completions"
ANTHROPIC_COMPLETIONS = "anthropic_completions"
COHERE_V1 = "cohere_v1"
COHERE_V2 = "cohere_v2"
OLLAMA_CHAT = "ollama_chat"
OLLAMA_GENERATE = "ollama_generate"
BEDROCK_TITAN = "bedrock_titan"
BEDROCK_META = "bedrock_meta"
BEDROCK_MISTRAL = "bedrock_mistral"
BEDROCK_COHERE = "bedrock_cohere"
BEDROCK_AI21 = "bedrock_ai21"
ERROR = "error"
UNKNOWN = "unknown"


#: What :func:`sniff_markers` decodes of a body: the scalar markers :func:`detect_api` reads.
SNIFF_DTYPE = pl.Struct({"object": S, "type": S, "error": pl.Struct({"type": S, "code": S, "message": S})})


def sniff_markers(body: str | pl.Expr = "_body") -> pl.Expr:
    """A body's ``object``, ``type`` and ``error`` {type, code, message} decoded
    (:data:`SNIFF_DTYPE`), for :func:`detect_api`. Input: ``body`` (str JSON, a
    column name or an expression). Output: struct, null for a body that does not
    fit the dtype (an ``error`` that is a string, say) or is not JSON. Errors: none."""
    return robust_decode(pl.col(body) if isinstance(body, str) else body, SNIFF_DTYPE)


def detect_api(body: str = "_body", keys: str | None = None, sniffed: str | None = None) -> pl.Expr:
    """Which API a response body is, from its own keys (trace-formats.md §0, §11).

    Input: ``body`` (str JSON) and optionally ``keys`` (list[str], the body's
    top-level keys, when ingest already has them: saves a JSON parse per check);
    with ``keys``, optionally ``sniffed`` (struct column of :func:`sniff_markers`
    of ``body``, computed beforehand so it is decoded once).
    Output: str, one of the API names above, ``"error"`` for an HTTP error body
    (``{"type":"error",...}`` or a top-level ``error`` without output), or
    ``"unknown"`` (never null). Errors: none.

    First match wins, in this order (markers from each API's documented body;
    stop-reasons.md §1–4 and the providers' API references for the InvokeModel
    families, which the references do not cover):

    1. ``object == "response"`` -> openai_responses;
    2. ``type == "error"`` or an ``error`` key without ``choices``/``candidates`` -> error;
    3. ``object == "chat.completion"``, or no ``object`` and ``choices[0].message`` -> openai_chat;
    4. ``object`` in {``text_completion``, ``text.completion``}, or no ``object`` and
       ``choices[0].text`` -> openai_completions;
    5. ``type == "message"`` -> anthropic_messages; ``type == "completion"`` -> anthropic_completions;
    6. ``candidates`` / ``promptFeedback`` -> gemini;
    7. ``stopReason`` or ``output.message`` -> bedrock_converse (Nova InvokeModel included);
    8. ``done`` / ``done_reason`` and ``model``, with ``message`` -> ollama_chat, with
       ``response`` -> ollama_generate;
    9. ``id``, ``finish_reason`` and ``message`` -> cohere_v2; ``text`` with ``generation_id`` /
       ``response_id`` -> cohere_v1;
    10. ``inputTextTokenCount`` or ``results[0].completionReason`` -> bedrock_titan;
        ``generation`` with ``stop_reason`` / ``generation_token_count`` -> bedrock_meta;
        ``outputs[0].text`` / ``outputs[0].stop_reason`` -> bedrock_mistral;
        ``generations[0].finish_reason`` -> bedrock_cohere; ``completions[0].data`` -> bedrock_ai21.

    The early rules are the ones of the first five APIs, unchanged: later rules only
    see bodies that used to be ``unknown``. Later markers are pairs of keys, not one
    generic key, so framework outputs that merely share a key name (LangChain's
    ``generations``, a ``{"text", "finish_reason"}`` dict) stay ``unknown``.
    """

    def has(key: str) -> pl.Expr:
        if keys is not None:
            return pl.col(keys).list.contains(key).fill_null(False)
        return jp(body, f"$.{key}").is_not_null()

    def at(key: str, rest: str, only: pl.Expr | None = None) -> pl.Expr:
        # ``$.key<rest>`` present; parsed only where ``key`` is (cheap when keys are known)
        # and ``only`` holds (a rule that reads it for no other row): when/then evaluates
        # its branch on every row, so the JSON text itself is gated (the JSONPath matcher
        # skips null rows). Gated-out rows give False.
        cond = has(key) if only is None else has(key) & only
        gated = pl.when(cond).then(pl.col(body))
        return pl.when(cond).then(jp(gated, f"$.{key}{rest}").is_not_null()).otherwise(False)

    if keys is not None:
        # One parse for the scalar markers; the key checks need none. A precomputed
        # sniff column (:func:`sniff_markers`) saves the decode: a UDF is not shared
        # between the expressions that use it, so inline it would run once per use.
        sniff = pl.col(sniffed) if sniffed is not None else sniff_markers(body)
        obj, typ = sniff.struct.field("object"), sniff.struct.field("type")
        has_error = sniff.struct.field("error").is_not_null() | (has("error") & sniff.is_null())
    else:
        obj, typ = jp(body, "$.object"), jp(body, "$.type")
        has_error = jp(body, "$.error").is_not_null()
    # Same shape tests in both modes; has() only skips the parse when keys are known.
    # Read only where ``object`` is null: the two rules use them under ``obj.is_null()``.
    chat_shaped = at("choices", "[0].message", obj.is_null())
    completion_shaped = at("choices", "[0].text", obj.is_null())
    bedrock_shaped = has("stopReason") | at("output", ".message")
    has_choices = has("choices")
    has_candidates = has("candidates") | has("promptFeedback")
    ollama = (has("done") | has("done_reason")) & has("model")
    rules: list[tuple[pl.Expr, str]] = [
        (obj == "response", OPENAI_RESPONSES),
        ((typ == "error") | (has_error & ~has_choices & ~has_candidates), ERROR),
        ((obj == "chat.completion") | (obj.is_null() & chat_shaped), OPENAI_CHAT),
        (obj.is_in(["text_completion", "text.completion"]) | (obj.is_null() & completion_shaped), OPENAI_COMPLETIONS),
        (typ == "message", ANTHROPIC_MESSAGES),
        (typ == "completion", ANTHROPIC_COMPLETIONS),
        (has_candidates, GEMINI),
        (bedrock_shaped, BEDROCK_CONVERSE),
        (ollama & has("message"), OLLAMA_CHAT),
        (ollama & has("response"), OLLAMA_GENERATE),
        (has("finish_reason") & has("message") & has("id"), COHERE_V2),
        (has("text") & (has("generation_id") | has("response_id")), COHERE_V1),
        (has("inputTextTokenCount") | at("results", "[0].completionReason"), BEDROCK_TITAN),
        (has("generation") & (has("stop_reason") | has("generation_token_count")), BEDROCK_META),
        (at("outputs", "[0].text") | at("outputs", "[0].stop_reason"), BEDROCK_MISTRAL),
        (at("generations", "[0].finish_reason"), BEDROCK_COHERE),
        (at("completions", "[0].data"), BEDROCK_AI21),
    ]
    out = pl.when(rules[0][0]).then(pl.lit(rules[0][1]))
    for cond, name in rules[1:]:
        out = out.when(cond).then(pl.lit(name))
    return out.otherwise(pl.lit(UNKNOWN))


def error_reason(body: str = "_body") -> pl.Expr:
    """One-line description of an HTTP error body: ``HTTP error body: <type or code>: <message>``.

    Input: ``body`` (str JSON). Output: str. ``error`` may be an object (OpenAI,
    Anthropic, Gemini: ``type`` / ``code`` / ``status`` + ``message``) or a plain
    string (Ollama ``{"error": "model ... not found"}``), which is the message.
    The message is cut to 200 characters.
    """
    err = jp(body, "$.error")
    err_text = pl.when(~err.str.starts_with("{")).then(err)
    kind = pl.coalesce(
        jp(body, "$.error.type"), jp(body, "$.error.code"), jp(body, "$.error.status"), pl.lit("error")
    )
    msg = pl.coalesce(jp(body, "$.error.message"), jp(body, "$.message"), err_text, pl.lit(""))
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
    """Where one API keeps each canonical field (JSONPaths on body / request).

    ``name`` / ``provider``: the ``_api`` name and the ``provider`` column value
    (providers' own spelling). ``stop``: path of the raw stop value (kept as sent,
    numbers as decimal text). ``model``: path of the model id, else the request's
    ``model`` (InvokeModel bodies name no model). Output text is the ``text`` path,
    then the text pieces of ``parts`` and of ``text_parts``, concatenated.
    ``parts``: the array holding tool calls (and text pieces when its ``text`` is
    set); ``text_parts``: a second array read for text only (an API that keeps text
    and tool calls in separate arrays). ``output_tokens``: paths summed (e.g.
    visible + thinking); ``output_tokens_fallback``: paths tried in order when none
    of those is present (e.g. billed units when the real count is missing).
    ``req_max_tokens`` / ``body_max_tokens``: first present wins, a value <= 0 is no
    cap. ``expects_json`` / ``after_tool_result``: request predicates (null when the
    row has no request), called with :class:`Json` readers of the request (and the
    body). ``tools``: tool definitions in the request.
    """

    name: str
    provider: str
    stop: str
    model: str | None = None
    output_tokens: tuple[str, ...] = ()
    req_max_tokens: tuple[str, ...] = ()
    parts: Parts | None = None
    text_parts: Parts | None = None
    output_tokens_fallback: tuple[str, ...] = ()
    stop_detail: str | None = None
    text: str | None = None
    refusal: str | None = None
    response_id: str | None = None
    created_unix: str | None = None
    created_iso: str | None = None
    body_max_tokens: tuple[str, ...] = ()
    expects_json: Callable[[Json, Json], pl.Expr] | None = None
    after_tool_result: Callable[[Json], pl.Expr] | None = None
    tools: tuple[Tools, ...] = ()
    extra_tool: tuple[str, str] | None = None  # (name path, args path) of a lone legacy call


def _field(name: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: e.struct.field(name)


def _typed(type_value: str, name: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: pl.when(e.struct.field("type") == type_value).then(e.struct.field(name))


def _is_type(type_value: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda e: e.struct.field("type") == type_value


class Json:
    """Reads a JSON-text column (``_body`` or ``_req``) by path: every field
    :func:`extract_api` reads goes through one, and the spec's ``expects_json`` /
    ``after_tool_result`` predicates get one. ``get(path)`` is the value as text
    (String), ``get(path, pl.Float64)`` a number, ``get(path, None)`` always jp's text
    (for a path whose value may be an object or an array: the predicates only test it
    for null or a prefix). The dtype says what to record; a decoded path keeps the
    dtype it was decoded with.

    With ``decoded`` (a struct column from :func:`jsonl.strict_decode`) and ``fast``
    (its paths), a path among ``fast`` is read from the struct; others with :func:`jp`.
    With ``record`` (a dict), nothing is read: each typed simple path asked for is
    recorded with its dtype (:func:`fast_fields` learns the paths this way)."""

    def __init__(self, column: str, decoded: str | None = None, fast: dict[str, pl.DataType] | None = None, record: dict[str, pl.DataType] | None = None):
        self.column, self.decoded, self.fast, self.record = column, decoded, fast or {}, record

    def __call__(self, path: str, dtype: pl.DataType | None = S) -> pl.Expr:
        if self.record is not None:
            if dtype is not None and simple_path(path) is not None:
                self.record[path] = dtype
            return pl.lit(None, dtype=dtype or S)
        if self.decoded is not None and path in self.fast:
            return field_at(pl.col(self.decoded), simple_path(path))
        return jp(self.column, path)

    def array(self, path: str, dtype: pl.DataType) -> pl.Expr:
        """The array at ``path`` decoded to ``dtype``: from the decoded struct (which
        holds it with that dtype), else :func:`robust_decode` of jp's text (null for an
        array that does not fit)."""
        if self.decoded is not None and path in self.fast:
            return self(path)
        return robust_decode(jp(self.column, path), dtype)


def _json_format(*paths: str) -> Callable[[Json, Json], pl.Expr]:
    """Request (or body) asks for JSON when any path holds json_object / json_schema."""

    def f(req: Json, body: Json) -> pl.Expr:
        vals = [src(p) for p in paths for src in (req, body)]
        v = pl.coalesce(vals)
        return pl.when(v.is_not_null()).then(v.is_in(["json_object", "json_schema"]))

    return f


def _last_role_is(path: str, roles: list[str]) -> Callable[[Json], pl.Expr]:
    return lambda req: req(f"{path}[-1:].role").is_in(roles)


def _last_has(path: str) -> Callable[[Json], pl.Expr]:
    return lambda req: req(path, None).is_not_null()


def _anthropic_json(req: Json, body: Json) -> pl.Expr:
    return req("$.output_config.format", None).is_not_null() | req("$.output_format", None).is_not_null()


def _gemini_json(req: Json, body: Json) -> pl.Expr:
    mime = pl.coalesce(req("$.generationConfig.responseMimeType"), req("$.generation_config.response_mime_type"))
    schema = pl.coalesce(
        req("$.generationConfig.responseSchema", None),
        req("$.generationConfig.responseJsonSchema", None),
        req("$.generation_config.response_schema", None),
    )
    return (mime == "application/json").fill_null(False) | schema.is_not_null()


def _ollama_json(req: Json, body: Json) -> pl.Expr:
    """Ollama ``format``: ``"json"`` or a JSON schema object asks for JSON; ``""`` / absent does not."""
    fmt = req("$.format", None)
    return (fmt == "json") | fmt.str.starts_with("{")


def _every(e: pl.Expr) -> pl.Expr:
    """Every element of a tool-call array is a tool call."""
    return pl.lit(True)


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
        after_tool_result=lambda req: req("$.input[-1:].type") == "function_call_output",
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
    # Legacy text completions: OpenAI /v1/completions and OpenAI-compatible servers
    # (finish_reason stop / length / content_filter: stop-reasons.md 2.1).
    OPENAI_COMPLETIONS: ApiSpec(
        name=OPENAI_COMPLETIONS,
        provider="openai",
        stop="$.choices[0].finish_reason",
        model="$.model",
        response_id="$.id",
        created_unix="$.created",
        text="$.choices[0].text",
        output_tokens=("$.usage.completion_tokens",),
        req_max_tokens=("$.max_tokens",),
    ),
    # Anthropic Text Completions (POST /v1/complete; also Bedrock InvokeModel with a
    # `prompt` request): stop_reason stop_sequence / max_tokens; no usage in the body.
    ANTHROPIC_COMPLETIONS: ApiSpec(
        name=ANTHROPIC_COMPLETIONS,
        provider="anthropic",
        stop="$.stop_reason",
        model="$.model",
        response_id="$.id",
        text="$.completion",
        req_max_tokens=("$.max_tokens_to_sample",),
    ),
    # Cohere Chat v1 (stop-reasons.md 4): top-level text, tool_calls [{name, parameters}].
    COHERE_V1: ApiSpec(
        name=COHERE_V1,
        provider="cohere",
        stop="$.finish_reason",
        response_id="$.response_id",
        text="$.text",
        parts=Parts(path="$.tool_calls", dtype=pl.List(pl.Struct({"name": S})), is_tool=_every, args_rel=".parameters"),
        output_tokens=("$.meta.tokens.output_tokens",),
        output_tokens_fallback=("$.meta.billed_units.output_tokens",),
        req_max_tokens=("$.max_tokens",),
        expects_json=_json_format("$.response_format.type"),
        after_tool_result=_last_has("$.tool_results[0]"),
    ),
    # Cohere Chat v2 (stop-reasons.md 4): message.content[] text parts and
    # message.tool_calls[] in the OpenAI shape (arguments a JSON string).
    COHERE_V2: ApiSpec(
        name=COHERE_V2,
        provider="cohere",
        stop="$.finish_reason",
        response_id="$.id",
        text_parts=Parts(
            path="$.message.content", dtype=pl.List(pl.Struct({"type": S, "text": S})), text=_typed("text", "text")
        ),
        parts=Parts(
            path="$.message.tool_calls",
            dtype=pl.List(pl.Struct({"id": S, "type": S})),
            is_tool=_every,
            name_rel=".function.name",
            args_rel=".function.arguments",
        ),
        output_tokens=("$.usage.tokens.output_tokens",),
        output_tokens_fallback=("$.usage.billed_units.output_tokens",),
        req_max_tokens=("$.max_tokens",),
        expects_json=_json_format("$.response_format.type"),
        after_tool_result=_last_role_is("$.messages", ["tool"]),
        tools=(Tools("$.tools", ".function.name", ".function.parameters"),),
    ),
    # Ollama native /api/chat (stop-reasons.md 4, G10): done_reason; tool calls
    # come under "stop" (G1); arguments are an object.
    OLLAMA_CHAT: ApiSpec(
        name=OLLAMA_CHAT,
        provider="ollama",
        stop="$.done_reason",
        model="$.model",
        created_iso="$.created_at",
        text="$.message.content",
        parts=Parts(
            path="$.message.tool_calls",
            dtype=pl.List(pl.Struct({"id": S})),
            is_tool=_every,
            name_rel=".function.name",
            args_rel=".function.arguments",
        ),
        output_tokens=("$.eval_count",),
        req_max_tokens=("$.options.num_predict",),
        expects_json=_ollama_json,
        after_tool_result=_last_role_is("$.messages", ["tool"]),
        tools=(Tools("$.tools", ".function.name", ".function.parameters"),),
    ),
    # Ollama native /api/generate (stop-reasons.md 4).
    OLLAMA_GENERATE: ApiSpec(
        name=OLLAMA_GENERATE,
        provider="ollama",
        stop="$.done_reason",
        model="$.model",
        created_iso="$.created_at",
        text="$.response",
        output_tokens=("$.eval_count",),
        req_max_tokens=("$.options.num_predict",),
        expects_json=_ollama_json,
    ),
    # Bedrock InvokeModel, Amazon Titan Text: results[0].completionReason
    # (AWS model-parameters-titan-text; not in the references).
    BEDROCK_TITAN: ApiSpec(
        name=BEDROCK_TITAN,
        provider="bedrock",
        stop="$.results[0].completionReason",
        text="$.results[0].outputText",
        output_tokens=("$.results[0].tokenCount",),
        req_max_tokens=("$.textGenerationConfig.maxTokenCount",),
    ),
    # Bedrock InvokeModel, Meta Llama: stop_reason stop / length (AWS model-parameters-meta).
    BEDROCK_META: ApiSpec(
        name=BEDROCK_META,
        provider="bedrock",
        stop="$.stop_reason",
        text="$.generation",
        output_tokens=("$.generation_token_count",),
        req_max_tokens=("$.max_gen_len",),
    ),
    # Bedrock InvokeModel, Mistral text completion: outputs[0].stop_reason (AWS
    # model-parameters-mistral-text-completion); values as Mistral's (stop-reasons.md 4).
    BEDROCK_MISTRAL: ApiSpec(
        name=BEDROCK_MISTRAL,
        provider="bedrock",
        stop="$.outputs[0].stop_reason",
        text="$.outputs[0].text",
        req_max_tokens=("$.max_tokens",),
    ),
    # Bedrock InvokeModel, Cohere Command (generate): generations[0].finish_reason,
    # Cohere's values (stop-reasons.md 4; AWS model-parameters-cohere-command).
    BEDROCK_COHERE: ApiSpec(
        name=BEDROCK_COHERE,
        provider="bedrock",
        stop="$.generations[0].finish_reason",
        response_id="$.id",
        text="$.generations[0].text",
        req_max_tokens=("$.max_tokens",),
    ),
    # Bedrock InvokeModel, AI21 Jurassic-2: completions[0].finishReason.reason
    # endoftext / length / stop (AI21 J2 complete API reference). Token counts are
    # only the length of data.tokens: not read.
    BEDROCK_AI21: ApiSpec(
        name=BEDROCK_AI21,
        provider="bedrock",
        stop="$.completions[0].finishReason.reason",
        response_id="$.id",
        text="$.completions[0].data.text",
        req_max_tokens=("$.maxTokens",),
    ),
}


def _indexed(lf: pl.LazyFrame, src: str, path: str, idx_col: str, rels: dict[str, str]) -> pl.LazyFrame:
    """Explode ``idx_col`` (list of element indices) and read ``rels`` of each element."""
    out = lf.select("_rid", src, idx_col).explode(idx_col).filter(pl.col(idx_col).is_not_null())
    base = pl.concat_str([pl.lit(path + "["), pl.col(idx_col).cast(pl.String), pl.lit("]")])
    return out.with_columns(
        [jp(src, pl.concat_str([base, pl.lit(rel)])).alias(name) for name, rel in rels.items()]
    )


def _tool_calls(lf: pl.LazyFrame, spec: ApiSpec, body: Json) -> pl.LazyFrame | None:
    """``_rid`` -> tool_calls list[struct{name, arguments}], in output order.

    None when the API has no tool calls (no ``parts.is_tool`` and no ``extra_tool``).
    """
    p = spec.parts
    frames = []
    if p is not None and p.is_tool is not None:
        calls = _indexed(lf, "_body", p.path, "_tool_idx", {"name": p.name_rel, "arguments": p.args_rel})
        frames.append(calls.select("_rid", "_tool_idx", pl.struct("name", "arguments").alias("tc")))
    if spec.extra_tool:
        legacy = lf.select(
            "_rid",
            pl.lit(10**6).alias("_tool_idx"),
            pl.struct(body(spec.extra_tool[0]).alias("name"), body(spec.extra_tool[1]).alias("arguments")).alias("tc"),
        ).filter(pl.col("tc").struct.field("name").is_not_null())
        frames.append(legacy.cast({"_tool_idx": pl.Int64}))
    if not frames:
        return None
    calls = pl.concat(frames, how="vertical_relaxed")
    return calls.sort("_rid", "_tool_idx").group_by("_rid", maintain_order=True).agg(
        pl.col("tc").alias("tool_calls")
    )


def _tool_schemas(lf: pl.LazyFrame, spec: ApiSpec, req: Json) -> pl.LazyFrame | None:
    """``_rid`` -> tool_schemas list[struct{name, schema}] from the request's tool definitions."""
    frames = []
    for t in spec.tools:
        arr = req.array(t.path, TOOL_DEFS)
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


#: Columns :func:`extract_api` fills, with their dtypes (canonical ones as in
#: schema.CANONICAL, plus ``response_id``). Readers that merge a body's values
#: into their own (fields.py, openinference.py) take the list from here.
OUTPUT_COLUMNS: dict[str, pl.DataType] = {
    **{
        c: CANONICAL[c]
        for c in (
            "provider", "model", "provider_stop_reason", "stop_detail", "provider_refusal", "output_text",
            "tool_calls", "tool_schemas", "output_tokens", "max_tokens", "expects_json", "after_tool_result", "timestamp",
        )
    },
    "response_id": pl.String(),
}  # fmt: skip


#: Read a body's fields through one strict pyarrow parse per batch
#: (:func:`jsonl.strict_decode`) where the row fits; False reads every field with
#: :func:`jp`, the lenient reference the other rows use anyway (tests compare the two).
FAST_BODY = True


def fast_fields(spec: ApiSpec) -> tuple[dict[str, pl.DataType], dict[str, pl.DataType]]:
    """(body, request) JSONPath -> leaf dtype of the fields of ``spec`` read through
    the strict decode. Body: the scalar paths (String; Float64 for the counts and Unix
    times, which :func:`to_int` casts as it casts jp's text) and the ``parts`` /
    ``text_parts`` arrays (their ``dtype``). Request: the caps (Float64), ``$.model``,
    the tool-definition arrays (a list of ``{type}``, for their count) and the typed
    paths the ``expects_json`` / ``after_tool_result`` predicates read (found by calling
    them on a recording :class:`Json`). Paths :func:`simple_path` does not translate are
    left to :func:`jp`; a side is empty when its paths disagree on a node (none do today)."""
    body: dict[str, pl.DataType] = {}
    req: dict[str, pl.DataType] = {}
    for path in (spec.stop, spec.model, spec.stop_detail, spec.text, spec.refusal, spec.response_id, spec.created_iso, *(spec.extra_tool or ())):
        if path:
            body[path] = S
    for path in (*spec.output_tokens, *spec.output_tokens_fallback, *spec.body_max_tokens, spec.created_unix):
        if path:
            body[path] = pl.Float64
    for q in (spec.parts, spec.text_parts):
        if q is not None:
            body[q.path] = q.dtype
    req.update({path: pl.Float64 for path in spec.req_max_tokens})
    req["$.model"] = S
    req.update({t.path: TOOL_DEFS for t in spec.tools})
    if spec.expects_json:
        spec.expects_json(Json("_req", record=req), Json("_body", record=body))
    if spec.after_tool_result:
        spec.after_tool_result(Json("_req", record=req))

    def consistent(fields: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
        fields = {path: dtype for path, dtype in fields.items() if simple_path(path) is not None}
        try:
            path_dtype({simple_path(path): dtype for path, dtype in fields.items()})
        except ValueError:
            return {}
        return fields

    return consistent(body), consistent(req)


#: What a request's tool-definition array is decoded to: only how many definitions it has.
TOOL_DEFS = pl.List(pl.Struct({"type": S}))


def extract_api(lf: pl.LazyFrame, spec: ApiSpec) -> pl.LazyFrame:
    """Canonical columns for rows of one API.

    Input: ``_rid`` (u32/i64), ``_body`` (str JSON), ``_req`` (str JSON, nullable).
    Output: ``_rid``, ``_shape_error`` (str, null when the body's arrays decoded),
    and the canonical columns provider, model, provider_stop_reason, stop_detail,
    provider_refusal, output_text, tool_calls, tool_schemas, output_tokens,
    max_tokens, expects_json, after_tool_result, timestamp, plus ``response_id``.
    Dtypes as in schema.CANONICAL; ``tool_calls`` is ``[]`` (never null) when the
    body has none, ``tool_schemas`` null when the request defines no tools or the
    API has no tool definitions; a path that is absent gives null (output_text
    gives ``""``). Errors: none (a body whose ``parts``/``text_parts`` array does not
    decode gets a ``_shape_error`` and is reported by the caller).

    The fields (:func:`fast_fields`) are read from one strict pyarrow parse of the
    body and one of the request, for the rows whose body and request fit their
    documented JSON types exactly; the other rows (a number where a string is
    documented, a pretty-printed body, a Responses request whose ``input`` is a
    string, ...) are read with JSONPath as before, which gives the same values for
    the rows that fit (``FAST_BODY = False`` reads them all that way). Rows keep
    their order.
    """
    body_fields, req_fields = fast_fields(spec) if FAST_BODY else ({}, {})
    if not body_fields:
        return _extract_api(lf, spec, {}, {})
    decodes = [strict_decode(pl.col("_body"), path_dtype({simple_path(k): d for k, d in body_fields.items()})).alias("_fast")]
    fits = pl.col("_fast").is_not_null()
    if req_fields:
        decodes.append(strict_decode(pl.col("_req"), path_dtype({simple_path(k): d for k, d in req_fields.items()})).alias("_fast_req"))
        fits = fits & (pl.col("_req").is_null() | pl.col("_fast_req").is_not_null())
    # Decoded once, here: both halves and the tool-call join read the result, and a UDF
    # in a shared lazy plan runs once per reader (measured: 12 runs for 3 readers).
    lf = lf.with_row_index("_fast_at").with_columns(decodes).with_columns(fits.alias("_fits")).collect().lazy()
    fast = _extract_api(lf.filter(pl.col("_fits")), spec, body_fields, req_fields)
    slow = _extract_api(lf.filter(~pl.col("_fits")), spec, {}, {})
    return pl.concat([fast, slow], how="diagonal_relaxed").sort("_fast_at").drop("_fast_at", "_fast", "_fast_req", "_fits", strict=False)


def _extract_api(lf: pl.LazyFrame, spec: ApiSpec, fast: dict[str, pl.DataType], fast_req: dict[str, pl.DataType]) -> pl.LazyFrame:
    """:func:`extract_api` for rows whose ``fast`` body paths and ``fast_req`` request
    paths (:func:`fast_fields`, or none) are read from the decoded ``_fast`` /
    ``_fast_req`` structs, the others with :func:`jp`."""
    p = spec.parts
    body, req = pl.col("_body"), pl.col("_req")
    at, req_get = Json("_body", "_fast", fast), Json("_req", "_fast_req", fast_req)

    arrays = [(col, q) for col, q in (("_parts", p), ("_text_parts", spec.text_parts)) if q is not None]
    lf = lf.with_columns([at.array(q.path, q.dtype).alias(col) for col, q in arrays])
    shape_errors = [
        pl.when(jp(body, q.path).is_not_null() & pl.col(col).is_null()).then(
            pl.lit(f"{spec.name} body: {q.path} is not an array of the documented parts")
        )
        for col, q in arrays
        if q.path not in fast  # a decoded array fits its dtype
    ]
    lf = lf.with_columns(pl.coalesce(shape_errors + [pl.lit(None, dtype=S)]).alias("_shape_error"))
    if p is not None and p.is_tool is not None:
        lf = lf.with_columns(pl.col("_parts").list.eval(pl.int_range(pl.len()).filter(p.is_tool(E))).alias("_tool_idx"))
    if spec.name == OPENAI_RESPONSES:
        text = _responses_text(pl.col("_parts"), "output_text", "text")
        refusal = _responses_text(pl.col("_parts"), "refusal", "refusal")
        refusal = pl.when(refusal != "").then(refusal)
    else:
        pieces = [at(spec.text)] if spec.text else []
        pieces += [pl.col(col).list.eval(q.text(E)).list.join("") for col, q in arrays if q.text]
        text = pl.concat_str(pieces, ignore_nulls=True) if pieces else pl.lit("")
        refusal = at(spec.refusal) if spec.refusal else pl.lit(None, dtype=S)

    tokens = [to_int(at(t)) for t in spec.output_tokens]
    out_tokens = (
        pl.when(pl.any_horizontal([t.is_not_null() for t in tokens])).then(pl.sum_horizontal(tokens))
        if tokens
        else pl.lit(None, dtype=pl.Int64)
    )
    if spec.output_tokens_fallback:
        out_tokens = pl.coalesce([out_tokens] + [to_int(at(t)) for t in spec.output_tokens_fallback])
    max_tokens = pl.coalesce([to_int(req_get(t, pl.Float64)) for t in spec.req_max_tokens] + [to_int(at(t)) for t in spec.body_max_tokens] + [pl.lit(None, dtype=pl.Int64)])
    # A cap <= 0 is no cap (Ollama num_predict -1 = unlimited, -2 = fill the context).
    max_tokens = pl.when(max_tokens > 0).then(max_tokens)
    has_req = req.is_not_null()
    expects_json = (
        pl.when(has_req | pl.lit(spec.name == OPENAI_RESPONSES)).then(spec.expects_json(req_get, at).fill_null(False))
        if spec.expects_json
        else pl.lit(None, dtype=pl.Boolean)
    )
    after_tool = (
        pl.when(has_req).then(spec.after_tool_result(req_get).fill_null(False))
        if spec.after_tool_result
        else pl.lit(None, dtype=pl.Boolean)
    )
    if spec.created_unix:
        # Some OpenAI-compatible servers send milliseconds; a seconds value above
        # 1e11 would be past the year 5000 (same rule as responses.parse_timestamp).
        secs = to_int(at(spec.created_unix))
        ts = pl.from_epoch(pl.when(secs > 10**11).then(secs // 1000).otherwise(secs), time_unit="s").dt.replace_time_zone("UTC")
    elif spec.created_iso:
        ts = at(spec.created_iso).str.to_datetime(time_zone="UTC", strict=False)
    else:
        ts = pl.lit(None, dtype=pl.Datetime("us", "UTC"))

    out = lf.with_columns(
        pl.lit(spec.provider).alias("provider"),
        pl.coalesce(([at(spec.model)] if spec.model else []) + [req_get("$.model")]).alias("model"),
        at(spec.stop).alias("provider_stop_reason"),
        (at(spec.stop_detail) if spec.stop_detail else pl.lit(None, dtype=S)).alias("stop_detail"),
        refusal.alias("provider_refusal"),
        text.fill_null("").alias("output_text"),
        out_tokens.alias("output_tokens"),
        max_tokens.alias("max_tokens"),
        expects_json.alias("expects_json"),
        after_tool.alias("after_tool_result"),
        ts.cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        (at(spec.response_id) if spec.response_id else pl.lit(None, dtype=S)).alias("response_id"),
    )
    calls = _tool_calls(out, spec, at)
    if calls is not None:
        out = out.join(calls, on="_rid", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.List(TOOL_CALL)).alias("tool_calls"))
    out = out.with_columns(pl.col("tool_calls").fill_null(pl.lit([], dtype=pl.List(TOOL_CALL))))
    schemas = _tool_schemas(out, spec, req_get)
    if schemas is not None:
        out = out.join(schemas, on="_rid", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.List(TOOL_SCHEMA)).alias("tool_schemas"))
    return out.drop([col for col, _ in arrays] + (["_tool_idx"] if p is not None and p.is_tool is not None else []))


def extract(lf: pl.LazyFrame, keys: str | None = None) -> pl.LazyFrame:
    """Canonical columns for a frame of bodies of any API in :data:`SPECS`.

    Input: ``_rid``, ``_body``, ``_req`` and any pass-through columns. Adds ``_api``
    (str, see :func:`detect_api`), ``_shape_error`` (str, null unless a body's
    arrays do not decode, or an HTTP error body's description) and the canonical
    columns; rows of API ``error``/``unknown`` keep null canonical values (the
    caller reports them). ``keys``: optional column of the body's top-level keys
    (see :func:`detect_api`). Row order is not preserved: sort by ``_rid`` after.
    Errors: none (a body of an odd shape becomes a row with ``_shape_error``).
    """
    api = pl.col("_api")
    # A detected API without a spec would be neither read nor reported: call it unknown.
    known = pl.when(api.is_in(list(SPECS) + [ERROR])).then(api).otherwise(pl.lit(UNKNOWN))
    if keys is not None:
        if FAST_BODY:
            # The markers from one strict pyarrow parse; the bodies it leaves null (an
            # ``error`` that is a string, a number for ``type``...) decoded leniently as
            # before. Two steps: the strict column is read twice, and a UDF runs per use.
            strict = strict_decode(pl.col("_body"), SNIFF_DTYPE)
            lf = lf.with_columns(strict.alias("_api_sniff")).with_columns(
                pl.coalesce("_api_sniff", sniff_markers(pl.when(pl.col("_api_sniff").is_null()).then(pl.col("_body")))).alias("_api_sniff")
            )
        else:
            lf = lf.with_columns(sniff_markers().alias("_api_sniff"))
        detected = detect_api(keys=keys, sniffed="_api_sniff")
    else:
        detected = detect_api()
    df = lf.with_columns(detected.alias("_api")).with_columns(known.alias("_api")).drop("_api_sniff", strict=False).collect()
    present = set(df.get_column("_api").unique().to_list())
    lf = df.lazy()
    # Only the APIs present get a plan (each has its own decodes and joins); every plan
    # gives the same columns, so one (empty) plan keeps them when no API is present.
    names = [name for name in SPECS if name in present] or [OPENAI_CHAT]
    frames = [extract_api(lf.filter(api == name), SPECS[name]) for name in names]
    rest = lf.filter(~pl.col("_api").is_in(list(SPECS))).with_columns(
        pl.when(pl.col("_api") == ERROR).then(error_reason()).alias("_shape_error")
    )
    return pl.concat(frames + [rest], how="diagonal_relaxed")
