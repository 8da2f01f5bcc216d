"""Arize Phoenix span exports -> the shared span frames -> canonical rows (trace-formats.md §2).

Containers read (format name ``phoenix``):

* **Span JSON**, one span per JSON line or a JSON array of spans (the ingest layer
  turns arrays into lines): Phoenix ``span_to_json`` / ``TraceDataset`` JSON, the
  REST ``GET /v1/projects/{project}/spans`` span objects and ``px spans --format
  raw``: ``{name, context{trace_id, span_id}, span_kind, parent_id, start_time,
  end_time, status_code, status_message, attributes{}, events[]}``. Also a saved
  REST page ``{"data": [span...], "next_cursor": ...}`` and a ``px trace(s)
  --format raw`` trace ``{"traceId", "spans": [span...]}``: their spans are read,
  all with the line of their record. ``attributes`` may be flat-dotted
  (``"llm.output_messages.0.message.content"``), nested (``{"llm":
  {"output_messages": [{"message": {...}}]}}``) or a mix (Phoenix's
  convention-aware un-flattening: ``{"llm.output_messages": [{"message.content":
  ...}]}``); all are flattened to the same dotted keys first.
* **Dataframes** of ``client.get_spans_dataframe()`` / ``query_spans()`` saved as
  Parquet or CSV, and ``TraceDataset.save()`` Parquet: columns ``name, span_kind,
  parent_id, start_time, end_time, status_code, status_message, events,
  context.span_id, context.trace_id`` and ``attributes.<key>``, where lists are
  un-flattened one level (``attributes.llm.output_messages`` = a list of
  ``{"message.role", "message.content", "message.tool_calls": [...]}``) and token
  counts may be floats. Each row is re-encoded as a span JSON object
  (``struct.json_encode``) and read like span JSON. ``source_line`` is the 0-based
  row index, as for flat tables (``table.py``).

The flattening is the one per-record Python step: an orjson-based ``map_batches``
(:func:`_read_records`) that parses each record once and returns its spans with
attributes as ``[{key, value}]`` (values as in spans.py ATTRS: strings as is,
numbers / booleans / scalar lists as compact JSON). Everything after is
vectorized. Conventions are then read by ``spans.to_canonical`` (OpenInference,
§2, and any other convention the attributes carry).

Sources: Arize-ai/phoenix ``src/phoenix/trace/span_json_encoder.py``,
``trace_dataset.py``, ``attributes.py`` (flatten / unflatten),
``server/api/routers/v1/spans.py`` (REST span model: ``openinference.span.kind``
moved to ``span_kind``), ``js/packages/phoenix-cli`` (raw output).
"""

from __future__ import annotations

import ast
import io

import orjson
import polars as pl

from . import openinference, spans as span_frames
from .jsonl import RAW, parse_object
from .problems import BLANK, MALFORMED_JSON, PROBLEM_SCHEMA, UNKNOWN_SHAPE
from .responses import parse_timestamp
from .source import CSV, JSON, JSONL, PARQUET, Format, Source

S = pl.String
SPAN = pl.Struct(
    {
        "name": S,
        "trace_id": S,
        "span_id": S,
        "parent_id": S,
        "span_kind": S,
        "start_time": S,
        "end_time": S,
        "status_code": S,
        "status_message": S,
        # attributes as parallel lists (cheaper to build than one struct per attribute)
        "keys": pl.List(S),
        "values": pl.List(S),
        # one entry per event attribute (or per event without attributes: null key)
        "ev_index": pl.List(pl.Int64),
        "ev_name": pl.List(S),
        "ev_time": pl.List(S),
        "ev_key": pl.List(S),
        "ev_value": pl.List(S),
    }
)
RECORD = pl.Struct({"error": S, "shape": S, "spans": pl.List(SPAN)})

#: Attributes Phoenix decodes from JSON text into objects on ingestion
#: (``phoenix.trace.attributes.JSON_STRING_ATTRIBUTES``): kept as one JSON-text
#: value, as an OTLP exporter sends them, instead of being flattened.
JSON_STRING_KEYS = ("metadata", "document.metadata", "llm.prompt_template.variables", "tool.parameters")

#: Attribute values never expanded from a CSV cell (they are JSON text by convention).
_CSV_TEXT_KEYS = ("input.value", "output.value")


def _json_text(value: object) -> str:
    """A value as ATTRS text: a string as is, anything else compact JSON (a type JSON
    lacks, e.g. a tuple or set from a CSV repr cell, through ``str``)."""
    return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()


def _flatten(value: object, prefix: str, keys: list, values: list) -> None:
    """Append the dotted keys and text values of ``value`` under ``prefix`` to ``keys`` / ``values``.

    A dict recurses (``prefix.key``); a list holding a dict recurses per element
    (``prefix.<index>``, Phoenix's rule: only lists of objects are indexed); any
    other list is one value (compact JSON array); None is skipped; a string is kept
    as is; numbers and booleans become their JSON text.
    """
    if value is None:
        return
    if isinstance(value, dict):
        if prefix.endswith(JSON_STRING_KEYS):
            keys.append(prefix)
            values.append(_json_text(value))
            return
        for k, v in value.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, str):  # the common case, without a call
                keys.append(key)
                values.append(v)
            else:
                _flatten(v, key, keys, values)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}.{i}", keys, values)
    else:
        keys.append(prefix)
        values.append(_json_text(value))


def _cell(text: object) -> object:
    """A CSV cell holding a list (JSON, or the Python repr pandas writes), else the text."""
    if not isinstance(text, str) or not text.startswith("["):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def is_span(obj: object) -> bool:
    """A Phoenix span object: ``context.span_id`` + ``span_kind`` (trace-formats.md §11)."""
    return isinstance(obj, dict) and isinstance(obj.get("context"), dict) and "span_id" in obj["context"] and "span_kind" in obj


def _span_list(obj: dict) -> list | None:
    """The spans of one record: the span itself, a REST page's ``data``, a px trace's ``spans``."""
    if is_span(obj):
        return [obj]
    for key, marker in (("data", "next_cursor"), ("spans", "traceId")):
        inner = obj.get(key)
        if isinstance(inner, list) and (marker in obj or (inner and is_span(inner[0]))):
            return inner
    return None


def _str(value: object) -> str | None:
    return None if value is None else _json_text(value)


def _attributes(attrs: object, kind: object, csv: bool) -> tuple[list, list]:
    """Flattened attribute keys and values of one span; ``openinference.span.kind``
    added from ``span_kind`` when the attributes lack it (the REST API moves it there)."""
    if isinstance(attrs, str):  # attributes serialized as one JSON text
        try:
            attrs = orjson.loads(attrs)
        except orjson.JSONDecodeError:
            attrs = None
    keys: list = []
    values: list = []
    if isinstance(attrs, dict):
        if csv:
            attrs = {k: (v if k in _CSV_TEXT_KEYS else _cell(v)) for k, v in attrs.items()}
        _flatten(attrs, "", keys, values)
    if kind is not None and openinference.SPAN_KIND not in keys:
        keys.append(openinference.SPAN_KIND)
        values.append(_json_text(kind))
    return keys, values


def _events(events: object, csv: bool, row: dict) -> None:
    """Fill the ``ev_*`` lists of ``row``: one entry per event attribute."""
    out: dict[str, list] = {"ev_index": [], "ev_name": [], "ev_time": [], "ev_key": [], "ev_value": []}
    row.update(out)
    if csv:
        events = _cell(events)
    if not isinstance(events, list):
        return
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            continue
        keys: list = []
        values: list = []
        _flatten(ev.get("attributes"), "", keys, values)
        n = max(len(keys), 1)
        out["ev_index"] += [i] * n
        out["ev_name"] += [_str(ev.get("name"))] * n
        out["ev_time"] += [_str(ev.get("timestamp", ev.get("time")))] * n
        out["ev_key"] += keys or [None]
        out["ev_value"] += values or [None]


def _span_row(span: dict, csv: bool) -> dict:
    ctx = span["context"]
    keys, values = _attributes(span.get("attributes"), span.get("span_kind"), csv)
    row = {
        "name": _str(span.get("name")),
        "trace_id": _str(ctx.get("trace_id")),
        "span_id": _str(ctx.get("span_id")),
        "parent_id": _str(span.get("parent_id")),
        "span_kind": _str(span.get("span_kind")),
        "start_time": _str(span.get("start_time")),
        "end_time": _str(span.get("end_time")),
        "status_code": _str(span.get("status_code")),
        "status_message": _str(span.get("status_message")),
        "keys": keys,
        "values": values,
    }
    _events(span.get("events"), csv, row)
    return row


def _read_record(line: str | None, csv: bool) -> dict:
    """One JSON record -> ``{error, shape, spans}``. ``error``: not a JSON object;
    ``shape``: JSON holding no span, or a page / trace with entries that are not
    spans (its spans are still read)."""
    obj, error = parse_object(line)
    if error is not None:
        return {"error": error}
    found = _span_list(obj)
    if found is None:
        return {"shape": "not a Phoenix span: no context.span_id with span_kind (nor data[] / spans[] of them)"}
    try:
        spans = [_span_row(s, csv) for s in found if is_span(s)]
    except RecursionError:
        return {"shape": "span attributes nested too deeply to flatten"}
    others = len(found) - len(spans)
    return {"spans": spans, "shape": f"{others} of {len(found)} entries are not Phoenix spans (not read)" if others else None}


def _read_records(s: pl.Series, csv: bool = False) -> pl.Series:
    """``map_batches`` body: JSON text per row -> :data:`RECORD`.

    orjson parses each record once; the result goes back to Polars as orjson text
    decoded natively with the fixed :data:`RECORD` dtype (much faster than building
    nested structs from Python objects; every field is a string, an int or a list
    of those by construction, so the decode cannot meet another type).
    """
    text = pl.Series(s.name, [orjson.dumps(_read_record(x, csv)).decode() for x in s.to_list()], dtype=S)
    return text.str.json_decode(RECORD)


def _time(expr: pl.Expr) -> pl.Expr:
    """Phoenix time text -> datetime[us, UTC]: ISO 8601 with offset or ``Z``
    (``datetime.isoformat()``, fraction optional), naive ISO taken as UTC, or unix
    seconds / milliseconds. Anything else -> null."""
    iso = expr.str.strip_chars().str.replace(r"Z$", "+00:00").str.replace(" ", "T")
    return pl.coalesce(
        iso.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False),
        iso.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", time_unit="us", time_zone="UTC", strict=False),
        parse_timestamp(expr),
    )


def _hex_id(name: str) -> pl.Expr:
    """An id as lowercase hex without ``0x``; empty -> null."""
    e = pl.col(name).str.strip_chars().str.to_lowercase().str.strip_prefix("0x")
    return pl.when(e != "").then(e)


def _problem_rows(df: pl.DataFrame, path: str) -> pl.DataFrame:
    """Problem rows for records that are not JSON objects or hold no span."""
    error, shape = pl.col("error"), pl.col("shape")
    kind = pl.when(error == "blank line").then(pl.lit(BLANK)).when(error.is_not_null()).then(pl.lit(MALFORMED_JSON)).otherwise(pl.lit(UNKNOWN_SHAPE))
    return df.filter(error.is_not_null() | shape.is_not_null()).select(
        pl.lit(path).alias("source_file"), "source_line", kind.alias("kind"), pl.coalesce(error, shape).alias("reason")
    )


def span_frames_of(records: pl.LazyFrame, path: str, csv: bool = False) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.DataFrame]:
    """Records of span JSON -> (SPANS, ATTRS, EVENTS, problems) as spans.py defines them.

    Input: ``source_line`` (i64) and ``_json`` (str, one record as JSON text: a span,
    a REST page or a px trace); ``csv``: list-valued attribute cells may be Python
    reprs (pandas ``to_csv``). SPANS ``kind`` is null (Phoenix keeps only the
    OpenInference kind, copied into ATTRS as ``openinference.span.kind``) and
    ``service_name`` / ``scope_name`` are null (Phoenix exports carry no resource).
    Problems: malformed / non-object records (``malformed_json``, ``blank_line``) and
    JSON records holding no span (``unknown_shape``), with their line.
    """
    read = pl.col("_json").map_batches(lambda s: _read_records(s, csv), return_dtype=RECORD)
    rec = records.with_columns(read.alias("_rec")).drop("_json").unnest("_rec").collect()
    problems = _problem_rows(rec, path)
    sp = (
        rec.filter(pl.col("spans").is_not_null())
        .select("source_line", "spans")
        .explode("spans")
        .drop_nulls("spans")
        .unnest("spans")
        .with_row_index("_sid")
        .with_columns(pl.col("_sid").cast(pl.Int64))
    )
    status = pl.col("status_code").str.strip_chars().str.to_lowercase().str.strip_prefix("status_code_")
    spans = sp.lazy().select(
        "_sid",
        "source_line",
        _hex_id("trace_id").alias("trace_id"),
        _hex_id("span_id").alias("span_id"),
        _hex_id("parent_id").alias("parent_span_id"),
        "name",
        pl.lit(None, dtype=S).alias("kind"),
        _time(pl.col("start_time")).alias("start_time"),
        _time(pl.col("end_time")).alias("end_time"),
        pl.when(status != "").then(status).alias("status_code"),
        "status_message",
        pl.lit(None, dtype=S).alias("service_name"),
        pl.lit(None, dtype=S).alias("scope_name"),
    )
    attrs = (
        sp.lazy()
        .select("_sid", pl.col("keys").alias("key"), pl.col("values").alias("value"))
        .explode("key", "value", keep_nulls=False, empty_as_null=False)
    )
    ev = ["ev_index", "ev_name", "ev_time", "ev_key", "ev_value"]
    events = (
        sp.lazy()
        .select("_sid", *ev)
        .explode(*ev, keep_nulls=False, empty_as_null=False)
        .select(
            "_sid",
            pl.col("ev_index").alias("event_index"),
            pl.col("ev_name").alias("event_name"),
            _time(pl.col("ev_time")).alias("time"),
            pl.col("ev_key").alias("key"),
            pl.col("ev_value").alias("value"),
        )
    )
    # Collected once: the conventions and the dispatcher read these frames many times.
    return spans.collect().lazy(), attrs.collect().lazy(), events.collect().lazy(), problems


#: Dataframe envelope columns -> span JSON fields (Phoenix ``REQUIRED_COLUMNS``).
_ENVELOPE = ("name", "span_kind", "parent_id", "start_time", "end_time", "status_code", "status_message", "events")
_ATTR_PREFIX = "attributes."


def _table_records(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of a spans dataframe -> ``source_line`` (0-based row) + ``_json`` (the row as span JSON).

    ``attributes.<key>`` columns become the ``attributes`` object (lists of
    ``{"message.role": ...}`` structs included, so they flatten like span JSON);
    datetimes are encoded as ISO 8601, float NaN as null (``struct.json_encode``).
    """
    names = lf.collect_schema().names()

    def col(c: str) -> pl.Expr:
        return pl.col(c) if c in names else pl.lit(None, dtype=S)

    schema = lf.collect_schema()
    # Binary cells (bytes objects in a pandas column) are not JSON: read them as UTF-8 text.
    lf = lf.with_columns([pl.col(c).cast(S, strict=False) for c, t in schema.items() if t == pl.Binary])
    attr_cols = [c for c in names if c.startswith(_ATTR_PREFIX)]
    attributes = pl.struct([pl.col(c).alias(c[len(_ATTR_PREFIX) :]) for c in attr_cols]) if attr_cols else pl.lit(None, dtype=S)
    record = pl.struct(
        *[col(c).alias(c) for c in _ENVELOPE],
        pl.struct(col("context.trace_id").alias("trace_id"), col("context.span_id").alias("span_id")).alias("context"),
        attributes.alias("attributes"),
    )
    return lf.with_row_index("source_line").select(pl.col("source_line").cast(pl.Int64), record.struct.json_encode().alias("_json"))


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read one Phoenix export (span JSON lines, or a spans dataframe as Parquet / CSV).

    Input: a Source (``container`` jsonl, parquet or csv). Output: (LazyFrame of
    canonical columns, one row per LLM span in file order, plus the pass-through
    columns of ``spans.to_canonical`` (span_name, root_span_name, agent_name,
    span_status, ...) and ``response_id``; problems DataFrame with
    problems.PROBLEM_SCHEMA: unreadable records with their line / row, and one
    ``not_a_model_call`` row counting the other spans per kind). Errors: none
    raised for bad records; Polars raises for an unreadable Parquet file.
    """
    if src.container == PARQUET:
        lf = pl.scan_parquet(src.path) if src.data is None else pl.read_parquet(io.BytesIO(src.data)).lazy()
        records, csv = _table_records(lf), False
    elif src.container == CSV:
        lf = pl.scan_csv(src.path, infer_schema=False) if src.data is None else pl.read_csv(src.data, infer_schema=False).lazy()
        records, csv = _table_records(lf), True
    else:
        lines = pl.scan_lines(src.target, name=RAW, row_index_name="source_line", row_index_offset=1)
        records = lines.select(pl.col("source_line").cast(pl.Int64), pl.col(RAW).str.strip_suffix("\r").alias("_json"))
        csv = False
    spans, attrs, events, problems = span_frames_of(records, src.path, csv)
    rows, more = span_frames.to_canonical(spans, attrs, events, src.path)
    return rows, pl.concat([problems, more.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA)])


def is_record(obj: dict) -> bool:
    """Record sniffer: a span (``context.span_id`` + ``span_kind``), a REST page of
    them (``data``) or a px trace (``spans``) (trace-formats.md §11)."""
    return _span_list(obj) is not None


def is_table(names: set[str]) -> bool:
    """Column sniffer: ``context.span_id`` and ``span_kind`` columns (trace-formats.md §11)."""
    return {"context.span_id", "span_kind"} <= names


FORMATS = [
    Format(
        "phoenix",
        "Arize Phoenix spans: span JSON (context.span_id + span_kind; REST pages, px CLI raw output) "
        "or a spans dataframe saved as Parquet / CSV (context.span_id and span_kind columns)",
        read,
        containers=(JSONL, JSON, PARQUET, CSV),
        record=is_record,
        columns=is_table,
    )
]
