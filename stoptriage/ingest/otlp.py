"""OTLP JSON traces and the OTel Python ConsoleSpanExporter's span objects -> span frames.

Formats (names as in ``--input-format``), both read into the SPANS / ATTRS /
EVENTS frames of :mod:`.spans` and handed to :func:`.spans.to_canonical`, which
picks the convention of each span (OTel GenAI, OpenLLMetry, Vercel AI SDK,
OpenInference) and computes the route (trace-formats.md §1, §11):

* ``otlp`` — JSON lines with top key ``resourceSpans`` and/or ``resourceLogs``:
  the collector ``fileexporter`` (``format: json``) and the SDK file exporters
  write one ``ExportTraceServiceRequest`` / ``ExportLogsServiceRequest`` per
  line; a single pretty object or a JSON array of them is converted to lines
  before this reader (``ingest.read``). Each line is decoded ONCE by the native
  decoder into a fixed nested dtype (:data:`SPAN_LINE_DTYPE`; lines holding
  ``"resourceLogs"`` :data:`LINE_DTYPE`) and exploded into spans, attributes and
  events; no JSONPath per attribute, and no orjson pass over the lines that
  decode (only rejected lines are parsed again, to say why). Field names are
  the OTLP/JSON lowerCamelCase ones (opentelemetry-proto
  ``docs/specification.md#json-protobuf-encoding``). Resource attributes give
  ``service_name`` (``service.name``) and, copied into ATTRS,
  ``openinference.project.name`` (spans.py contract).
* ``otel-console`` — the Python ``ConsoleSpanExporter``'s pretty objects one
  after another (converted to one object a line before this reader): ``name``,
  ``context.{trace_id, span_id}`` (``0x`` hex), ``parent_id``, ``kind``
  (``SpanKind.CLIENT``), ISO ``start_time`` / ``end_time``, ``status.status_code``,
  flat ``attributes{}``, ``events[]``, ``resource.attributes{}``.

Choices where the reference is silent (trace-formats.md §1 "Logs"):

* GenAI log records (``resourceLogs``: semconv v1.28–1.36 ``gen_ai.choice`` ...,
  and ``gen_ai.client.inference.operation.details``) whose (traceId, spanId) is a
  span of the same file become EVENTS rows of that span, after the span's own
  events: ``event_name`` = ``eventName``, else the attribute ``event.name``;
  ``time`` = ``timeUnixNano``, else ``observedTimeUnixNano``; one row per log
  attribute plus one row with key ``body`` holding the body as text (a kvlist
  body is a JSON object text, e.g. the §1b choice body). Spans and logs are
  joined within one file only.
* Log records without a span in the file: those named ``gen_ai.*`` may carry
  model output that cannot be attributed, so each line holding some is
  reported (``unknown_shape``, with the names counted); other log records are
  counted in the file's ``not_a_model_call`` summary. A file of logs only thus
  yields no rows and says why.
* Attribute values nested deeper than :data:`ATTR_DEPTH` array/kvlist levels
  (log bodies: :data:`BODY_DEPTH`) are cut: the deeper levels read as JSON
  ``null`` and the line is reported (``bad_value``). The fixed dtype grows
  exponentially with depth (each level has an array and a kvlist branch), and
  SDKs emit only primitives and arrays of primitives as span attributes.
* A line whose values do not fit the dtype at all (e.g. an attribute ``value``
  that is a bare string or number, as hand-written exporters emit) is re-read
  with its odd attribute values taken as text (one ``bad_value`` row for the
  line); a line that still does not fit is reported (``unknown_shape``), the
  rest of the file is read.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import orjson
import polars as pl

from . import spans as span_frames
from .jsonl import RAW, line_problems, parse_object, robust_decode
from .problems import BAD_VALUE, PROBLEM_SCHEMA, SKIPPED, UNKNOWN_SHAPE
from .fields import parse_time
from .source import Format, Source

# ---- the fixed dtype of one OTLP JSON line ---------------------------------------

#: AnyValue fields decoded as text (numbers and booleans as their JSON text).
ANY_SCALARS = ("stringValue", "boolValue", "intValue", "doubleValue", "bytesValue")
#: Array/kvlist levels decoded below an attribute value; a deeper level is cut.
ATTR_DEPTH = 2
#: Levels decoded below a log record body: a §1b ``gen_ai.choice`` body nests
#: message -> tool_calls -> call -> function -> name / arguments, five levels.
BODY_DEPTH = 5
#: Placeholder written where a value is nested deeper than decoded (a raw NUL
#: cannot occur in the JSON text built here: nested strings are JSON-escaped).
CUT = "\x00"


def any_value_dtype(depth: int) -> pl.Struct:
    """Fixed dtype of an OTLP ``AnyValue`` with ``depth`` array/kvlist levels below it.

    At depth 0 ``arrayValue`` / ``kvlistValue`` decode as empty structs: they
    accept any object and only say that a deeper level was there (cut).
    """
    fields: dict[str, pl.DataType] = {k: pl.String() for k in ANY_SCALARS}
    if depth <= 0:
        fields["arrayValue"] = pl.Struct({})
        fields["kvlistValue"] = pl.Struct({})
    else:
        inner = any_value_dtype(depth - 1)
        fields["arrayValue"] = pl.Struct({"values": pl.List(inner)})
        fields["kvlistValue"] = pl.Struct({"values": pl.List(pl.Struct({"key": pl.String, "value": inner}))})
    return pl.Struct(fields)


KV_DTYPE = pl.List(pl.Struct({"key": pl.String, "value": any_value_dtype(ATTR_DEPTH)}))
RESOURCE_DTYPE = pl.Struct({"attributes": KV_DTYPE})
SCOPE_DTYPE = pl.Struct({"name": pl.String})
SPAN_DTYPE = pl.Struct(
    {
        "traceId": pl.String,
        "spanId": pl.String,
        "parentSpanId": pl.String,
        "name": pl.String,
        "kind": pl.String,
        "startTimeUnixNano": pl.String,
        "endTimeUnixNano": pl.String,
        "attributes": KV_DTYPE,
        "events": pl.List(pl.Struct({"timeUnixNano": pl.String, "name": pl.String, "attributes": KV_DTYPE})),
        "status": pl.Struct({"code": pl.String, "message": pl.String}),
    }
)
LOG_DTYPE = pl.Struct(
    {
        "timeUnixNano": pl.String,
        "observedTimeUnixNano": pl.String,
        "traceId": pl.String,
        "spanId": pl.String,
        "eventName": pl.String,
        "body": any_value_dtype(BODY_DEPTH),
        "attributes": KV_DTYPE,
    }
)
_RESOURCE_SPANS = pl.List(pl.Struct({"resource": RESOURCE_DTYPE, "scopeSpans": pl.List(pl.Struct({"scope": SCOPE_DTYPE, "spans": pl.List(SPAN_DTYPE)}))}))
_RESOURCE_LOGS = pl.List(pl.Struct({"resource": RESOURCE_DTYPE, "scopeLogs": pl.List(pl.Struct({"scope": SCOPE_DTYPE, "logRecords": pl.List(LOG_DTYPE)}))}))
#: One line: an ExportTraceServiceRequest and/or ExportLogsServiceRequest.
LINE_DTYPE = pl.Struct({"resourceSpans": _RESOURCE_SPANS, "resourceLogs": _RESOURCE_LOGS})
#: A line without the text ``"resourceLogs"``: an ExportTraceServiceRequest.
SPAN_LINE_DTYPE = pl.Struct({"resourceSpans": _RESOURCE_SPANS})


# ---- value expressions -------------------------------------------------------------


def json_string(e: pl.Expr) -> pl.Expr:
    """A string expression as JSON string text (quoted, escaped); null -> ``null``."""
    return pl.struct(e.alias("s")).struct.json_encode().str.slice(5).str.strip_suffix("}")


def _json_number(e: pl.Expr) -> pl.Expr:
    """Number/boolean text as JSON: kept when it is a JSON number or boolean, else quoted
    (proto3 JSON writes NaN / Infinity doubles and may write int64 as strings)."""
    ok = e.str.contains(r"^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)$")
    return pl.when(ok).then(e).when(e.is_not_null()).then(json_string(e))


def _scalar_texts(v: pl.Expr, nested: bool) -> list[pl.Expr]:
    """Text of the scalar fields of an AnyValue struct: string, number/boolean, bytes
    (quoted when ``nested``; null when the field is absent)."""
    f = v.struct.field
    string, data = f("stringValue"), f("bytesValue")
    number = pl.coalesce(f("boolValue"), f("intValue"), f("doubleValue"))
    if nested:
        string = pl.when(string.is_not_null()).then(json_string(string))
        data = pl.when(data.is_not_null()).then(json_string(data))
        number = _json_number(number)
    return [string, number, data]


def any_value_text(v: pl.Expr, depth: int, nested: bool = False) -> pl.Expr:
    """Text of an AnyValue struct (dtype :func:`any_value_dtype` (``depth``)), per the
    ATTRS contract of spans.py: a string as is, a number / boolean as its JSON
    text, an array as a JSON array of the plain values, a kvlist as a JSON object.

    ``nested``: the value sits inside an array/kvlist, so strings are JSON-quoted
    and an empty value is ``null``. An empty AnyValue at the top is null. A level
    deeper than decoded is the :data:`CUT` placeholder. The expression holds two
    branches per level (2**depth in all): for small depths only (attributes); see
    :func:`any_value_texts` for deep values.
    """
    f = v.struct.field
    parts = _scalar_texts(v, nested)
    if depth <= 0:
        parts.append(pl.when(f("arrayValue").is_not_null() | f("kvlistValue").is_not_null()).then(pl.lit(CUT)))
    else:
        items = f("arrayValue").struct.field("values")
        array = pl.concat_str([pl.lit("["), items.list.eval(any_value_text(pl.element(), depth - 1, True)).list.join(","), pl.lit("]")])
        pairs = f("kvlistValue").struct.field("values")
        member = pl.concat_str([json_string(pl.element().struct.field("key")), pl.lit(":"), any_value_text(pl.element().struct.field("value"), depth - 1, True)])
        kvlist = pl.concat_str([pl.lit("{"), pairs.list.eval(member).list.join(","), pl.lit("}")])
        parts.append(pl.when(f("arrayValue").is_not_null()).then(pl.when(items.is_not_null()).then(array).otherwise(pl.lit("[]"))))
        parts.append(pl.when(f("kvlistValue").is_not_null()).then(pl.when(pairs.is_not_null()).then(kvlist).otherwise(pl.lit("{}"))))
    if nested:
        parts.append(pl.lit("null"))
    return pl.coalesce(parts)


def any_value_texts(df: pl.DataFrame, depth: int) -> pl.DataFrame:
    """Text of deep AnyValues (same rules as :func:`any_value_text`), one tree level
    at a time, so the work grows with ``depth``, not 2**depth.

    Input: ``_vid`` (i64, unique), ``v`` (:func:`any_value_dtype` (``depth``)).
    Output: ``_vid``, ``text`` (str; null for an empty value; :data:`CUT` where a
    level deeper than ``depth`` was cut). The children of every level (array
    items and kvlist members alike: they share one dtype) are exploded into one
    frame; texts are then built bottom-up, each parent joining its children's
    texts in order.
    """
    levels = [df.select(pl.col("_vid").alias("_nid"), "v")]
    for _ in range(depth):
        f = pl.col("v").struct.field
        up = levels[-1]
        items = up.select(pl.col("_nid").alias("_parent"), f("arrayValue").struct.field("values").alias("c")).explode("c", keep_nulls=False)
        pairs = up.select(pl.col("_nid").alias("_parent"), f("kvlistValue").struct.field("values").alias("c")).explode("c", keep_nulls=False)
        child = pl.concat(
            [
                items.select("_parent", pl.lit(None, dtype=pl.String).alias("key"), pl.lit(False).alias("_kv"), pl.col("c").alias("v")),
                pairs.select("_parent", pl.col("c").struct.field("key").alias("key"), pl.lit(True).alias("_kv"), pl.col("c").struct.field("value").alias("v")),
            ]
        )
        levels.append(child.with_row_index("_nid").with_columns(pl.col("_nid").cast(pl.Int64)))
    below: pl.DataFrame | None = None
    for level in range(depth, -1, -1):
        node = levels[level]
        f = pl.col("v").struct.field
        parts = _scalar_texts(pl.col("v"), level > 0)
        if below is None:
            parts.append(pl.when(f("arrayValue").is_not_null() | f("kvlistValue").is_not_null()).then(pl.lit(CUT)))
        else:
            member = pl.concat_str([json_string(pl.col("key")), pl.lit(":"), pl.col("text")])
            arrays = below.filter(~pl.col("_kv")).group_by("_parent", maintain_order=True).agg(pl.col("text").str.join(",").alias("_items"))
            kvs = below.filter(pl.col("_kv")).group_by("_parent", maintain_order=True).agg(member.str.join(",").alias("_members"))
            node = node.join(arrays, left_on="_nid", right_on="_parent", how="left").join(kvs, left_on="_nid", right_on="_parent", how="left")
            parts.append(pl.when(f("arrayValue").is_not_null()).then(pl.concat_str([pl.lit("["), pl.col("_items").fill_null(""), pl.lit("]")])))
            parts.append(pl.when(f("kvlistValue").is_not_null()).then(pl.concat_str([pl.lit("{"), pl.col("_members").fill_null(""), pl.lit("}")])))
        if level > 0:
            parts.append(pl.lit("null"))
        text = pl.coalesce(parts).alias("text")
        below = node.select(*(["_parent", "key", "_kv"] if level > 0 else ["_nid"]), text)
    assert below is not None
    return below.rename({"_nid": "_vid"})


def hex_id(e: pl.Expr, nbytes: int) -> pl.Expr:
    """Trace / span id as lowercase hex (trace-formats.md §1).

    Input: the id text: hex (``0x`` prefix allowed, as the console exporter writes
    it) or base64 of ``nbytes`` bytes (24 / 12 characters, as some exporters emit).
    Output: lowercase hex; null for an empty or all-zero id (no parent); any other
    text is kept as sent (so parent links inside the file still join).
    """
    s = e.str.strip_chars().str.strip_prefix("0x").str.strip_prefix("0X")
    decoded = s.str.decode("base64", strict=False)
    out = (
        pl.when(s.str.contains(f"^[0-9a-fA-F]{{{2 * nbytes}}}$"))
        .then(s.str.to_lowercase())
        .when(decoded.bin.size() == nbytes)
        .then(decoded.bin.encode("hex"))
        .otherwise(s)
    )
    return out.replace({"": None, "0" * (2 * nbytes): None})


def unix_nano(e: pl.Expr) -> pl.Expr:
    """``*UnixNano`` (decimal text; number or string in the file) -> datetime[us, UTC];
    0 or missing (unset) -> null."""
    ns = e.cast(pl.Int64, strict=False)
    ns = pl.coalesce(ns, e.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False))
    return pl.when(ns > 0).then(pl.from_epoch(ns // 1000, time_unit="us").dt.replace_time_zone("UTC"))


_KINDS = {"0": "unspecified", "1": "internal", "2": "server", "3": "client", "4": "producer", "5": "consumer"}
_STATUS = {"0": "unset", "1": "ok", "2": "error"}


def _enum_name(e: pl.Expr, prefixes: tuple[str, ...], numbers: dict[str, str], default: str | None) -> pl.Expr:
    s = e.str.strip_chars().str.to_lowercase()
    for p in prefixes:
        s = s.str.strip_prefix(p)
    s = s.replace(numbers)
    return s.fill_null(default) if default is not None else s


def span_kind(e: pl.Expr) -> pl.Expr:
    """``kind`` as int (3), OTLP name (``SPAN_KIND_CLIENT``) or Python repr
    (``SpanKind.CLIENT``) -> lowercase name (client); missing -> unspecified."""
    return _enum_name(e, ("span_kind_", "spankind."), _KINDS, "unspecified")


def status_code(e: pl.Expr) -> pl.Expr:
    """``status.code`` as int (2), OTLP name (``STATUS_CODE_ERROR``) or Python repr
    (``StatusCode.ERROR`` / ``ERROR``) -> unset / ok / error; missing -> unset."""
    return _enum_name(e, ("status_code_", "statuscode."), _STATUS, "unset")


def _attr_value(attrs: pl.Expr, key: str) -> pl.Expr:
    """First ``stringValue`` of attribute ``key`` in a KV list (resource ``service.name``,
    log ``event.name``)."""
    kv = pl.element()
    return attrs.list.eval(kv.filter(kv.struct.field("key") == key).struct.field("value").struct.field("stringValue")).list.first()


def _kv_long(df: pl.DataFrame, ids: list[str], col: str, depth: int, keep_empty: bool = False) -> pl.DataFrame:
    """Explode a KV list column into rows ``ids..., key, value, _cut``.

    ``keep_empty``: a null/empty list gives one row with null key/value (events
    without attributes), else no row. ``_cut``: the value was nested deeper than
    ``depth`` (its text holds :data:`CUT`, replaced here by ``null``).
    """
    long = df.select(*ids, col).explode(col, empty_as_null=keep_empty, keep_nulls=keep_empty)
    if not keep_empty and long.get_column(col).null_count():
        long = long.filter(pl.col(col).is_not_null())
    v = pl.col(col).struct.field("value")
    text = any_value_text(v, depth)
    long = long.lazy().select(*ids, pl.col(col).struct.field("key").alias("key"), text.alias("value")).collect()
    return _uncut(long, "value", "_cut")


def _uncut(df: pl.DataFrame, col: str, flag: str) -> pl.DataFrame:
    """Flag the texts of ``col`` holding :data:`CUT` and write ``null`` there
    (the replacement, a copy of the column, only when some text was cut)."""
    df = df.with_columns(pl.col(col).str.contains(CUT, literal=True).fill_null(False).alias(flag))
    if df.get_column(flag).any():
        df = df.with_columns(pl.col(col).str.replace_all(CUT, "null", literal=True))
    return df


#: The one resource attribute copied into ATTRS: the Phoenix project, an
#: OpenInference route key (trace-formats.md §2, §11).
PROJECT_KEY = "openinference.project.name"


def with_project(attrs: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """ATTRS plus a :data:`PROJECT_KEY` row for each span whose resource names a
    project (``spans``: ``_sid``, ``_project``) and that does not carry the key itself."""
    project = spans.filter(pl.col("_project").is_not_null())
    if project.height == 0:
        return attrs
    own = attrs.filter(pl.col("key") == PROJECT_KEY).select("_sid")
    rows = project.join(own, on="_sid", how="anti").select("_sid", pl.lit(PROJECT_KEY).alias("key"), pl.col("_project").alias("value"), pl.lit(False).alias("_cut"))
    return pl.concat([attrs, rows], how="vertical_relaxed")


def _explode_struct_list(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """One row per non-null element of list column ``col`` (null/empty lists give none)."""
    out = df.explode(col, keep_nulls=False)
    return out.filter(pl.col(col).is_not_null()) if out.get_column(col).null_count() else out


def span_frames_from_lines(dec: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Decoded OTLP lines -> (SPANS, ATTRS, EVENTS) DataFrames of spans.py's contract.

    Input: columns ``source_line`` (i64) and ``rs`` (the lines' ``resourceSpans``,
    dtype of :data:`SPAN_LINE_DTYPE`'s field), in file order. ATTRS and EVENTS
    carry an extra ``_cut`` (bool) column (see :func:`_kv_long`). ``_sid`` numbers
    the spans in file order from 0.
    """
    resource = pl.col("rs").struct.field("resource").struct.field("attributes")
    rs = _explode_struct_list(dec, "rs").select(
        "source_line",
        _attr_value(resource, "service.name").alias("service_name"),
        _attr_value(resource, PROJECT_KEY).alias("_project"),
        pl.col("rs").struct.field("scopeSpans").alias("ss"),
    )
    ss = _explode_struct_list(rs, "ss")
    del rs
    ss = ss.select(
        "source_line",
        "service_name",
        "_project",
        pl.col("ss").struct.field("scope").struct.field("name").alias("scope_name"),
        pl.col("ss").struct.field("spans").alias("span"),
    )
    sp = _explode_struct_list(ss, "span").with_row_index("_sid").with_columns(pl.col("_sid").cast(pl.Int64))
    del ss
    f = pl.col("span").struct.field
    spans = sp.lazy().select(
        "_sid",
        "source_line",
        hex_id(f("traceId"), 16).alias("trace_id"),
        hex_id(f("spanId"), 8).alias("span_id"),
        hex_id(f("parentSpanId"), 8).alias("parent_span_id"),
        f("name").alias("name"),
        span_kind(f("kind")).alias("kind"),
        unix_nano(f("startTimeUnixNano")).alias("start_time"),
        unix_nano(f("endTimeUnixNano")).alias("end_time"),
        status_code(f("status").struct.field("code")).alias("status_code"),
        f("status").struct.field("message").alias("status_message"),
        "service_name",
        "scope_name",
    ).collect()
    attrs = with_project(_kv_long(sp.select("_sid", f("attributes").alias("attributes")), ["_sid"], "attributes", ATTR_DEPTH), sp)
    ev = _explode_struct_list(sp.select("_sid", f("events").alias("ev")), "ev")
    e = pl.col("ev").struct.field
    ev = ev.select(
        "_sid",
        pl.int_range(pl.len(), dtype=pl.Int64).over("_sid").alias("event_index"),
        e("name").alias("event_name"),
        unix_nano(e("timeUnixNano")).alias("time"),
        e("attributes").alias("attributes"),
    )
    events = _kv_long(ev, ["_sid", "event_index", "event_name", "time"], "attributes", ATTR_DEPTH, keep_empty=True)
    return spans, attrs, events


def log_records_from_lines(dec: pl.DataFrame) -> pl.DataFrame:
    """Decoded OTLP lines -> one row per log record: ``_lid`` (i64, file order),
    ``source_line``, ``trace_id``, ``span_id``, ``event_name`` (``eventName``, else
    attribute ``event.name``), ``time`` (datetime[us, UTC]), ``body`` (str, the
    body as text, :func:`any_value_text`), ``_body_cut`` (bool), ``attributes``
    (KV list, undecoded)."""
    if dec.height == 0:
        dec = pl.DataFrame(schema={"source_line": pl.Int64, "_d": LINE_DTYPE})
    rl = dec.select("source_line", pl.col("_d").struct.field("resourceLogs").alias("rl"))
    rl = _explode_struct_list(rl, "rl").select("source_line", pl.col("rl").struct.field("scopeLogs").alias("sl"))
    sl = _explode_struct_list(rl, "sl").select("source_line", pl.col("sl").struct.field("logRecords").alias("lr"))
    lr = _explode_struct_list(sl, "lr").with_row_index("_lid").with_columns(pl.col("_lid").cast(pl.Int64))
    f = pl.col("lr").struct.field
    body = any_value_texts(lr.select(pl.col("_lid").alias("_vid"), f("body").alias("v")), BODY_DEPTH)
    lr = lr.join(body.rename({"_vid": "_lid", "text": "body"}), on="_lid", how="left", maintain_order="left")
    out = lr.select(
        "_lid",
        "source_line",
        hex_id(f("traceId"), 16).alias("trace_id"),
        hex_id(f("spanId"), 8).alias("span_id"),
        pl.coalesce(f("eventName").replace("", None), _attr_value(f("attributes"), "event.name")).alias("event_name"),
        pl.coalesce(unix_nano(f("timeUnixNano")), unix_nano(f("observedTimeUnixNano"))).alias("time"),
        "body",
        f("attributes").alias("attributes"),
    )
    return _uncut(out, "body", "_body_cut")


# ---- lines whose values do not fit the dtype: re-read with odd values as text -----------
#
# Only the lines that failed the one native decode come here (usually none). This
# is per-line Python (orjson parse, then a walk of the attribute lists that checks
# each value against the same rules as the fixed dtype), kept to those lines.

_SANITIZED = pl.Struct({"line": pl.String, "odd": pl.Int64, "first": pl.String})


def _is_scalar(x: object) -> bool:
    return not isinstance(x, (dict, list))


def _fits(v: object, depth: int) -> bool:
    """Whether ``v`` decodes as :func:`any_value_dtype` (``depth``)."""
    if v is None:
        return True
    if not isinstance(v, dict) or not all(_is_scalar(v.get(k)) for k in ANY_SCALARS):
        return False
    for name in ("arrayValue", "kvlistValue"):
        box = v.get(name)
        if box is None:
            continue
        if not isinstance(box, dict):
            return False
        items = box.get("values") if depth > 0 else None
        if items is None:
            continue
        if not isinstance(items, list):
            return False
        for item in items:
            if name == "arrayValue" and not _fits(item, depth - 1):
                return False
            if name == "kvlistValue" and item is not None and not (isinstance(item, dict) and _is_scalar(item.get("key")) and _fits(item.get("value"), depth - 1)):
                return False
    return True


def _as_text(v: object) -> dict:
    return {"stringValue": v if isinstance(v, str) else orjson.dumps(v).decode()}


def _fix_kvs(kvs: object, depth: int, odd: list[str]) -> object:
    """An attribute list with each value that does not fit replaced by its text
    (``odd`` collects the keys); a dict of plain values is taken as key -> value."""
    if isinstance(kvs, dict):
        odd.extend(str(k) for k in kvs)
        return [{"key": str(k), "value": _as_text(v)} for k, v in kvs.items()]
    if not isinstance(kvs, list):
        return kvs
    out = []
    for kv in kvs:
        if not isinstance(kv, dict):
            odd.append("(not a key/value object)")
            continue
        key, value = kv.get("key"), kv.get("value")
        if not _is_scalar(key):
            key = orjson.dumps(key).decode()
            odd.append(key)
        if not _fits(value, depth):
            odd.append(str(key))
            value = _as_text(value)
        out.append({"key": key, "value": value})
    return out


def _dicts(x: object, key: str) -> list:
    items = x.get(key) if isinstance(x, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _sanitize_line(line: str) -> dict:
    obj = orjson.loads(line)
    odd: list[str] = []
    for group, scopes, records, body in (("resourceSpans", "scopeSpans", "spans", False), ("resourceLogs", "scopeLogs", "logRecords", True)):
        for res in _dicts(obj, group):
            if isinstance(res.get("resource"), dict) and "attributes" in res["resource"]:
                res["resource"]["attributes"] = _fix_kvs(res["resource"]["attributes"], ATTR_DEPTH, odd)
            for scope in _dicts(res, scopes):
                for rec in _dicts(scope, records):
                    if "attributes" in rec:
                        rec["attributes"] = _fix_kvs(rec["attributes"], ATTR_DEPTH, odd)
                    for event in _dicts(rec, "events"):
                        if "attributes" in event:
                            event["attributes"] = _fix_kvs(event["attributes"], ATTR_DEPTH, odd)
                    if body and not _fits(rec.get("body"), BODY_DEPTH):
                        odd.append("(log body)")
                        rec["body"] = _as_text(rec["body"])
    return {"line": orjson.dumps(obj).decode(), "odd": len(odd), "first": odd[0] if odd else None}


def _sanitize_batch(s: pl.Series) -> pl.Series:
    return pl.Series([_sanitize_line(x) for x in s.to_list()], dtype=_SANITIZED)


def _redecode(failed: pl.DataFrame, path: str) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Lines that failed the native decode: decode again with odd values as text.

    Input: ``source_line``, ``_raw``. Output: (rows ``source_line``, ``_d`` that now
    decode, problem frames: one ``bad_value`` row per line with odd values, one
    ``unknown_shape`` row per line that still does not fit)."""
    fixed = failed.select("source_line", pl.col(RAW).map_batches(_sanitize_batch, return_dtype=_SANITIZED).alias("_s")).unnest("_s")
    fixed = fixed.with_columns(robust_decode(pl.col("line"), LINE_DTYPE).alias("_d"))
    ok = fixed.filter(pl.col("_d").is_not_null())
    bad_value = ok.filter(pl.col("odd") > 0).select(
        pl.lit(path).alias("source_file"),
        "source_line",
        pl.lit(BAD_VALUE).alias("kind"),
        pl.format("{} attribute value(s) not in OTLP AnyValue form (first: {}), read as text", "odd", pl.col("first")).alias("reason"),
    )
    still = fixed.filter(pl.col("_d").is_null()).select(
        pl.lit(path).alias("source_file"),
        "source_line",
        pl.lit(UNKNOWN_SHAPE).alias("kind"),
        pl.lit("OTLP JSON line whose structure does not fit ExportTraceServiceRequest / ExportLogsServiceRequest (trace-formats.md §1)").alias("reason"),
    )
    return ok.select("source_line", "_d"), [bad_value, still]


# ---- log records -> events of their span ----------------------------------------------


def attach_logs(spans: pl.DataFrame, events: pl.DataFrame, logs: pl.DataFrame, path: str) -> tuple[pl.DataFrame, list[pl.DataFrame], int]:
    """Log records of a span of this file become EVENTS rows of that span.

    Input: SPANS, EVENTS (with ``_cut``) and :func:`log_records_from_lines` rows.
    Output: (EVENTS with the log rows added after each span's own events: one row
    per log attribute plus key ``body``; a record with neither gives one row with
    null key/value), problem frames (one ``unknown_shape`` row per line holding
    ``gen_ai.*`` records with no span in the file), the number of other records
    with no span in the file (for the file's ``not_a_model_call`` summary).
    """
    if logs.height == 0:
        return events, [], 0
    keys = spans.filter(pl.col("trace_id").is_not_null() & pl.col("span_id").is_not_null())
    keys = keys.select("trace_id", "span_id", "_sid").unique(["trace_id", "span_id"], keep="first", maintain_order=True)
    logs = logs.join(keys, on=["trace_id", "span_id"], how="left", maintain_order="left")
    orphan = logs.filter(pl.col("_sid").is_null())
    genai = orphan.filter(pl.col("event_name").str.starts_with("gen_ai.").fill_null(False))
    named = genai.group_by("source_line", "event_name").len().sort("source_line", "len", "event_name", descending=[False, True, False])
    problems = [
        named.group_by("source_line", maintain_order=True)
        .agg(pl.col("len").sum().alias("n"), pl.format("{} {}", "event_name", "len").str.join(", ").alias("names"))
        .select(
            pl.lit(path).alias("source_file"),
            "source_line",
            pl.lit(UNKNOWN_SHAPE).alias("kind"),
            pl.format(
                "{} GenAI log record(s) ({}) whose span is not in this file; log events are read as events of their span, so export spans and logs to the same file (trace-formats.md §1 Logs)",
                "n",
                "names",
            ).alias("reason"),
        )
    ]
    matched = logs.filter(pl.col("_sid").is_not_null()).sort("_sid", "_lid")
    if matched.height == 0:
        return events, problems, orphan.height - genai.height
    offset = events.group_by("_sid").agg((pl.col("event_index").max() + 1).alias("_n"))
    matched = matched.join(offset, on="_sid", how="left").with_columns(
        (pl.col("_n").fill_null(0) + pl.int_range(pl.len(), dtype=pl.Int64).over("_sid")).alias("event_index")
    )
    ids = ["_sid", "event_index", "event_name", "time"]
    attr_rows = _kv_long(matched, ids, "attributes", ATTR_DEPTH)
    body_rows = matched.filter(pl.col("body").is_not_null()).select(*ids, pl.lit("body").alias("key"), "body", "_body_cut").rename({"body": "value", "_body_cut": "_cut"})
    rows = pl.concat([attr_rows, body_rows], how="vertical_relaxed")
    empty = matched.join(rows, on=["_sid", "event_index"], how="anti").select(
        *ids, pl.lit(None, dtype=pl.String).alias("key"), pl.lit(None, dtype=pl.String).alias("value"), pl.lit(False).alias("_cut")
    )
    out = pl.concat([events, rows, empty], how="vertical_relaxed").sort("_sid", "event_index", maintain_order=True)
    return out, problems, orphan.height - genai.height


def cut_problems(spans: pl.DataFrame, attrs: pl.DataFrame, events: pl.DataFrame, path: str) -> pl.DataFrame:
    """One ``bad_value`` row per line holding values nested deeper than decoded."""
    cut = pl.concat([attrs.filter("_cut").select("_sid", "key"), events.filter("_cut").select("_sid", "key")])
    if cut.height == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    cut = cut.join(spans.select("_sid", "source_line", "span_id"), on="_sid", how="left")
    return (
        cut.group_by("source_line", maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("span_id").first(), pl.col("key").first())
        .select(
            pl.lit(path).alias("source_file"),
            "source_line",
            pl.lit(BAD_VALUE).alias("kind"),
            pl.format(
                "{} value(s) nested deeper than this reader decodes ({} array/kvlist levels, {} in a log body; first: span {} {}); the deeper levels read as null",
                "n",
                pl.lit(ATTR_DEPTH),
                pl.lit(BODY_DEPTH),
                pl.col("span_id").fill_null("?"),
                pl.col("key").fill_null("body"),
            ).alias("reason"),
        )
    )


# ---- readers ------------------------------------------------------------------------

#: Lines are decoded in slices of about this many bytes, so that a line that does
#: not decode costs a bisection of its slice only (``jsonl.robust_decode``).
DECODE_SLICE_BYTES = 32 << 20

def _line_error(line: str | None) -> str | None:
    """Why a line that did not decode is not a record: malformed JSON or not an
    object (as ``jsonl.read_checked_lines`` says it); None for a JSON object."""
    return parse_object(line)[1]


def _check_batch(s: pl.Series) -> pl.Series:
    return pl.Series([_line_error(x) for x in s.to_list()], dtype=pl.String)


def read_lines(src: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A JSON-lines Source -> (``source_line`` i64 (1-based), ``_raw`` of its
    non-blank lines; problem rows for blank lines). A ``\\r`` before the newline
    is removed."""
    lf = pl.scan_lines(src.target, name=RAW, row_index_name="source_line", row_index_offset=1)
    df = lf.with_columns(pl.col("source_line").cast(pl.Int64), pl.col(RAW).str.strip_suffix("\r")).collect()
    blank = pl.col(RAW).str.contains(r"^\s*$")
    problems = line_problems(df.filter(blank).select("source_line", pl.lit("blank line").alias("_error")), src.path)
    return df.filter(~blank), problems


def decode_slices(lines: pl.DataFrame, dtype: pl.DataType) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decode every line ONCE into ``dtype`` (native decoder, slices of about
    :data:`DECODE_SLICE_BYTES`). Input: ``source_line``, ``_raw``. Output: (the
    lines that decoded, with ``_d``; ``source_line``, ``_raw`` of those that did not)."""
    ends = lines.select((pl.col(RAW).str.len_bytes().cast(pl.Int64).cum_sum() // DECODE_SLICE_BYTES).alias("c")).get_column("c")
    bounds = pl.DataFrame({"c": ends}).with_row_index("i").group_by("c", maintain_order=True).agg(pl.col("i").first(), pl.len())
    slices = [lines.slice(i, n) for i, n in bounds.select("i", "len").iter_rows()]

    def decode(part: pl.DataFrame) -> pl.DataFrame:
        # Native decode of the slice (LazyFrame.collect releases the GIL, so
        # slices decode in parallel); a slice holding a line that does not fit
        # is decoded again with the bad lines isolated (jsonl.robust_decode).
        try:
            return part.lazy().with_columns(pl.col(RAW).str.json_decode(dtype).alias("_d")).collect()
        except Exception:  # noqa: BLE001 - any decode failure: isolate the bad lines
            return part.with_columns(robust_decode(pl.col(RAW), dtype).alias("_d"))

    if len(slices) > 1:
        with ThreadPoolExecutor(max_workers=min(len(slices), pl.thread_pool_size())) as pool:
            parts = list(pool.map(decode, slices))
    else:
        parts = [decode(p) for p in slices]
    del slices
    dec = pl.concat(parts) if parts else lines.with_columns(pl.lit(None, dtype=dtype).alias("_d"))
    del parts
    failed = dec.filter(pl.col("_d").is_null()).select("source_line", RAW)
    return (dec.filter(pl.col("_d").is_not_null()) if failed.height else dec), failed


def check_failed(failed: pl.DataFrame, path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines the native decoder rejected, parsed with orjson (only these): (JSON
    objects, to be read again; problem rows for malformed JSON / non-objects, as
    ``jsonl.line_problems``)."""
    failed = failed.with_columns(pl.col(RAW).map_batches(_check_batch, return_dtype=pl.String).alias("_error"))
    return failed.filter(pl.col("_error").is_null()).select("source_line", RAW), line_problems(failed, path)


def decode_lines(src: Source, dtype: pl.DataType, keep_raw: bool = False) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Read a JSON-lines Source and decode every line ONCE into ``dtype``.

    The native decoder runs first; only the lines it rejects are parsed with
    orjson, to tell malformed JSON (reported) from JSON objects of values of
    another type (returned for a second reading), so good lines are never parsed
    twice. Output: (``source_line`` i64 (1-based), ``_d`` (``dtype``) and, with
    ``keep_raw``, ``_raw`` for the lines that decoded; ``source_line``, ``_raw``
    of JSON objects that did not fit ``dtype``; problem rows for blank and
    malformed lines). Errors: none.
    """
    lines, blank = read_lines(src)
    dec, failed = decode_slices(lines, dtype)
    del lines
    objects, bad = check_failed(failed, src.path)
    return (dec if keep_raw else dec.drop(RAW)), objects, pl.concat([blank, bad])


def _no_otlp(dec: pl.DataFrame, path: str) -> pl.DataFrame:
    d = pl.col("_d").struct.field
    logs = d("resourceLogs").is_null() if "resourceLogs" in dec.schema["_d"].to_schema() else pl.lit(True)
    return dec.filter(d("resourceSpans").is_null() & logs).select(
        pl.lit(path).alias("source_file"),
        "source_line",
        pl.lit(UNKNOWN_SHAPE).alias("kind"),
        pl.lit("JSON object without resourceSpans or resourceLogs (not an OTLP export request)").alias("reason"),
    )


def _with_skipped_logs(problems: pl.DataFrame, n_logs: int, path: str) -> pl.DataFrame:
    """Fold "N log records have no span in this file" into the file's one summary row."""
    if n_logs == 0:
        return problems
    note = f"{n_logs} log record{'s have' if n_logs != 1 else ' has'} no span in this file and no gen_ai.* name"
    is_skip = pl.col("kind") == SKIPPED
    if problems.filter(is_skip).height:
        return problems.with_columns(pl.when(is_skip).then(pl.concat_str([pl.col("reason"), pl.lit("; " + note)])).otherwise(pl.col("reason")).alias("reason"))
    row = pl.DataFrame({"source_file": [path], "source_line": [None], "kind": [SKIPPED], "reason": [note]}, schema=PROBLEM_SCHEMA)
    return pl.concat([problems, row])


def _finish(spans: pl.DataFrame, attrs: pl.DataFrame, events: pl.DataFrame, path: str, problems: list[pl.DataFrame], n_logs: int = 0) -> tuple[pl.LazyFrame, pl.DataFrame]:
    problems.append(cut_problems(spans, attrs, events, path))
    lf, found = span_frames.to_canonical(spans.lazy(), attrs.drop("_cut").lazy(), events.drop("_cut").lazy(), path)
    problems.append(_with_skipped_logs(found, n_logs, path))
    frames = [p.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA) for p in problems if p.height]
    found = pl.concat(frames).sort("source_line", nulls_last=True, maintain_order=True) if frames else pl.DataFrame(schema=PROBLEM_SCHEMA)
    return lf, found


def read_frames(src: Source) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[pl.DataFrame], int]:
    """An OTLP JSON-lines Source -> span frames (trace-formats.md §1).

    Output: (SPANS, ATTRS, EVENTS DataFrames of spans.py's contract, ATTRS and
    EVENTS with an extra ``_cut`` bool column; the log records of a span of the
    file are in EVENTS (module doc); problem frames: blank / malformed lines,
    lines that are not OTLP, ``bad_value`` lines, orphan GenAI log records; the
    number of other log records without a span in the file). Errors: none.
    """
    lines, blank = read_lines(src)
    problems = [blank]
    # Lines of logs requests decode with the whole dtype; the others without the
    # resourceLogs branch, whose deep body dtype slows the decoder even where absent.
    is_logs = pl.col(RAW).str.contains('"resourceLogs"', literal=True)
    span_lines, failed = decode_slices(lines.filter(~is_logs), SPAN_LINE_DTYPE)
    log_lines, failed_logs = decode_slices(lines.filter(is_logs), LINE_DTYPE)
    del lines
    objects, found = check_failed(pl.concat([failed, failed_logs]), src.path)
    problems.append(found)
    if objects.height:
        fixed, found = _redecode(objects, src.path)
        problems.extend(found)
        log_lines = pl.concat([log_lines.drop(RAW), fixed])
    problems += [_no_otlp(span_lines, src.path), _no_otlp(log_lines, src.path)]
    rs = [d.select("source_line", pl.col("_d").struct.field("resourceSpans").alias("rs")) for d in (span_lines, log_lines) if d.height]
    del span_lines
    rs = pl.concat(rs).sort("source_line") if len(rs) > 1 else rs[0] if rs else pl.DataFrame(schema={"source_line": pl.Int64, "rs": LINE_DTYPE.to_schema()["resourceSpans"]})
    spans, attrs, events = span_frames_from_lines(rs)
    del rs
    logs = log_records_from_lines(log_lines.drop(RAW, strict=False))
    del log_lines
    events, found, n_logs = attach_logs(spans, events, logs, src.path)
    problems.extend(found)
    return spans, attrs, events, problems, n_logs


def read_otlp(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read an OTLP JSON-lines file (trace-formats.md §1).

    Input: a Source of JSON lines. Output: (LazyFrame of canonical rows, one per
    LLM-call span, with the pass-through columns of :func:`.spans.to_canonical`;
    problems DataFrame: those of :func:`read_frames`, lines holding values nested
    deeper than decoded, the ``not_a_model_call`` summary). Errors: RuntimeError
    from :func:`.spans.to_canonical` only.
    """
    spans, attrs, events, problems, n_logs = read_frames(src)
    return _finish(spans, attrs, events, src.path, problems, n_logs)


def is_otlp(obj: dict) -> bool:
    """An ExportTraceServiceRequest / ExportLogsServiceRequest line (trace-formats.md §1, §11)."""
    return "resourceSpans" in obj or "resourceLogs" in obj


# ---- ConsoleSpanExporter objects --------------------------------------------------------

CONSOLE_DTYPE = pl.Struct(
    {
        "name": pl.String,
        "context": pl.Struct({"trace_id": pl.String, "span_id": pl.String}),
        "kind": pl.String,
        "parent_id": pl.String,
        "start_time": pl.String,
        "end_time": pl.String,
        "status": pl.Struct({"status_code": pl.String, "description": pl.String}),
    }
)
_KV_TEXT = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
_CONSOLE_DICTS = pl.Struct(
    {
        "attributes": _KV_TEXT,
        "resource": _KV_TEXT,
        "events": pl.List(pl.Struct({"name": pl.String, "timestamp": pl.String, "attributes": _KV_TEXT})),
    }
)


def _items(d: object) -> list[dict]:
    """A flat attribute dict -> [{key, value text}] (a string as is, else its JSON text)."""
    if not isinstance(d, dict):
        return []
    return [{"key": str(k), "value": v if isinstance(v, str) or v is None else orjson.dumps(v).decode()} for k, v in d.items()]


def _console_dicts(line: str) -> dict:
    obj = orjson.loads(line)
    events = obj.get("events")
    resource = obj.get("resource")
    return {
        "attributes": _items(obj.get("attributes")),
        "resource": _items(resource.get("attributes") if isinstance(resource, dict) else None),
        "events": [
            {"name": e.get("name") if isinstance(e.get("name"), str) else None, "timestamp": e.get("timestamp") if isinstance(e.get("timestamp"), str) else None, "attributes": _items(e.get("attributes"))}
            for e in (events if isinstance(events, list) else [])
            if isinstance(e, dict)
        ],
    }


def _console_batch(s: pl.Series) -> pl.Series:
    # The attribute dicts have arbitrary keys, so no fixed dtype can hold them:
    # orjson turns each record's dicts into [{key, value text}] lists (per-record
    # Python through map_batches; console dumps are small debugging files).
    return pl.Series([_console_dicts(x) for x in s.to_list()], dtype=_CONSOLE_DICTS)


def console_frames(src: Source) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[pl.DataFrame]]:
    """ConsoleSpanExporter objects -> span frames (trace-formats.md §1 Variant).

    Input: a Source whose records are the exporter's objects, one a line (the
    ingest layer converts the concatenated pretty objects). Output: (SPANS,
    ATTRS, EVENTS as :func:`read_frames`, ``scope_name`` null: the exporter does
    not print it; problem frames: blank / malformed lines, objects whose
    envelope does not fit). Attribute values: a string as is, anything else its
    JSON text (orjson). Errors: none.
    """
    df, failed, found = decode_lines(src, CONSOLE_DTYPE, keep_raw=True)
    problems = [found]
    problems.append(
        failed.select(
            pl.lit(src.path).alias("source_file"),
            "source_line",
            pl.lit(UNKNOWN_SHAPE).alias("kind"),
            pl.lit("span object whose name/context/kind/times/status do not fit the ConsoleSpanExporter shape").alias("reason"),
        )
    )
    df = df.rename({"_d": "_e"}).with_columns(pl.col(RAW).map_batches(_console_batch, return_dtype=_CONSOLE_DICTS).alias("_x"))
    df = df.drop(RAW).with_row_index("_sid").with_columns(pl.col("_sid").cast(pl.Int64))
    e, x = pl.col("_e").struct.field, pl.col("_x").struct.field
    def resource(key: str) -> pl.Expr:
        return x("resource").list.eval(pl.element().filter(pl.element().struct.field("key") == key).struct.field("value")).list.first()

    service = resource("service.name")
    spans = df.select(
        "_sid",
        "source_line",
        hex_id(e("context").struct.field("trace_id"), 16).alias("trace_id"),
        hex_id(e("context").struct.field("span_id"), 8).alias("span_id"),
        hex_id(e("parent_id"), 8).alias("parent_span_id"),
        e("name").alias("name"),
        span_kind(e("kind")).alias("kind"),
        parse_time(e("start_time")).alias("start_time"),
        parse_time(e("end_time")).alias("end_time"),
        status_code(e("status").struct.field("status_code")).alias("status_code"),
        e("status").struct.field("description").alias("status_message"),
        service.alias("service_name"),
        pl.lit(None, dtype=pl.String).alias("scope_name"),
    )
    attrs = df.select("_sid", x("attributes").alias("a")).explode("a", keep_nulls=False).filter(pl.col("a").is_not_null()).unnest("a")
    no_cut = pl.lit(False).alias("_cut")
    attrs = with_project(attrs.with_columns(no_cut), df.select("_sid", resource(PROJECT_KEY).alias("_project")))
    ev = df.select("_sid", x("events").alias("ev")).explode("ev", keep_nulls=False).filter(pl.col("ev").is_not_null())
    ev = ev.select(
        "_sid",
        pl.int_range(pl.len(), dtype=pl.Int64).over("_sid").alias("event_index"),
        pl.col("ev").struct.field("name").alias("event_name"),
        parse_time(pl.col("ev").struct.field("timestamp")).alias("time"),
        pl.col("ev").struct.field("attributes").alias("a"),
    )
    events = ev.explode("a", empty_as_null=True, keep_nulls=True).with_columns(pl.col("a").struct.field("key"), pl.col("a").struct.field("value")).drop("a")
    return spans, attrs, events.with_columns(no_cut), problems


def read_console(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read the Python ConsoleSpanExporter's span objects: :func:`console_frames`,
    then :func:`.spans.to_canonical`. Output: as :func:`read_otlp`."""
    spans, attrs, events, problems = console_frames(src)
    return _finish(spans, attrs, events, src.path, problems)


def is_console_span(obj: dict) -> bool:
    """A ConsoleSpanExporter object: ``context.{trace_id, span_id}`` and ``kind``
    ``SpanKind.*``. Phoenix span JSON (``span_kind`` + ``context``) is not one."""
    ctx = obj.get("context")
    kind = obj.get("kind")
    return isinstance(ctx, dict) and "trace_id" in ctx and "span_id" in ctx and "span_kind" not in obj and isinstance(kind, str) and kind.startswith("SpanKind.")


FORMATS = [
    Format(
        "otlp",
        "OTLP JSON (collector fileexporter / SDK file exporters): JSON lines with resourceSpans or resourceLogs",
        read_otlp,
        record=is_otlp,
    ),
    Format(
        "otel-console",
        "OTel Python ConsoleSpanExporter output: span objects with context.{trace_id, span_id} and kind SpanKind.*",
        read_console,
        record=is_console_span,
    ),
]
