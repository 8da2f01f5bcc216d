"""Reader for streamed responses: SSE captures, JSON lines of chunks, recorded event lists.

Format ``streams`` (trace-formats.md §10; stop-reasons.md §1.2, §1.3, §2.1, §2.2, §3, §4).
Three file layouts, told apart by content:

1. JSON lines of recorded streams, one stream a line: ``{"events": [...], ...}``. Each
   event is ``{"event", "data"}`` (an SSE frame), ``{"headers", "payload"}`` (an AWS
   event-stream message; a ``chunk`` payload is an InvokeModel chunk already decoded
   from its base64 ``bytes``) or a bare chunk object (NDJSON / JSON-array streams).
   Optional wrapper keys: ``request`` (the request body: max_tokens, expects_json,
   after_tool_result, tool schemas, as for ``responses``), ``route``, ``timestamp``,
   ``trace_id``, ``span_id`` (fill the canonical columns); every other key passes
   through as a string column.
2. Raw SSE text (``event:`` / ``data:`` blocks separated by blank lines), one or many
   streams a file.
3. JSON lines of stream chunks (one chunk or event object a line), one or many streams.

In layouts 2 and 3 a new stream starts at a start event (Anthropic ``message_start``,
Responses ``response.created``, Cohere ``message-start`` / ``stream-start``, Bedrock
``messageStart``), at a new OpenAI chunk ``id`` or Gemini ``responseId``, after
``[DONE]``, and after a final chunk that has no id (Ollama ``done: true``, Bedrock
InvokeModel ``completionReason`` / ``stop_reason`` / invocation metrics); ``source_line``
is the line where the stream starts.

Each stream's API comes from its events' own shapes (never from a file name or an
``api`` field): Anthropic Messages (direct or InvokeModel chunks), OpenAI Chat and text
completions, OpenAI Responses, Gemini, Bedrock ConverseStream (and Nova InvokeModel
chunks), Cohere Chat v1 / v2, Ollama /api/chat and /api/generate, and InvokeModel
chunks of Titan Text, Meta Llama and Mistral. The stream is reassembled into that
API's NON-streamed body as JSON text, and :func:`bodies.extract_api` with the body spec
of that API turns it (with the request) into the canonical columns, so streamed and
non-streamed responses read the same way.

Per-row Python only in :func:`_events_batch` (orjson: parse a recorded line, re-serialize
each event's data as text); everything else is Polars over one long frame of events
(stream id, order, event name, data JSON text): fields come from ``str.json_path_match``
or a fixed-dtype :func:`robust_decode`, and each stream is aggregated with ``group_by``
(text = ordered concatenation of deltas, stop value = last one sent, tool calls = per
block index: name from the start event, arguments = concatenated argument fragments).

Gemini, Llama and Mistral chunks have the shape of whole bodies, so a file of them
one a line sniffs as ``responses``; ``--input-format streams`` reads it as streams.

A stream without its terminal event keeps whatever stop value it did send (usually
none) and gets ``stop_detail = "stream_incomplete"``; a stream with an error event
gets ``"stream_error"`` (stop-reasons.md §1.2, §5 ``aborted`` / ``error``). Pass-through
columns: ``stream_status`` (complete / incomplete / error), ``stream_error`` (the error
event's type and message), ``response_id``, ``provider_api``.
"""

from __future__ import annotations

import orjson
import polars as pl

from . import bodies
from .jsonl import RAW, all_keys, jp, key_path, line_problems, read_checked_lines, robust_decode, to_int
from .problems import MALFORMED_JSON, PROBLEM_SCHEMA, UNKNOWN_SHAPE
from .responses import fill_wrapper, wrapper_column
from .source import JSON, JSONL, TEXT, Format, Source

S = pl.String
D = pl.col("_data")
T = pl.col("_t")
DONE = "[DONE]"

# Event types, per API (stop-reasons.md §1.2, §2.2, §4; Cohere API reference for v1/v2).
ANTHROPIC_EVENTS = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
)
RESPONSES_TERMINAL = ("response.completed", "response.incomplete", "response.failed", "response.cancelled")
COHERE_V1_EVENTS = (
    "stream-start",
    "text-generation",
    "search-queries-generation",
    "search-results",
    "citation-generation",
    "tool-calls-generation",
    "tool-calls-chunk",
    "stream-end",
)
COHERE_V2_EVENTS = (
    "message-start",
    "content-start",
    "content-delta",
    "content-end",
    "tool-plan-delta",
    "tool-call-start",
    "tool-call-delta",
    "tool-call-end",
    "citation-start",
    "citation-end",
    "message-end",
    "debug",
)
#: Bedrock ConverseStream events, as boto3 yields them (``{"<event>": {...}}``) [br-stream].
CONVERSE_EVENTS = ("messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata")
#: Events that open a stream (layouts 2 and 3).
START_EVENTS = ("message_start", "response.created", "message-start", "stream-start")

#: Stream API names: the body API (bodies.SPECS key) each stream is reassembled into.
ANTHROPIC = bodies.ANTHROPIC_MESSAGES
CHAT = bodies.OPENAI_CHAT
COMPLETIONS = bodies.OPENAI_COMPLETIONS
RESPONSES = bodies.OPENAI_RESPONSES
GEMINI = bodies.GEMINI
CONVERSE = bodies.BEDROCK_CONVERSE
COHERE_V1 = bodies.COHERE_V1
COHERE_V2 = bodies.COHERE_V2
OLLAMA_CHAT = bodies.OLLAMA_CHAT
OLLAMA_GENERATE = bodies.OLLAMA_GENERATE
TITAN = bodies.BEDROCK_TITAN
META = bodies.BEDROCK_META
MISTRAL = bodies.BEDROCK_MISTRAL

# --------------------------------------------------------------- JSON text builders


def _js(e: pl.Expr) -> pl.Expr:
    """A String expression as a JSON string literal (``null`` when null)."""
    return pl.struct(e.cast(S).alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")


def _lit(value: str) -> pl.Expr:
    """A constant as JSON text."""
    return pl.lit(orjson.dumps(value).decode())


def _num(e: pl.Expr) -> pl.Expr:
    """JSON number text -> an integer as JSON text (null when not a number)."""
    return to_int(e).cast(S)


def _raw(e: pl.Expr) -> pl.Expr:
    """JSON text of an object or array (as ``jp`` returns it), else null: safe to splice."""
    return pl.when(e.str.contains(r"^[\[{]") & jp(e, "$").is_not_null()).then(e)


def _obj(pairs: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object from (key, JSON-text expression) pairs; a null value is written ``null``."""
    parts: list[pl.Expr] = []
    for i, (key, value) in enumerate(pairs):
        parts.append(pl.lit(("{" if i == 0 else ",") + orjson.dumps(key).decode() + ":"))
        parts.append(value.fill_null("null"))
    parts.append(pl.lit("}"))
    return pl.concat_str(parts)


def _arr(items: pl.Expr) -> pl.Expr:
    """A JSON array from a list of JSON texts (null list -> ``[]``)."""
    return pl.concat_str([pl.lit("["), items.list.join(",").fill_null(""), pl.lit("]")])


def _inner(e: pl.Expr) -> pl.Expr:
    """The members of a JSON array text (``[a,b]`` -> ``a,b``); null when not an array or empty."""
    inner = _raw(e).str.strip_prefix("[").str.strip_suffix("]")
    return pl.when(e.str.starts_with("[") & (inner != "")).then(inner)


def _nonempty(e: pl.Expr) -> pl.Expr:
    """Null for an empty string."""
    return pl.when(e != "").then(e)


def _unix_seconds(e: pl.Expr) -> pl.Expr:
    """A creation time as unix seconds (JSON text): milliseconds (> 1e11, as some
    recorded OpenAI-compatible servers send) are divided down; 0 or non-numbers -> null."""
    n = to_int(e)
    return pl.when(n > 100_000_000_000).then(n // 1000).when(n > 0).then(n).cast(S)


def _first(e: pl.Expr) -> pl.Expr:
    return e.drop_nulls().first()


def _last(e: pl.Expr) -> pl.Expr:
    return e.drop_nulls().last()


def _concat(e: pl.Expr) -> pl.Expr:
    """Ordered concatenation of a group's pieces; null when the group has none."""
    return pl.when(e.is_not_null().any()).then(e.str.join(""))


# ------------------------------------------------------------------ event frames


#: One recorded event as :func:`_events_batch` gives it: an SSE frame's ``event`` and
#: ``data`` (data as text), or any other event re-serialized whole as ``raw``.
EVENT_DTYPE = pl.List(pl.Struct({"event": S, "data": S, "raw": S}))
_FRAME_KEYS = frozenset({"event", "data", "id", "retry"})


def _events_batch(s: pl.Series) -> pl.Series:
    """Each line's ``events`` array, parsed and re-serialized with orjson (the only
    per-event Python): an SSE frame ``{"event", "data"}`` gives its event name and its
    data as text (a string as sent, an object as compact JSON); any other event gives
    ``raw``, its compact JSON. Null when the line is not an object with an ``events`` array."""
    out: list[list[dict] | None] = []
    for line in s.to_list():
        try:
            value = orjson.loads(line) if line is not None else None
        except orjson.JSONDecodeError:
            value = None
        events = value.get("events") if isinstance(value, dict) else None
        if not isinstance(events, list):
            out.append(None)
            continue
        rows = []
        for e in events:
            if isinstance(e, dict) and "data" in e and _FRAME_KEYS.issuperset(e):
                data, name = e["data"], e.get("event")
                rows.append(
                    {
                        "event": name if isinstance(name, str) else None,
                        "data": data if isinstance(data, str) else orjson.dumps(data).decode(),
                    }
                )
            else:
                rows.append({"raw": orjson.dumps(e).decode()})
        out.append(rows)
    return pl.Series(s.name, out, dtype=EVENT_DTYPE)


def normalize_events(ev: str = "_ev") -> list[pl.Expr]:
    """One event or chunk (JSON text in column ``ev``) -> ``_event`` (str, SSE event
    name or null) and ``_data`` (str, the chunk's JSON text, or a text such as ``[DONE]``).

    Shapes: ``{"event", "data"}`` (SSE frame: data kept as sent; a JSON string value is
    unquoted); ``{"headers", "payload"}`` (AWS event stream: a ``chunk`` message yields
    its ``payload.chunk``, or the text of its base64 ``bytes``; any other event type
    ``E`` yields ``{"E": payload}``, the shape boto3 gives ConverseStream events; an
    exception message yields ``{"<exception type>": payload}`` with event ``error``);
    boto3's undecoded ``{"chunk": {"bytes": ...}}`` yields the decoded chunk; anything
    else is itself a chunk. Only texts containing the shape's key names are parsed.
    """
    e = pl.col(ev)

    def having(*keys: str) -> pl.Expr:
        return pl.when(pl.all_horizontal([e.str.contains(f'"{k}"', literal=True) for k in keys])).then(e)

    aws = having("headers", "payload")
    etype = jp(aws, '$.headers[":event-type"]')
    mtype = jp(aws, '$.headers[":message-type"]')
    xtype = jp(aws, '$.headers[":exception-type"]')
    payload = jp(aws, "$.payload")
    is_aws = payload.is_not_null() & jp(aws, "$.headers").is_not_null()
    sse = having("data")
    sse_data = jp(sse, "$.data")
    is_sse = ~is_aws & sse_data.is_not_null()
    wrapped = pl.concat_str([pl.lit("{"), _js(pl.coalesce(xtype, etype, pl.lit("event"))), pl.lit(":"), payload, pl.lit("}")])
    chunk = pl.coalesce(_b64(jp(payload, "$.chunk.bytes")), _b64(jp(payload, "$.bytes")), jp(payload, "$.chunk"))
    aws_data = pl.when(etype == "chunk").then(chunk).otherwise(wrapped)
    # boto3's own event dict, undecoded: {"chunk": {"bytes": "<base64>"}}.
    boto = _b64(jp(having("chunk", "bytes"), "$.chunk.bytes"))
    return [
        pl.when(is_aws & (mtype == "exception")).then(pl.lit("error")).when(is_sse).then(jp(sse, "$.event")).alias("_event"),
        pl.when(is_aws).then(aws_data).when(is_sse).then(sse_data).when(boto.is_not_null()).then(boto).otherwise(e).alias("_data"),
    ]


def _b64(e: pl.Expr) -> pl.Expr:
    """Base64 text -> the UTF-8 text it encodes (null when it is not base64 of UTF-8)."""
    return e.str.decode("base64", strict=False).cast(S, strict=False)


def _has(path: str, src: pl.Expr = D) -> pl.Expr:
    return jp(src, path).is_not_null()


_EXCEPTION = r'^\{\s*"([A-Za-z]*Exception)"\s*:'
_SNIFF = pl.Struct({"type": S, "event_type": S, "object": S})


def classify_events(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Per event (``_event``, ``_data``): its type, API, and whether it ends or fails the stream.

    Adds ``_t`` (str: ``type`` / Cohere v1 ``event_type`` / SSE event name), ``_eapi``
    (str: the stream API the event's own shape belongs to, null for ``[DONE]``, ``ping``-like
    or unknown events), ``_term`` (bool: a terminal event of its API: ``[DONE]``, Anthropic
    ``message_stop``, Responses ``response.completed|incomplete|failed``, a chunk with a
    ``finish_reason`` / ``finishReason`` / ``promptFeedback.blockReason``, Bedrock
    ``messageStop``, Cohere ``stream-end`` / ``message-end``, Ollama ``done: true``,
    InvokeModel ``completionReason`` / ``stop_reason`` / invocation metrics / guardrail
    intervention), ``_err`` (bool: an error event: SSE ``event: error``, ``type: error``,
    a top-level ``error`` without output, a Bedrock ``*Exception``), ``_errmsg`` (str:
    ``<type or code>: <message>`` of an error event) and ``_guard`` (bool: an InvokeModel
    chunk with ``amazon-bedrock-guardrailAction: INTERVENED``). Sources: trace-formats.md
    §10, stop-reasons.md §1.2, §1.3, §2.1, §2.2, §3, §4.

    Cost: one decode of the scalar markers per event; the other shape tests parse only
    the events those markers leave unclassified (JSONPath on a column that is null elsewhere).
    """
    api = pl.col("_eapi")
    # Stage 1: the scalar markers (type / event_type / object), one decode.
    sniff = robust_decode(pl.when(D.str.starts_with("{")).then(D), _SNIFF)
    obj = pl.col("_obj")
    by_marker = (
        pl.when(obj == "chat.completion.chunk").then(pl.lit(CHAT))
        .when(obj.is_in(["text_completion", "text.completion"])).then(pl.lit(COMPLETIONS))
        .when(T.is_in(ANTHROPIC_EVENTS) & (T != "ping")).then(pl.lit(ANTHROPIC))  # a ping alone says nothing
        .when(T.str.starts_with("response.")).then(pl.lit(RESPONSES))
        .when(T.is_in(COHERE_V2_EVENTS)).then(pl.lit(COHERE_V2))
        .when(T.is_in(COHERE_V1_EVENTS)).then(pl.lit(COHERE_V1))
    )
    # Stage 2: shape tests, only on the events without a marker.
    rest = pl.when(api.is_null() & D.str.starts_with("{")).then(D)

    def has(path: str) -> pl.Expr:
        return _has(path, rest)

    exception = D.str.extract(_EXCEPTION, 1)
    converse = pl.any_horizontal([has(f"$.{k}") for k in CONVERSE_EVENTS[:-1]] + [has("$.metadata.usage"), has("$.metadata.metrics")])
    by_shape = (
        pl.when(obj.is_null() & has("$.choices[0].delta")).then(pl.lit(CHAT))
        .when(obj.is_null() & has("$.choices[0].text")).then(pl.lit(COMPLETIONS))
        .when(has("$.candidates") | has("$.promptFeedback") | (has("$.usageMetadata") & has("$.modelVersion"))).then(pl.lit(GEMINI))
        .when(converse).then(pl.lit(CONVERSE))
        .when(has("$.done") & has("$.message")).then(pl.lit(OLLAMA_CHAT))
        .when(has("$.done") & has("$.response")).then(pl.lit(OLLAMA_GENERATE))
        .when(has("$.outputText") | has("$.completionReason")).then(pl.lit(TITAN))
        .when(has("$.generation") & (has("$.generation_token_count") | has("$.prompt_token_count") | has("$.stop_reason"))).then(pl.lit(META))
        .when(has("$.outputs[0].text") | has("$.outputs[0].stop_reason")).then(pl.lit(MISTRAL))
        # Error events, by the shape each API documents for them.
        .when((T == "error") & has("$.error.type")).then(pl.lit(ANTHROPIC))
        .when((T == "error") & (has("$.code") | has("$.message"))).then(pl.lit(RESPONSES))
        .when(has("$.error.status")).then(pl.lit(GEMINI))
        .when(has("$.error.message") | has("$.error.type")).then(pl.lit(CHAT))
        .when(exception.is_not_null()).then(pl.lit(CONVERSE))
    )

    def on(apis: list[str], path: str) -> pl.Expr:
        """JSONPath on the events of these APIs only."""
        return jp(pl.when(api.is_in(apis)).then(D), path)

    invoke = [TITAN, META, MISTRAL]
    guard = (on(invoke, '$["amazon-bedrock-guardrailAction"]') == "INTERVENED").fill_null(False)
    term = (
        (D == DONE)
        | T.is_in(["message_stop", "stream-end", "message-end", *RESPONSES_TERMINAL])
        | (api.is_in([CHAT, COMPLETIONS]) & D.str.contains(r'"finish_reason"\s*:\s*"'))
        | ((api == GEMINI) & (D.str.contains(r'"finishReason"\s*:\s*["0-9]') | on([GEMINI], "$.promptFeedback.blockReason").is_not_null()))
        | on([CONVERSE], "$.messageStop").is_not_null()
        | (on([OLLAMA_CHAT, OLLAMA_GENERATE], "$.done") == "true")
        | on([*invoke, CONVERSE], '$["amazon-bedrock-invocationMetrics"]').is_not_null()
        | on([TITAN], "$.completionReason").is_not_null()
        | on([META], "$.stop_reason").is_not_null()
        | on([MISTRAL], "$.outputs[0].stop_reason").is_not_null()
        | pl.col("_guard")
    )
    unmarked = pl.when(pl.col("_unmarked")).then(D)
    error_text = jp(unmarked, "$.error")
    error_is_text = error_text.is_not_null() & ~error_text.str.contains(r"^[\[{]")
    err = (
        (pl.col("_event") == "error")
        | T.is_in(["error", "stream-error"])
        | exception.is_not_null()
        | (error_text.is_not_null() & ~_has("$.choices", unmarked) & ~_has("$.candidates", unmarked))
    )
    failed = pl.when(pl.col("_err")).then(D)
    kind = pl.coalesce(
        jp(failed, "$.error.type"), jp(failed, "$.error.status"), jp(failed, "$.error.code"), jp(failed, "$.code"), exception, pl.lit("error")
    )
    message = pl.coalesce(
        jp(failed, "$.error.message"),
        pl.when(error_is_text).then(error_text),
        jp(failed, "$.message"),
        jp(failed, pl.concat_str([pl.lit("$."), exception, pl.lit(".message")])),
    )
    return (
        lf.with_columns(sniff.alias("_sniff"))
        .with_columns(
            pl.coalesce(pl.col("_sniff").struct.field("type"), pl.col("_sniff").struct.field("event_type"), pl.col("_event")).alias("_t"),
            pl.col("_sniff").struct.field("object").alias("_obj"),
        )
        .with_columns(by_marker.alias("_eapi"))
        .with_columns(api.is_null().alias("_unmarked"))
        .with_columns(pl.coalesce(api, by_shape).alias("_eapi"))
        .with_columns(guard.alias("_guard"))
        .with_columns(term.fill_null(False).alias("_term"), err.fill_null(False).alias("_err"))
        .with_columns(pl.when("_err").then(pl.concat_str([kind, message.str.slice(0, 200)], separator=": ", ignore_nulls=True)).alias("_errmsg"))
        .drop("_sniff", "_obj", "_unmarked")
    )


def split_streams(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Number the streams of a file of events in file order (layouts 2 and 3).

    Input: classified events (see :func:`classify_events`) in file order with ``_line``
    (i64, the line the event starts on). Output: the same rows plus ``_sid`` (i64, the
    line where the event's stream starts). A stream starts at the first event, at a start
    event (``message_start``, ``response.created``, ``message-start``, ``stream-start``,
    ``messageStart``), at an OpenAI chunk ``id`` / Gemini ``responseId`` other than the
    previous one, after ``[DONE]``, and after a final chunk of an API whose chunks carry
    no id (Ollama, InvokeModel Titan / Llama / Mistral, Gemini without ``responseId``).
    """
    api = pl.col("_eapi")
    cid = _nonempty(pl.coalesce(jp(pl.when(api.is_in([CHAT, COMPLETIONS])).then(D), "$.id"), jp(pl.when(api == GEMINI).then(D), "$.responseId")))
    prev = cid.forward_fill().shift(1)
    is_done = D == DONE
    end_chunk = pl.col("_term") & (api.is_in([OLLAMA_CHAT, OLLAMA_GENERATE, TITAN, META, MISTRAL]) | ((api == GEMINI) & cid.is_null()))
    start = (
        (pl.int_range(pl.len()) == 0)
        | T.is_in(START_EVENTS)
        | _has("$.messageStart")
        | (cid.is_not_null() & prev.is_not_null() & (cid != prev))
        | ((is_done.shift(1) | end_chunk.shift(1)).fill_null(False) & ~is_done)
    )
    return lf.with_columns(pl.when(start).then(pl.col("_line")).forward_fill().alias("_sid"))


def stream_facts(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Per stream (``_sid``): ``_api`` (str: the API of its first non-error event of a
    known shape, else of its first error event; null when none), ``_complete`` (bool:
    it has a terminal event), ``_error`` (bool), ``_errmsg`` (str), ``_guard`` (bool)."""
    return ev.group_by("_sid").agg(
        pl.coalesce(_first(pl.col("_eapi").filter(~pl.col("_err"))), _first(pl.col("_eapi"))).alias("_api"),
        pl.col("_term").any().alias("_complete"),
        pl.col("_err").any().alias("_error"),
        _first(pl.col("_errmsg")).alias("_errmsg"),
        pl.col("_guard").any().alias("_guard"),
    )


# ------------------------------------------------------------ per-API reassembly
# Each builder: events of the streams of its API(s) (``_sid``, ``_ord``, ``_data``, ``_t``,
# sorted by ``_sid``, ``_ord``) -> one row per stream: ``_sid``, ``_api``, ``_body`` (the
# non-streamed body of that API as JSON text, read by bodies.extract_api).


def _anthropic(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Anthropic Messages events (stop-reasons.md §1.2; also InvokeModel chunks, §1.3).

    Blocks by ``index``: type / id / name / input from ``content_block_start``; text =
    concatenated ``text_delta.text``; tool input = concatenated ``input_json_delta.partial_json``
    (the start block's ``input`` when none arrived, as the SDK does). Thinking blocks keep
    only their type (no text). ``stop_reason`` / ``stop_sequence`` / ``stop_details`` and the
    cumulative ``usage.output_tokens``: last ``message_delta`` that carries them.
    """
    dtype = jp(D, "$.delta.type")
    blocks = (
        ev.filter(T.is_in(["content_block_start", "content_block_delta"]))
        .with_columns(
            to_int(jp(D, "$.index")).alias("_idx"),
            jp(D, "$.content_block.type").alias("_btype"),
            jp(D, "$.content_block.id").alias("_bid"),
            jp(D, "$.content_block.name").alias("_bname"),
            jp(D, "$.content_block.input").alias("_binput"),
            dtype.alias("_dtype"),
            pl.when(dtype == "text_delta").then(jp(D, "$.delta.text")).alias("_text"),
            pl.when(dtype == "input_json_delta").then(jp(D, "$.delta.partial_json")).alias("_pj"),
        )
        .group_by("_sid", "_idx", maintain_order=True)
        .agg(
            *[_first(pl.col(c)).alias(c) for c in ("_btype", "_bid", "_bname", "_binput", "_dtype")],
            _concat(pl.col("_text")).alias("_text"),
            _concat(pl.col("_pj")).alias("_pj"),
        )
    )
    btype = pl.coalesce(
        pl.col("_btype"),
        pl.when(pl.col("_dtype") == "text_delta").then(pl.lit("text")).when(pl.col("_dtype") == "input_json_delta").then(pl.lit("tool_use")),
        pl.col("_dtype"),
        pl.lit("text"),
    )
    tool_input = pl.when(pl.col("_pj").fill_null("") != "").then(pl.col("_pj")).otherwise(pl.coalesce(pl.col("_binput"), pl.lit("{}")))
    block = (
        pl.when(btype == "text")
        .then(_obj([("type", _lit("text")), ("text", _js(pl.col("_text").fill_null("")))]))
        .when(btype == "tool_use")
        .then(_obj([("type", _lit("tool_use")), ("id", _js(pl.col("_bid"))), ("name", _js(pl.col("_bname"))), ("input", _js(tool_input))]))
        .otherwise(_obj([("type", _js(btype))]))
    )
    content = blocks.sort("_sid", "_idx").group_by("_sid").agg(block.alias("_blocks"))
    is_delta = T == "message_delta"
    msg = (
        ev.with_columns(
            jp(D, "$.message.id").alias("_id"),
            jp(D, "$.message.model").alias("_model"),
            pl.when(is_delta).then(jp(D, "$.delta.stop_reason")).alias("_stop"),
            pl.when(is_delta).then(jp(D, "$.delta.stop_sequence")).alias("_seq"),
            pl.when(is_delta).then(_raw(jp(D, "$.delta.stop_details"))).alias("_details"),
            pl.when(is_delta).then(jp(D, "$.usage.output_tokens")).alias("_out"),
        )
        .group_by("_sid")
        .agg(_first(pl.col("_id")), _first(pl.col("_model")), *[_last(pl.col(c)) for c in ("_stop", "_seq", "_details", "_out")])
        .join(content, on="_sid", how="left")
    )
    body = _obj(
        [
            ("type", _lit("message")),
            ("id", _js(pl.col("_id"))),
            ("model", _js(pl.col("_model"))),
            ("role", _lit("assistant")),
            ("content", _arr(pl.col("_blocks"))),
            ("stop_reason", _js(pl.col("_stop"))),
            ("stop_sequence", _js(pl.col("_seq"))),
            ("stop_details", pl.col("_details")),
            ("usage", _obj([("output_tokens", _num(pl.col("_out")))])),
        ]
    )
    return msg.select("_sid", pl.lit(ANTHROPIC).alias("_api"), body.alias("_body"))


#: The type-stable fields of an OpenAI Chat / completion chunk, decoded in one pass
#: (``delta.content`` and argument fragments, which some compatible servers send as
#: arrays / objects, are read with JSONPath instead).
_CHUNK = pl.Struct(
    {
        "id": S,
        "model": S,
        "created": S,
        "choices": pl.List(
            pl.Struct(
                {
                    "index": S,
                    "finish_reason": S,
                    "text": S,
                    "delta": pl.Struct(
                        {
                            "refusal": S,
                            "tool_calls": pl.List(pl.Struct({"index": S, "id": S, "type": S, "function": pl.Struct({"name": S})})),
                            "function_call": pl.Struct({"name": S}),
                        }
                    ),
                }
            )
        ),
    }
)


def _choices(ev: pl.LazyFrame, api: str) -> pl.LazyFrame:
    """OpenAI Chat / text-completion chunks (stop-reasons.md §2.1, trace-formats.md §10).

    Per ``choices[].index``: text = concatenated ``delta.content`` (chat) or ``text``
    (completions), refusal = concatenated ``delta.refusal``, ``finish_reason`` = last
    one sent; tool calls keyed by ``delta.tool_calls[].index``: id / type / name = first
    sent, arguments = concatenated fragments; legacy ``delta.function_call`` likewise.
    ``usage`` = last chunk's (the ``choices: []`` chunk of ``include_usage``). A chunk
    whose stable fields do not decode (:data:`_CHUNK`) contributes nothing but its
    ``usage``.
    """
    chat = api == CHAT
    chunk = pl.col("_chunk")
    ev = ev.with_columns(robust_decode(pl.when(D.str.starts_with("{")).then(D), _CHUNK).alias("_chunk"))
    ch = (
        ev.select(
            "_sid",
            "_ord",
            "_data",
            chunk.struct.field("choices").alias("_choice"),
            chunk.struct.field("choices").list.eval(pl.int_range(pl.len())).alias("_k"),
        )
        .explode(["_choice", "_k"])
        .filter(pl.col("_k").is_not_null())
        .with_columns(pl.coalesce(to_int(pl.col("_choice").struct.field("index")), pl.col("_k")).alias("_ci"))
    )
    base = pl.concat_str([pl.lit("$.choices["), pl.col("_k").cast(S), pl.lit("]")])
    delta = pl.col("_choice").struct.field("delta")
    legacy = pl.when(D.str.contains('"function_call"', literal=True)).then(D)
    choices = ch.with_columns(
        (jp(D, pl.concat_str([base, pl.lit(".delta.content")])) if chat else pl.col("_choice").struct.field("text")).alias("_text"),
        delta.struct.field("refusal").alias("_refusal"),
        pl.col("_choice").struct.field("finish_reason").alias("_finish"),
        delta.struct.field("function_call").struct.field("name").alias("_fname"),
        jp(legacy, pl.concat_str([base, pl.lit(".delta.function_call.arguments")])).alias("_fargs"),
    )
    per_choice = choices.group_by("_sid", "_ci", maintain_order=True).agg(
        _concat(pl.col("_text")).alias("_text"),
        _concat(pl.col("_refusal")).alias("_refusal"),
        _last(pl.col("_finish")).alias("_finish"),
        _first(pl.col("_fname")).alias("_fname"),
        _concat(pl.col("_fargs")).alias("_fargs"),
    )
    if chat:
        call = pl.col("_call")
        calls = (
            ch.select("_sid", "_ord", "_data", "_k", "_ci", delta.struct.field("tool_calls").alias("_call"), delta.struct.field("tool_calls").list.eval(pl.int_range(pl.len())).alias("_j"))
            .explode(["_call", "_j"])
            .filter(pl.col("_j").is_not_null())
            .with_columns(
                pl.coalesce(to_int(call.struct.field("index")), pl.col("_j")).alias("_ti"),
                call.struct.field("id").alias("_id"),
                call.struct.field("type").alias("_type"),
                call.struct.field("function").struct.field("name").alias("_name"),
                jp(D, pl.concat_str([base, pl.lit(".delta.tool_calls["), pl.col("_j").cast(S), pl.lit("].function.arguments")])).alias("_args"),
            )
            .group_by("_sid", "_ci", "_ti", maintain_order=True)
            .agg(_first(pl.col("_id")), _first(pl.col("_type")), _first(pl.col("_name")), _concat(pl.col("_args")).alias("_args"))
            .sort("_sid", "_ci", "_ti")
        )
        call_json = _obj(
            [
                ("id", _js(pl.col("_id"))),
                ("type", _js(pl.col("_type").fill_null("function"))),
                ("function", _obj([("name", _js(pl.col("_name"))), ("arguments", _js(pl.col("_args").fill_null("")))])),
            ]
        )
        tools = calls.group_by("_sid", "_ci").agg(call_json.alias("_calls"))
        per_choice = per_choice.join(tools, on=["_sid", "_ci"], how="left")
        function_call = pl.when(pl.col("_fname").is_not_null()).then(
            _obj([("name", _js(pl.col("_fname"))), ("arguments", _js(pl.col("_fargs").fill_null("")))])
        )
        message = _obj(
            [
                ("role", _lit("assistant")),
                ("content", _js(pl.col("_text"))),
                ("refusal", _js(pl.col("_refusal"))),
                ("tool_calls", pl.when(pl.col("_calls").list.len() > 0).then(_arr(pl.col("_calls")))),
                ("function_call", function_call),
            ]
        )
        choice = _obj([("index", _num(pl.col("_ci"))), ("message", message), ("finish_reason", _js(pl.col("_finish")))])
    else:
        choice = _obj([("index", _num(pl.col("_ci"))), ("text", _js(pl.col("_text").fill_null(""))), ("finish_reason", _js(pl.col("_finish")))])
    choice_list = per_choice.sort("_sid", "_ci").group_by("_sid").agg(choice.alias("_choices"))
    # Azure's first chunk (prompt_filter_results) has id "", model "", created 0: skipped.
    head = (
        ev.with_columns(
            _nonempty(chunk.struct.field("id")).alias("_id"),
            _nonempty(chunk.struct.field("model")).alias("_model"),
            _unix_seconds(chunk.struct.field("created")).alias("_created"),
            _raw(jp(pl.when(D.str.contains('"usage"', literal=True)).then(D), "$.usage")).alias("_usage"),
        )
        .group_by("_sid")
        .agg(_first(pl.col("_id")), _first(pl.col("_model")), _first(pl.col("_created")), _last(pl.col("_usage")))
        .join(choice_list, on="_sid", how="left")
    )
    body = _obj(
        [
            ("object", _lit("chat.completion" if chat else "text_completion")),
            ("id", _js(pl.col("_id"))),
            ("model", _js(pl.col("_model"))),
            ("created", _num(pl.col("_created"))),
            ("choices", _arr(pl.col("_choices"))),
            ("usage", pl.col("_usage")),
        ]
    )
    return head.select("_sid", pl.lit(api).alias("_api"), body.alias("_body"))


def _responses(ev: pl.LazyFrame) -> pl.LazyFrame:
    """OpenAI Responses events (stop-reasons.md §2.2): the ``response`` object of the last
    ``response.completed|incomplete|failed|cancelled`` event is the whole body. Without
    one, the body is rebuilt from what arrived: ``output_item.done`` items as sent, other
    items from ``output_item.added`` plus their ``output_text`` / ``refusal`` /
    ``function_call_arguments`` deltas, and ``status`` null (no terminal status was sent).
    """
    final = (
        ev.filter(T.is_in(RESPONSES_TERMINAL))
        .with_columns(_raw(jp(D, "$.response")).alias("_final"))
        .group_by("_sid")
        .agg(_last(pl.col("_final")))
    )
    head = (
        ev.with_columns(
            jp(D, "$.response.id").alias("_id"),
            jp(D, "$.response.model").alias("_model"),
            jp(D, "$.response.created_at").alias("_created"),
            _raw(jp(D, "$.response.text")).alias("_textcfg"),
            jp(D, "$.response.max_output_tokens").alias("_max"),
        )
        .group_by("_sid")
        .agg(*[_first(pl.col(c)) for c in ("_id", "_model", "_created", "_textcfg", "_max")])
    )
    delta = jp(D, "$.delta")
    items = (
        ev.filter(T.str.starts_with("response.output_") | T.str.starts_with("response.function_call") | T.str.starts_with("response.refusal") | T.str.starts_with("response.content_part"))
        .with_columns(
            to_int(jp(D, "$.output_index")).alias("_oi"),
            pl.when(T == "response.output_item.done").then(_raw(jp(D, "$.item"))).alias("_done"),
            jp(D, "$.item.type").alias("_itype"),
            jp(D, "$.item.name").alias("_name"),
            jp(D, "$.item.call_id").alias("_call"),
            pl.when(T == "response.output_text.delta").then(delta).alias("_text"),
            pl.when(T == "response.refusal.delta").then(delta).alias("_refusal"),
            pl.when(T == "response.function_call_arguments.delta").then(delta).alias("_args"),
        )
        .filter(pl.col("_oi").is_not_null())
        .group_by("_sid", "_oi", maintain_order=True)
        .agg(
            _last(pl.col("_done")).alias("_done"),
            *[_first(pl.col(c)).alias(c) for c in ("_itype", "_name", "_call")],
            *[_concat(pl.col(c)).alias(c) for c in ("_text", "_refusal", "_args")],
        )
    )
    parts = pl.concat_str(
        [
            pl.when(pl.col("_text").is_not_null()).then(_obj([("type", _lit("output_text")), ("text", _js(pl.col("_text")))])),
            pl.when(pl.col("_refusal").is_not_null()).then(_obj([("type", _lit("refusal")), ("refusal", _js(pl.col("_refusal")))])),
        ],
        separator=",",
        ignore_nulls=True,
    )
    itype = pl.coalesce(pl.col("_itype"), pl.when(pl.col("_args").is_not_null()).then(pl.lit("function_call")), pl.lit("message"))
    built = (
        pl.when(itype == "function_call")
        .then(_obj([("type", _lit("function_call")), ("call_id", _js(pl.col("_call"))), ("name", _js(pl.col("_name"))), ("arguments", _js(pl.col("_args").fill_null("")))]))
        .when(itype == "message")
        .then(_obj([("type", _lit("message")), ("role", _lit("assistant")), ("content", pl.concat_str([pl.lit("["), parts, pl.lit("]")]))]))
        .otherwise(_obj([("type", _js(itype))]))
    )
    output = items.sort("_sid", "_oi").group_by("_sid").agg(pl.coalesce(pl.col("_done"), built).alias("_items"))
    partial = _obj(
        [
            ("object", _lit("response")),
            ("id", _js(pl.col("_id"))),
            ("model", _js(pl.col("_model"))),
            ("created_at", _num(pl.col("_created"))),
            ("status", pl.lit("null")),
            ("max_output_tokens", _num(pl.col("_max"))),
            ("text", pl.col("_textcfg")),
            ("output", _arr(pl.col("_items"))),
        ]
    )
    out = head.join(final, on="_sid", how="left").join(output, on="_sid", how="left")
    return out.select("_sid", pl.lit(RESPONSES).alias("_api"), pl.coalesce(pl.col("_final"), partial).alias("_body"))


def _gemini(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Gemini chunks (each a GenerateContentResponse; stop-reasons.md §3, trace-formats.md
    §10): ``candidates[0].content.parts`` of every chunk, in order (text, thought and
    ``functionCall`` parts as sent); ``finishReason`` / ``finishMessage`` /
    ``safetyRatings`` / ``usageMetadata``: last sent; ``promptFeedback``, ``modelVersion``,
    ``responseId``, ``createTime``: first sent. Only the first candidate is read."""
    cand = "$.candidates[0]"
    keys = ("modelVersion", "responseId", "createTime")
    agg = (
        ev.with_columns(
            _inner(jp(D, f"{cand}.content.parts")).alias("_parts"),
            jp(D, cand).is_not_null().alias("_has_cand"),
            jp(D, f"{cand}.finishReason").alias("_finish"),
            jp(D, f"{cand}.finishMessage").alias("_fmsg"),
            _raw(jp(D, f"{cand}.safetyRatings")).alias("_safety"),
            _raw(jp(D, "$.usageMetadata")).alias("_usage"),
            _raw(jp(D, "$.promptFeedback")).alias("_feedback"),
            *[jp(D, f"$.{k}").alias(f"_{k}") for k in keys],
        )
        .group_by("_sid", maintain_order=True)
        .agg(
            pl.col("_parts").str.join(","),
            pl.col("_has_cand").any(),
            *[_last(pl.col(c)) for c in ("_finish", "_fmsg", "_safety", "_usage")],
            *[_first(pl.col(c)) for c in ("_feedback", *[f"_{k}" for k in keys])],
        )
    )
    candidate = _obj(
        [
            ("content", _obj([("role", _lit("model")), ("parts", pl.concat_str([pl.lit("["), pl.col("_parts"), pl.lit("]")]))])),
            ("finishReason", _js(pl.col("_finish"))),
            ("finishMessage", _js(pl.col("_fmsg"))),
            ("safetyRatings", pl.col("_safety")),
            ("index", pl.lit("0")),
        ]
    )
    body = _obj(
        [
            ("candidates", pl.when(pl.col("_has_cand")).then(pl.concat_str([pl.lit("["), candidate, pl.lit("]")])).otherwise(pl.lit("[]"))),
            ("promptFeedback", pl.col("_feedback")),
            ("usageMetadata", pl.col("_usage")),
            *[(k, _js(pl.col(f"_{k}"))) for k in keys],
        ]
    )
    return agg.select("_sid", pl.lit(GEMINI).alias("_api"), body.alias("_body"))


def _converse(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Bedrock ConverseStream events (stop-reasons.md §1.3; also Nova InvokeModel chunks).

    Blocks by ``contentBlockIndex``: a ``contentBlockStart.start.toolUse`` (toolUseId,
    name) or ``toolUse.input`` deltas make a ``toolUse`` block whose ``input`` is the
    concatenated string fragments (``{}`` when none arrived); ``delta.text`` pieces make a
    text block; ``reasoningContent`` deltas a reasoning block (no text).
    ``messageStop.stopReason`` (and ``additionalModelResponseFields``), ``metadata.usage``
    / ``metrics`` / ``trace``: last sent.
    """
    start, delta = "$.contentBlockStart", "$.contentBlockDelta"
    blocks = (
        ev.with_columns(
            to_int(pl.coalesce(jp(D, f"{start}.contentBlockIndex"), jp(D, f"{delta}.contentBlockIndex"))).alias("_idx"),
            jp(D, f"{start}.start.toolUse.toolUseId").alias("_tid"),
            jp(D, f"{start}.start.toolUse.name").alias("_name"),
            jp(D, f"{delta}.delta.text").alias("_text"),
            jp(D, f"{delta}.delta.toolUse.input").alias("_input"),
            _has(f"{delta}.delta.reasoningContent").alias("_reasoning"),
        )
        .filter(pl.col("_idx").is_not_null())
        .group_by("_sid", "_idx", maintain_order=True)
        .agg(
            _first(pl.col("_tid")),
            _first(pl.col("_name")),
            _concat(pl.col("_text")).alias("_text"),
            _concat(pl.col("_input")).alias("_input"),
            pl.col("_reasoning").any(),
        )
    )
    tool_input = pl.when(pl.col("_input").fill_null("") != "").then(pl.col("_input")).otherwise(pl.lit("{}"))
    block = (
        pl.when(pl.col("_name").is_not_null() | pl.col("_input").is_not_null())
        .then(_obj([("toolUse", _obj([("toolUseId", _js(pl.col("_tid"))), ("name", _js(pl.col("_name"))), ("input", _js(tool_input))]))]))
        .when(pl.col("_text").is_not_null())
        .then(_obj([("text", _js(pl.col("_text")))]))
        .when(pl.col("_reasoning"))
        .then(pl.lit('{"reasoningContent":{}}'))
    )
    content = blocks.sort("_sid", "_idx").group_by("_sid").agg(block.drop_nulls().alias("_blocks"))
    msg = (
        ev.with_columns(
            jp(D, "$.messageStop.stopReason").alias("_stop"),
            _raw(jp(D, "$.messageStop.additionalModelResponseFields")).alias("_amrf"),
            _raw(jp(D, "$.metadata.usage")).alias("_usage"),
            _raw(jp(D, "$.metadata.metrics")).alias("_metrics"),
            _raw(jp(D, "$.metadata.trace")).alias("_trace"),
        )
        .group_by("_sid")
        .agg(*[_last(pl.col(c)) for c in ("_stop", "_amrf", "_usage", "_metrics", "_trace")])
        .join(content, on="_sid", how="left")
    )
    body = _obj(
        [
            ("output", _obj([("message", _obj([("role", _lit("assistant")), ("content", _arr(pl.col("_blocks")))]))])),
            ("stopReason", _js(pl.col("_stop"))),
            ("additionalModelResponseFields", pl.col("_amrf")),
            ("usage", pl.col("_usage")),
            ("metrics", pl.col("_metrics")),
            ("trace", pl.col("_trace")),
        ]
    )
    return msg.select("_sid", pl.lit(CONVERSE).alias("_api"), body.alias("_body"))


def _cohere_v1(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Cohere Chat v1 stream (stop-reasons.md §4): text = concatenated ``text-generation``
    texts (else ``stream-end.response.text``); ``finish_reason`` from ``stream-end``;
    tool calls from ``tool-calls-generation`` (else the ``stream-end`` response's)."""
    agg = (
        ev.with_columns(
            pl.when(T == "text-generation").then(jp(D, "$.text")).alias("_text"),
            jp(D, "$.finish_reason").alias("_finish"),
            _raw(jp(D, "$.response")).alias("_resp"),
            pl.when(T == "tool-calls-generation").then(_raw(jp(D, "$.tool_calls"))).alias("_tools"),
            jp(D, "$.generation_id").alias("_gen"),
        )
        .group_by("_sid")
        .agg(_concat(pl.col("_text")).alias("_text"), *[_last(pl.col(c)) for c in ("_finish", "_resp", "_tools")], _first(pl.col("_gen")))
    )
    resp = pl.col("_resp")
    body = _obj(
        [
            ("response_id", _js(jp(resp, "$.response_id"))),
            ("generation_id", _js(pl.coalesce(pl.col("_gen"), jp(resp, "$.generation_id")))),
            ("text", _js(pl.coalesce(pl.col("_text"), jp(resp, "$.text"), pl.lit("")))),
            ("finish_reason", _js(pl.coalesce(pl.col("_finish"), jp(resp, "$.finish_reason")))),
            ("tool_calls", pl.coalesce(pl.col("_tools"), _raw(jp(resp, "$.tool_calls")))),
            ("meta", _raw(jp(resp, "$.meta"))),
        ]
    )
    return agg.select("_sid", pl.lit(COHERE_V1).alias("_api"), body.alias("_body"))


def _cohere_v2(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Cohere Chat v2 stream (stop-reasons.md §4): text per ``content-delta`` index,
    ``tool_plan`` from ``tool-plan-delta``, tool calls per ``tool-call-*`` index (id and
    name from ``tool-call-start``, arguments concatenated), ``finish_reason`` and usage
    from ``message-end``."""
    msg = "$.delta.message"
    parts = (
        ev.filter(T.is_in(["content-start", "content-delta"]))
        .with_columns(to_int(jp(D, "$.index")).alias("_idx"), jp(D, f"{msg}.content.text").alias("_text"))
        .group_by("_sid", "_idx", maintain_order=True)
        .agg(_concat(pl.col("_text")).alias("_text"))
        .sort("_sid", "_idx")
        .group_by("_sid")
        .agg(_obj([("type", _lit("text")), ("text", _js(pl.col("_text").fill_null("")))]).alias("_content"))
    )
    calls = (
        ev.filter(T.is_in(["tool-call-start", "tool-call-delta"]))
        .with_columns(
            to_int(jp(D, "$.index")).alias("_idx"),
            jp(D, f"{msg}.tool_calls.id").alias("_id"),
            jp(D, f"{msg}.tool_calls.function.name").alias("_name"),
            jp(D, f"{msg}.tool_calls.function.arguments").alias("_args"),
        )
        .group_by("_sid", "_idx", maintain_order=True)
        .agg(_first(pl.col("_id")), _first(pl.col("_name")), _concat(pl.col("_args")).alias("_args"))
        .sort("_sid", "_idx")
        .group_by("_sid")
        .agg(
            _obj(
                [
                    ("id", _js(pl.col("_id"))),
                    ("type", _lit("function")),
                    ("function", _obj([("name", _js(pl.col("_name"))), ("arguments", _js(pl.col("_args").fill_null("")))])),
                ]
            ).alias("_calls")
        )
    )
    head = (
        ev.with_columns(
            pl.when(T == "message-start").then(jp(D, "$.id")).alias("_id"),
            pl.when(T == "tool-plan-delta").then(jp(D, f"{msg}.tool_plan")).alias("_plan"),
            jp(D, "$.delta.finish_reason").alias("_finish"),
            _raw(jp(D, "$.delta.usage")).alias("_usage"),
        )
        .group_by("_sid")
        .agg(_first(pl.col("_id")), _concat(pl.col("_plan")).alias("_plan"), _last(pl.col("_finish")), _last(pl.col("_usage")))
        .join(parts, on="_sid", how="left")
        .join(calls, on="_sid", how="left")
    )
    message = _obj(
        [
            ("role", _lit("assistant")),
            ("content", _arr(pl.col("_content"))),
            ("tool_plan", _js(pl.col("_plan"))),
            ("tool_calls", pl.when(pl.col("_calls").list.len() > 0).then(_arr(pl.col("_calls")))),
        ]
    )
    body = _obj([("id", _js(pl.col("_id"))), ("finish_reason", _js(pl.col("_finish"))), ("message", message), ("usage", pl.col("_usage"))])
    return head.select("_sid", pl.lit(COHERE_V2).alias("_api"), body.alias("_body"))


def _ollama(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Ollama native NDJSON (stop-reasons.md §4): ``message.content`` (/api/chat) or
    ``response`` (/api/generate) concatenated; ``message.tool_calls`` arrays joined;
    ``done`` / ``done_reason`` / ``eval_count`` / ``prompt_eval_count`` / ``created_at``:
    last sent. Chat when any chunk has a ``message``."""
    agg = (
        ev.with_columns(
            jp(D, "$.message").is_not_null().alias("_chat"),
            jp(D, "$.message.content").alias("_content"),
            jp(D, "$.response").alias("_response"),
            _inner(jp(D, "$.message.tool_calls")).alias("_tools"),
            jp(D, "$.done").alias("_done"),
            jp(D, "$.done_reason").alias("_reason"),
            jp(D, "$.eval_count").alias("_eval"),
            jp(D, "$.prompt_eval_count").alias("_prompt"),
            jp(D, "$.model").alias("_model"),
            jp(D, "$.created_at").alias("_created"),
        )
        .group_by("_sid")
        .agg(
            pl.col("_chat").any(),
            _concat(pl.col("_content")).alias("_content"),
            _concat(pl.col("_response")).alias("_response"),
            pl.when(pl.col("_tools").is_not_null().any()).then(pl.col("_tools").str.join(",")).alias("_tools"),
            _first(pl.col("_model")),
            *[_last(pl.col(c)) for c in ("_done", "_reason", "_eval", "_prompt", "_created")],
        )
    )
    common_head = [("model", _js(pl.col("_model"))), ("created_at", _js(pl.col("_created")))]
    common_tail = [
        ("done", pl.when(pl.col("_done") == "true").then(pl.lit("true")).otherwise(pl.lit("false"))),
        ("done_reason", _js(pl.col("_reason"))),
        ("eval_count", _num(pl.col("_eval"))),
        ("prompt_eval_count", _num(pl.col("_prompt"))),
    ]
    message = _obj(
        [
            ("role", _lit("assistant")),
            ("content", _js(pl.col("_content").fill_null(""))),
            ("tool_calls", pl.when(pl.col("_tools").is_not_null()).then(pl.concat_str([pl.lit("["), pl.col("_tools"), pl.lit("]")]))),
        ]
    )
    chat = _obj(common_head + [("message", message)] + common_tail)
    generate = _obj(common_head + [("response", _js(pl.col("_response").fill_null("")))] + common_tail)
    return agg.select(
        "_sid",
        pl.when(pl.col("_chat")).then(pl.lit(OLLAMA_CHAT)).otherwise(pl.lit(OLLAMA_GENERATE)).alias("_api"),
        pl.when(pl.col("_chat")).then(chat).otherwise(generate).alias("_body"),
    )


#: InvokeModel streams of one text field (AWS Bedrock model parameter pages for Titan
#: Text, Meta Llama, Mistral; not in the references): API -> (text path, stop path,
#: output-token path (last sent), input-token path (first sent)).
_INVOKE = {
    TITAN: ("$.outputText", "$.completionReason", "$.totalOutputTextTokenCount", "$.inputTextTokenCount"),
    META: ("$.generation", "$.stop_reason", "$.generation_token_count", "$.prompt_token_count"),
    MISTRAL: ("$.outputs[0].text", "$.outputs[0].stop_reason", None, None),
}


def _invoke(ev: pl.LazyFrame, api: str) -> pl.LazyFrame:
    """Bedrock InvokeModel streams of Titan Text, Meta Llama and Mistral: text
    concatenated, stop value and output tokens last sent, the non-streamed body of
    the model rebuilt (``amazon-bedrock-guardrailAction`` kept when a chunk had it)."""
    text_p, stop_p, out_p, in_p = _INVOKE[api]
    none = pl.lit(None, dtype=S)
    agg = (
        ev.with_columns(
            jp(D, text_p).alias("_text"),
            jp(D, stop_p).alias("_stop"),
            (jp(D, out_p) if out_p else none).alias("_out"),
            (jp(D, in_p) if in_p else none).alias("_in"),
            jp(D, '$["amazon-bedrock-guardrailAction"]').alias("_guardrail"),
        )
        .group_by("_sid")
        .agg(_concat(pl.col("_text")).alias("_text"), _last(pl.col("_stop")), _last(pl.col("_out")), _first(pl.col("_in")), _last(pl.col("_guardrail")))
    )
    text, stop = _js(pl.col("_text").fill_null("")), _js(pl.col("_stop"))
    guardrail = ("amazon-bedrock-guardrailAction", _js(pl.col("_guardrail")))
    if api == TITAN:
        result = _obj([("tokenCount", _num(pl.col("_out"))), ("outputText", text), ("completionReason", stop)])
        body = _obj([("inputTextTokenCount", _num(pl.col("_in"))), ("results", pl.concat_str([pl.lit("["), result, pl.lit("]")])), guardrail])
    elif api == META:
        body = _obj([("generation", text), ("prompt_token_count", _num(pl.col("_in"))), ("generation_token_count", _num(pl.col("_out"))), ("stop_reason", stop), guardrail])
    else:
        body = _obj([("outputs", pl.concat_str([pl.lit("["), _obj([("text", text), ("stop_reason", stop)]), pl.lit("]")])), guardrail])
    return agg.select("_sid", pl.lit(api).alias("_api"), body.alias("_body"))


#: Builder per stream API (``_api`` of :func:`stream_facts`).
BUILDERS = {
    ANTHROPIC: _anthropic,
    CHAT: lambda ev: _choices(ev, CHAT),
    COMPLETIONS: lambda ev: _choices(ev, COMPLETIONS),
    RESPONSES: _responses,
    GEMINI: _gemini,
    CONVERSE: _converse,
    COHERE_V1: _cohere_v1,
    COHERE_V2: _cohere_v2,
    OLLAMA_CHAT: _ollama,
    OLLAMA_GENERATE: _ollama,
    TITAN: lambda ev: _invoke(ev, TITAN),
    META: lambda ev: _invoke(ev, META),
    MISTRAL: lambda ev: _invoke(ev, MISTRAL),
}


# ---------------------------------------------------------------------- assembly

#: Pass-through columns every stream row has (null-typed when a file has no rows).
_PASSTHROUGH = ("provider_api", "response_id", "stream_status", "stream_error")
_INTERNAL = ("_sid", "_rid", "_body", "_req", "_complete", "_error", "_errmsg", "_guard", "_shape_error", "_first_t", "_events")


def reassemble(ev: pl.DataFrame, streams: pl.DataFrame, path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Streams -> canonical rows.

    Input: ``ev``: classified events (:func:`classify_events`) with ``_sid`` (i64) and
    ``_ord`` (order within the file); ``streams``: one row per stream with ``_sid``,
    ``source_line`` (i64), ``_req`` (str JSON request or null) and pass-through columns.
    Output: (rows: canonical columns from bodies.extract_api plus ``provider_api``,
    ``response_id``, ``stream_status``, ``stream_error`` and the pass-through columns,
    sorted by ``source_line``; problems: PROBLEM_SCHEMA rows for streams of no known API
    and bodies of an unexpected shape). ``stop_detail`` is ``stream_error`` when an error
    event arrived, else ``stream_incomplete`` when no terminal event did, else the body's
    own detail (or ``guardrail_intervened`` for an InvokeModel stream a guardrail ended
    without a stop value; stop-reasons.md §1.3).
    """
    ev = ev.sort("_sid", "_ord")
    facts = stream_facts(ev.lazy()).join(
        ev.lazy().group_by("_sid").agg(pl.col("_t").first().alias("_first_t"), pl.len().alias("_events")), on="_sid"
    ).collect()
    ev = ev.join(facts.select("_sid", "_api"), on="_sid", how="left")
    built = []
    for builder in dict.fromkeys(BUILDERS.values()):
        names = [n for n, b in BUILDERS.items() if b is builder]
        part = ev.filter(pl.col("_api").is_in(names))
        if part.height:
            built.append(builder(part.lazy()))
    body_cols = {"_sid": pl.Int64, "_api": S, "_body": S}
    built_df = pl.concat([b.collect() for b in built]).cast(body_cols) if built else pl.DataFrame(schema=body_cols)
    frame = streams.join(facts.drop("_api"), on="_sid", how="left").join(built_df, on="_sid", how="left").with_columns(pl.col("_sid").alias("_rid"))
    readable = frame.filter(pl.col("_api").is_in(list(bodies.SPECS)) & pl.col("_body").is_not_null())
    problems = [
        frame.filter(~pl.col("_api").is_in(list(bodies.SPECS)).fill_null(True) | pl.col("_body").is_null()).select(
            pl.lit(path).alias("source_file"),
            "source_line",
            pl.lit(UNKNOWN_SHAPE).alias("kind"),
            pl.when(pl.col("_events").is_null())
            .then(pl.lit("stream with no events"))
            .when(pl.col("_api").is_not_null())
            .then(pl.concat_str([pl.lit("stream of API "), pl.col("_api"), pl.lit(", which has no body spec in bodies.py")]))
            .otherwise(
                pl.concat_str(
                    [
                        pl.lit("stream of no API this release reads (events: "),
                        pl.col("_events").cast(S),
                        pl.lit("; first event type: "),
                        pl.coalesce(pl.col("_first_t"), pl.lit("none")),
                        pl.lit(")"),
                    ]
                )
            )
            .alias("reason"),
        )
    ]
    names = readable.get_column("_api").unique().sort().to_list()
    extracted = [bodies.extract_api(readable.lazy().filter(pl.col("_api") == n), bodies.SPECS[n]) for n in names]
    rows = pl.concat([e.collect() for e in extracted], how="diagonal_relaxed") if extracted else readable.clear()
    if "_shape_error" in rows.columns:
        problems.append(
            rows.filter(pl.col("_shape_error").is_not_null()).select(
                pl.lit(path).alias("source_file"), "source_line", pl.lit(UNKNOWN_SHAPE).alias("kind"), pl.col("_shape_error").alias("reason")
            )
        )
        rows = rows.filter(pl.col("_shape_error").is_null())
    status = pl.when(pl.col("_error")).then(pl.lit("error")).when(~pl.col("_complete")).then(pl.lit("incomplete")).otherwise(pl.lit("complete"))
    detail = pl.coalesce(
        pl.when(pl.col("_error")).then(pl.lit("stream_error")).when(~pl.col("_complete")).then(pl.lit("stream_incomplete")),
        pl.col("stop_detail") if "stop_detail" in rows.columns else pl.lit(None, dtype=S),
        pl.when(pl.col("_guard") & pl.col("provider_stop_reason").is_null()).then(pl.lit("guardrail_intervened")),
    )
    if rows.height:
        rows = rows.with_columns(detail.alias("stop_detail"), status.alias("stream_status"), pl.col("_errmsg").alias("stream_error"))
    rows = rows.with_columns(pl.lit(path).alias("source_file")).rename({"_api": "provider_api"})
    rows = rows.with_columns([pl.lit(None, dtype=S).alias(c) for c in _PASSTHROUGH if c not in rows.columns])
    rows = rows.drop([c for c in _INTERNAL if c in rows.columns]).sort("source_line")
    return rows, pl.concat([p.cast(PROBLEM_SCHEMA) for p in problems])


# ----------------------------------------------------------------------- readers


def _chunk_streams(lines: pl.LazyFrame) -> pl.DataFrame:
    """Events one a line (layout 3) or one an SSE block (layout 2): ``_line``, ``_ord``,
    ``_event``, ``_data`` in file order -> classified events numbered into streams."""
    return split_streams(classify_events(lines)).collect()


def read_records(path: str, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a JSON-lines file of recorded streams (layout 1) and/or stream chunks (layout 3).

    Input: path (display name) and optional bytes to read instead. Lines with an
    ``events`` key are one stream each (``source_line`` = that line; ``request`` is the
    request body; other keys pass through, route / timestamp / trace_id / span_id fill the
    canonical columns); the other lines are chunks, numbered into streams in file order
    (:func:`split_streams`; ``source_line`` = the stream's first line). Output:
    (LazyFrame of canonical + pass-through columns, problems DataFrame: malformed and
    blank lines, streams of no known API). Errors: none for bad records.
    """
    df = read_checked_lines(path, data)
    problems = [line_problems(df, path)]
    ok = df.filter(pl.col("_error").is_null())
    has_events = pl.col("_keys").list.contains("events")
    recs, chunks = ok.filter(has_events), ok.filter(~has_events)
    keys = [k for k in all_keys(recs) if k not in ("events", "request")]
    passthrough = [jp(RAW, key_path(k)).alias(wrapper_column(k)) for k in keys]
    rec_streams = recs.select(pl.col("source_line").alias("_sid"), "source_line", pl.col("_wrapped_request").alias("_req"), *passthrough)
    rec_events = (
        recs.lazy()
        .select(pl.col("source_line").alias("_sid"), pl.col(RAW).map_batches(_events_batch, return_dtype=EVENT_DTYPE).alias("_ev"))
        .explode("_ev")
        .filter(pl.col("_ev").is_not_null())
        .with_row_index("_ord")
        .unnest("_ev")
        .with_columns(normalize_events("raw"))
        .with_columns(
            pl.coalesce("event", "_event").alias("_event"),
            pl.coalesce("data", "_data").alias("_data"),
            pl.col("_sid").alias("_line"),
        )
        .drop("event", "data", "raw")
    )
    frames = [classify_events(rec_events).collect()]
    if chunks.height:
        lines = chunks.lazy().select(pl.col("source_line").alias("_line"), pl.col(RAW).alias("_ev")).with_row_index("_ord").with_columns(normalize_events())
        ch = _chunk_streams(lines.drop("_ev"))
        frames.append(ch.select(frames[0].columns))
        rec_streams = pl.concat(
            [rec_streams, ch.select(pl.col("_sid").unique()).with_columns(pl.col("_sid").alias("source_line"), pl.lit(None, dtype=S).alias("_req"))],
            how="diagonal_relaxed",
        )
    ev = pl.concat([f.cast({"_ord": pl.Int64}) for f in frames], how="vertical_relaxed")
    rows, stream_problems = reassemble(ev, rec_streams, path)
    problems.append(stream_problems)
    rows = fill_wrapper(rows, keys)
    return rows.lazy(), pl.concat(problems, how="vertical_relaxed")


def _sse_blocks(target: str | bytes) -> pl.LazyFrame:
    """SSE text -> one row per dispatched event: ``_line`` (i64, its first line), ``_ord``,
    ``_event`` (last ``event:`` value), ``_data`` (``data:`` values joined by newlines).

    Per the SSE format (WHATWG HTML §9.2 "Server-sent events", parsing an event stream): a
    blank line ends an event, ``:`` starts a comment, a field's value is what follows the
    first colon minus one leading space. Lenient with captures that drop blank lines: an
    ``event:`` line after a ``data:`` line, or a ``data:`` line after a ``data:`` line
    whose value is already complete JSON (or ``[DONE]``), also starts a new event.
    """
    line = pl.col("_l").str.strip_suffix("\r").str.strip_prefix("\ufeff")
    colon = line.str.find(":", literal=True)
    field = pl.when(colon.is_null()).then(line).otherwise(line.str.slice(0, colon))
    value = pl.when(colon.is_null()).then(pl.lit("")).otherwise(line.str.slice(colon + 1).str.strip_prefix(" "))
    lf = (
        pl.scan_lines(target, name="_l", row_index_name="_line", row_index_offset=1)
        .with_columns(pl.col("_line").cast(pl.Int64), (line.str.strip_chars() == "").alias("_blank"), field.alias("_field"), value.alias("_value"))
        .filter(pl.col("_blank") | (colon.fill_null(1) != 0))  # drop comment lines
    )
    is_data, is_event = pl.col("_field") == "data", pl.col("_field") == "event"
    prev_data = is_data.shift(1).fill_null(False)
    prev_value = pl.when(is_data & prev_data).then(pl.col("_value").shift(1))
    prev_complete = ((prev_value == DONE) | jp(prev_value, "$").is_not_null()).fill_null(False)
    new_block = ~pl.col("_blank") & (pl.col("_blank").shift(1).fill_null(True) | (is_event & prev_data) | (is_data & prev_data & prev_complete))
    return (
        lf.with_columns(new_block.cum_sum().alias("_ord"))
        .filter(~pl.col("_blank"))
        .group_by("_ord", maintain_order=True)
        .agg(
            pl.col("_line").first(),
            _last(pl.when(is_event).then(pl.col("_value"))).alias("_event"),
            pl.when(is_data).then(pl.col("_value")).str.join("\n").alias("_data"),
            is_data.any().alias("_has_data"),
        )
        .filter(pl.col("_has_data"))
        .drop("_has_data")
    )


def read_sse(path: str, data: bytes | None = None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read a raw SSE capture (layout 2): one or many streams, split by :func:`split_streams`.

    Output: (LazyFrame of canonical + pass-through columns, one row per stream with
    ``source_line`` = the line where it starts; problems: events whose data is neither
    JSON nor ``[DONE]`` (kind malformed_json, the event's first line; the stream is still
    read without them) and streams of no known API).
    """
    ev = _chunk_streams(_sse_blocks(data if data is not None else path))
    bad = ev.filter(pl.col("_eapi").is_null() & (D != DONE) & jp(pl.when(pl.col("_eapi").is_null() & (D != DONE)).then(D), "$").is_null())
    problems = [
        bad.select(
            pl.lit(path).alias("source_file"),
            pl.col("_line").alias("source_line"),
            pl.lit(MALFORMED_JSON).alias("kind"),
            pl.concat_str([pl.lit("SSE event data is not JSON: "), D.str.slice(0, 80)]).alias("reason"),
        )
    ]
    streams = ev.select(pl.col("_sid").unique(maintain_order=True)).with_columns(pl.col("_sid").alias("source_line"), pl.lit(None, dtype=S).alias("_req"))
    rows, stream_problems = reassemble(ev, streams, path)
    problems.append(stream_problems)
    return rows.lazy(), pl.concat([p.cast(PROBLEM_SCHEMA) for p in problems], how="vertical_relaxed")


# ------------------------------------------------ format declaration (sniffers)

_CHUNK_TYPES = frozenset(ANTHROPIC_EVENTS) | frozenset(COHERE_V2_EVENTS)


def is_stream_record(obj: dict) -> bool:
    """A JSON record of a stream (trace-formats.md §10, §11): a recorded stream
    (``events`` array), an SSE frame ``{"event", "data"}``, an AWS event-stream message
    ``{"headers", "payload"}``, or a chunk no non-streamed body looks like (Anthropic /
    Responses / Cohere stream events, ``chat.completion.chunk``, a ``text_completion``
    whose choices have no finish_reason yet, Ollama ``done: false``, Bedrock
    ConverseStream events, Titan ``outputText`` chunks). Gemini, Llama and Mistral chunks
    have the shape of whole bodies: a file of them reads as ``responses`` unless
    ``--input-format streams`` says otherwise.
    """
    if isinstance(obj.get("events"), list):
        return True
    keys = set(obj)
    if "data" in keys and keys <= {"event", "data", "id", "retry"}:
        return True
    if {"headers", "payload"} <= keys:
        return True
    t = obj.get("type")
    if isinstance(t, str) and (t in _CHUNK_TYPES or t.startswith("response.")):
        return True
    if obj.get("event_type") in COHERE_V1_EVENTS or obj.get("object") == "chat.completion.chunk":
        return True
    choices = obj.get("choices")
    if obj.get("object") == "text_completion" and isinstance(choices, list) and choices:
        if all(isinstance(c, dict) and c.get("finish_reason") is None for c in choices):
            return True
    if obj.get("done") is False and ("message" in obj or "response" in obj):
        return True
    if keys and keys <= set(CONVERSE_EVENTS) | {"p", "amazon-bedrock-guardrailAction"} and keys & set(CONVERSE_EVENTS[:-1]):
        return True
    return "outputText" in keys and "results" not in keys


def is_sse_text(head: str) -> bool:
    """SSE text: a line starting with ``data:`` in the first bytes (trace-formats.md §10)."""
    return any(line.startswith("data:") for line in head.splitlines()[:2000])


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read one file of the ``streams`` format (see the module doc): SSE text, or JSON
    lines of recorded streams and/or chunks."""
    if src.container == TEXT:
        return read_sse(src.path, src.data)
    return read_records(src.path, src.data)


FORMATS = [
    Format(
        "streams",
        "streamed responses: SSE captures (event:/data: text), JSON lines of stream chunks, "
        'or recorded streams {"events": [...], "request": ...} (Anthropic, OpenAI Chat / Responses / '
        "completions, Gemini, Bedrock Converse / InvokeModel, Cohere, Ollama)",
        read,
        containers=(JSONL, JSON, TEXT),
        record=is_stream_record,
        text=is_sse_text,
    )
]
