"""Spans: the shared middle of every span-based format.

Container readers (``otlp.py``: OTLP JSON and the ConsoleSpanExporter's objects;
``phoenix.py``: Phoenix span JSON and Parquet) turn their files into three
frames with the columns below; convention extractors (``genai.py``: OTel GenAI
§1a/§1b, OpenLLMetry §1c, Vercel AI SDK §1d; ``openinference.py``: §2) read only
these frames, so every convention works inside every container
(trace-formats.md §1, §2, §11).

SPANS — one row per span:
    ``_sid`` i64 (unique within the file), ``source_line`` i64 (1-based line/record
    of the file the span came from), ``trace_id`` str (lowercase hex, 32),
    ``span_id`` str (lowercase hex, 16), ``parent_span_id`` str (null for a root),
    ``name`` str, ``kind`` str (lowercase: internal, server, client, producer,
    consumer, unspecified), ``start_time`` / ``end_time`` datetime[us, UTC],
    ``status_code`` str (unset, ok, error), ``status_message`` str,
    ``service_name`` str (resource ``service.name``), ``scope_name`` str
    (instrumentation scope; null when the container has none).

ATTRS — long, one row per span attribute (resource attributes not included):
    ``_sid`` i64, ``key`` str, ``value`` str: a string value as is; an int /
    double / bool as its JSON text; an array, kvlist or structured value as
    compact JSON text (an array of the plain values; a kvlist as an object).

EVENTS — long, one row per attribute of a span event (an event without
attributes gives one row with null ``key``/``value``):
    ``_sid`` i64, ``event_index`` i64 (order within the span), ``event_name`` str,
    ``time`` datetime[us, UTC], ``key`` str, ``value`` str (as in ATTRS).

An extractor is ``extract(spans, attrs, events) -> LazyFrame`` returning, for
the LLM-call spans of its convention only, ``_sid`` plus canonical columns
(schema.CANONICAL names: provider, model, provider_stop_reason, normalized_by,
output_text, tool_calls, output_tokens, max_tokens, expects_json,
after_tool_result, ...) and ``_route_hint`` (str, the convention's own route
key, e.g. ``traceloop.workflow.name``; null when it has none).
"""
