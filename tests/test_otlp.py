"""OTLP JSON and ConsoleSpanExporter readers (ingest/otlp.py) and the span
dispatcher (ingest/spans.py): fixtures in tests/fixtures/otlp/ written for the
project in the shapes of trace-formats.md §1 (collector fileexporter lines,
GenAI log records, the Python ConsoleSpanExporter's pretty objects)."""

from __future__ import annotations

import datetime as dt

import orjson
import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect, otlp, spans
from stoptriage.ingest.source import Source

OTLP = FIXTURES / "otlp"
UTC = dt.timezone.utc


def read(name: str, **kw) -> tuple[pl.DataFrame, pl.DataFrame]:
    lf, rep = stoptriage.read([OTLP / name], **kw)
    return lf.collect(), rep.problems


def frames(path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    s, a, e, _, _ = otlp.read_frames(Source(str(path), None, "jsonl"))
    return s, a, e


def attr(attrs: pl.DataFrame, sid: int, key: str) -> str | None:
    hit = attrs.filter((pl.col("_sid") == sid) & (pl.col("key") == key))
    assert hit.height == 1, (sid, key)
    return hit.item(0, "value")


# ---- collector JSON lines ------------------------------------------------------------


def test_collector_file_is_sniffed_as_otlp():
    assert detect((OTLP / "collector.jsonl").read_bytes()) == "otlp"


def test_collector_llm_spans_become_canonical_rows():
    df, _ = read("collector.jsonl")
    assert df["span_id"].to_list() == ["7a2190356c3fc94b", "9e1d4c7b2a6f3e80", "e457b5a2e4d86bd1", "27ae41e4649b934c"]
    assert df["source_line"].to_list() == [1, 1, 3, 4]
    # base64 ids (line 3) come out as lowercase hex
    assert df["trace_id"].to_list() == ["4bf92f3577b34da6a3ce929d0e0e4736"] * 2 + ["0af7651916cd43dd8448eb211c80319c", "e3b0c44298fc1c149afbf4c8996fb924"]
    assert df["provider_stop_reason"].to_list() == ["length", "stop", None, "STOP"]
    # intValue as a JSON number (256) and as a string ("256", "9", "1024")
    assert df["max_tokens"].to_list() == [256, None, 1024, None]
    assert df["output_tokens"].to_list() == [256, 9, None, 40]
    assert df["provider"].to_list() == ["openai", "openai", "anthropic", "gemini"]
    assert df["model"].to_list()[:3] == ["gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "claude-sonnet-4-5"]
    assert df["output_text"].to_list() == ["Your order left the warehouse on Monday and the", "It arrives on Thursday.", "", ""]
    assert df["after_tool_result"].to_list()[1] is True
    assert df["timestamp"].to_list()[0] == dt.datetime(2026, 3, 2, 10, 15, 0, 100000, tzinfo=UTC)
    # startTimeUnixNano given as a JSON number (line 3)
    assert df["timestamp"].to_list()[2] == dt.datetime(2026, 3, 2, 10, 16, tzinfo=UTC)
    assert set(df["source_file"]) == {str(OTLP / "collector.jsonl")}


def test_error_span_without_output_is_still_a_row():
    df, _ = read("collector.jsonl")
    row = df.row(2, named=True)
    assert row["span_status"] == "error" and row["span_status_message"] == "upstream request timed out"
    assert row["provider_stop_reason"] is None  # nothing invented
    assert row["stop_detail"] == "span_error"
    assert row["output_text"] == ""


def test_route_is_service_and_root_span_name_from_the_tree():
    df, _ = read("collector.jsonl")
    assert df["route"].to_list() == ["support-bot/POST /chat", "support-bot/POST /chat", "billing/POST /invoice", "search/generate_content gemini-2.5-flash"]
    assert df["root_span_name"].to_list() == ["POST /chat", "POST /chat", "POST /invoice", "generate_content gemini-2.5-flash"]
    assert df["span_name"].to_list() == ["chat gpt-4o", "chat gpt-4o", "chat claude-sonnet-4-5", "generate_content gemini-2.5-flash"]
    assert df["service_name"].to_list() == ["support-bot", "support-bot", "billing", "search"]
    # gen_ai.agent.name of the parent invoke_agent span
    assert df["agent_name"].to_list() == ["support", "support", None, None]


def test_route_option_picks_a_pass_through_column():
    df, _ = read("collector.jsonl", route="root_span_name")
    assert df["route"].to_list()[:3] == ["POST /chat", "POST /chat", "POST /invoice"]


def test_collector_problems_have_lines_and_skipped_spans_are_counted():
    _, problems = read("collector.jsonl")
    rows = {(r["source_line"], r["kind"]): r["reason"] for r in problems.iter_rows(named=True)}
    assert rows[(2, "malformed_json")].startswith("malformed JSON")
    assert (6, "blank_line") in rows
    assert "app.note" in rows[(4, "bad_value")]  # the odd value is reported, its line still read
    assert "without resourceSpans" in rows[(5, "unknown_shape")]
    assert rows[(None, "not_a_model_call")] == "4 spans are not LLM calls (server span 2, execute_tool 1, invoke_agent 1)"
    assert problems.height == 5


def test_strict_fails_on_the_malformed_line():
    res = stoptriage.classify([OTLP / "collector.jsonl"])
    assert set(res.report.failures["source_line"].to_list()) == {2, 4, 5}
    assert res.frame.collect()["stop_reason"].cast(pl.String).to_list() == ["length", "stop", "error", "stop"]  # the errored span (span_error) reads error


def test_attribute_values_are_text_per_the_frame_contract():
    s, a, e = frames(OTLP / "collector.jsonl")
    sid = dict(zip(s["span_id"], s["_sid"]))
    llm, claude, gemini = sid["7a2190356c3fc94b"], sid["e457b5a2e4d86bd1"], sid["27ae41e4649b934c"]
    assert attr(a, llm, "gen_ai.request.max_tokens") == "256"  # intValue number
    assert attr(a, llm, "gen_ai.usage.output_tokens") == "256"  # intValue string
    assert attr(a, llm, "gen_ai.request.temperature") == "0.2"
    assert attr(a, llm, "gen_ai.response.finish_reasons") == '["length"]'
    assert attr(a, claude, "gen_ai.request.stream") == "true"
    assert attr(a, claude, "app.request.metadata") == '{"tenant":"acme","tier":2,"tags":["eu","priority"]}'
    assert attr(a, gemini, "app.note") == "written by a hand-rolled exporter"
    assert a.schema["value"] == pl.String and a.schema["_sid"] == pl.Int64


def test_span_envelope_fields():
    s, _, _ = frames(OTLP / "collector.jsonl")
    by_id = {r["span_id"]: r for r in s.iter_rows(named=True)}
    root, agent, claude = by_id["00f067aa0ba902b7"], by_id["5fb397be34d26b51"], by_id["e457b5a2e4d86bd1"]
    assert root["parent_span_id"] is None and root["kind"] == "server" and root["scope_name"] == "opentelemetry.instrumentation.fastapi"
    assert agent["kind"] == "internal" and agent["parent_span_id"] == "00f067aa0ba902b7"
    assert claude["kind"] == "client" and claude["parent_span_id"] == "b7ad6b7169203331"
    assert (claude["status_code"], claude["status_message"]) == ("error", "upstream request timed out")
    assert by_id["b7ad6b7169203331"]["status_code"] == "error"  # code 2
    assert by_id["3c5d2a1e0f9b8c7d"]["status_code"] == "ok" and by_id["7a2190356c3fc94b"]["status_code"] == "unset"
    assert claude["end_time"] - claude["start_time"] == dt.timedelta(seconds=30)
    assert s["_sid"].to_list() == list(range(s.height)) and s.height == 8


def test_events_rows_including_an_event_without_attributes():
    s, _, e = frames(OTLP / "collector.jsonl")
    sid = dict(zip(s["span_id"], s["_sid"]))
    retry = e.filter(pl.col("_sid") == sid["3c5d2a1e0f9b8c7d"]).row(0, named=True)
    assert (retry["event_index"], retry["event_name"], retry["key"], retry["value"]) == (0, "retry", "attempt", "2")
    assert retry["time"] == dt.datetime(2026, 3, 2, 10, 15, 1, 750000, tzinfo=UTC)
    aborted = e.filter(pl.col("_sid") == sid["b7ad6b7169203331"])
    assert aborted.height == 1 and aborted.item(0, "event_name") == "request.aborted" and aborted.item(0, "key") is None


# ---- GenAI log records -----------------------------------------------------------------


def test_log_records_become_events_of_their_span():
    s, _, e = frames(OTLP / "genai_logs.jsonl")
    llm = s.filter(pl.col("span_id") == "0f1e2d3c4b5a6978").item(0, "_sid")
    ev = e.filter(pl.col("_sid") == llm)
    assert ev.filter(pl.col("key") == "body").select("event_index", "event_name").rows() == [(0, "gen_ai.user.message"), (1, "gen_ai.choice")]
    bodies = ev.filter(pl.col("key") == "body")["value"].to_list()
    assert bodies[0] == '{"content":"Weather in Paris?"}'
    # the §1b choice body: a kvlist five levels deep, as a JSON object
    assert orjson.loads(bodies[1]) == {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {"role": "assistant", "tool_calls": [{"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    }
    choice = ev.filter(pl.col("event_index") == 1)
    # event name from the event.name attribute; time from observedTimeUnixNano when timeUnixNano is 0
    assert choice.filter(pl.col("key") == "event.name").item(0, "value") == "gen_ai.choice"
    assert choice.item(0, "time") == dt.datetime(2026, 3, 2, 10, 23, 21, 90000, tzinfo=UTC)


def test_log_events_reach_the_canonical_row_and_orphans_are_reported():
    df, problems = read("genai_logs.jsonl")
    assert df.height == 1
    row = df.row(0, named=True)
    assert (row["provider_stop_reason"], row["output_tokens"], row["route"]) == ("tool_calls", 18, "weather-bot/POST /weather")
    assert [c["name"] for c in row["tool_calls"]] == ["get_weather"]
    rows = {(r["source_line"], r["kind"]): r["reason"] for r in problems.iter_rows(named=True)}
    assert rows[(2, "unknown_shape")].startswith("1 GenAI log record(s) (gen_ai.choice 1) whose span is not in this file")
    assert rows[(None, "not_a_model_call")] == "1 span is not an LLM call (server span 1); 1 log record has no span in this file and no gen_ai.* name"


def test_a_file_of_logs_only_reads_no_rows_and_says_why(tmp_path):
    logs_line = (OTLP / "genai_logs.jsonl").read_bytes().splitlines()[1]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(logs_line + b"\n")
    lf, rep = stoptriage.read([path])
    assert lf.collect().height == 0
    assert rep.formats[str(path)] == "otlp"
    assert rep.failures.select("source_line", "kind").rows() == [(1, "unknown_shape")]
    assert "3 GenAI log record(s) (gen_ai.choice 2, gen_ai.user.message 1)" in rep.failures.item(0, "reason")


# ---- ConsoleSpanExporter -------------------------------------------------------------------


def test_console_exporter_objects():
    assert detect((OTLP / "console.json").read_bytes()) == "otel-console"
    df, problems = read("console.json")
    row = df.row(0, named=True)
    assert df.height == 1
    assert (row["trace_id"], row["span_id"]) == ("8f2c1d6b5a4e3f2019c8b7a6d5e4f3a2", "1b2c3d4e5f607182")
    assert (row["provider"], row["model"], row["provider_stop_reason"]) == ("openai", "gpt-4o-mini-2024-07-18", "stop")
    assert (row["output_tokens"], row["max_tokens"]) == (12, 64)
    assert row["output_text"] == "Paris is the capital of France."  # v1.27 gen_ai.content.completion event
    assert row["timestamp"] == dt.datetime(2026, 3, 2, 10, 20, 0, 250000, tzinfo=UTC)
    # the root object comes after its child (the exporter prints spans as they end)
    assert (row["route"], row["source_line"]) == ("quiz-app/GET /quiz", 1)
    assert problems.select("kind", "reason").rows() == [("not_a_model_call", "1 span is not an LLM call (server span 1)")]


def test_console_attribute_dicts_become_long_text_values():
    from stoptriage.ingest.jsonl import to_json_lines

    src = Source("console.json", to_json_lines((OTLP / "console.json").read_bytes()), "jsonl")
    s, a, e, _ = otlp.console_frames(src)
    assert s.select("span_id", "parent_span_id", "kind", "status_code", "service_name").rows() == [
        ("1b2c3d4e5f607182", "9a8b7c6d5e4f3021", "client", "unset", "quiz-app"),
        ("9a8b7c6d5e4f3021", None, "server", "unset", "quiz-app"),
    ]
    assert attr(a, 0, "gen_ai.response.finish_reasons") == '["stop"]'
    assert attr(a, 0, "gen_ai.request.max_tokens") == "64"
    assert attr(a, 0, "gen_ai.request.temperature") == "0.0"
    assert attr(a, 0, "gen_ai.system") == "openai"
    assert attr(a, 1, "http.status_code") == "200"
    assert e.select("_sid", "event_index", "event_name", "key").rows() == [(0, 0, "gen_ai.content.completion", "gen_ai.completion")]


def test_console_sniffer_leaves_phoenix_span_json_alone():
    phoenix = {
        "name": "ChatCompletion",
        "context": {"trace_id": "6f5e4d3c2b1a09f8e7d6c5b4a3928170", "span_id": "a9b8c7d6e5f40312"},
        "span_kind": "LLM",
        "parent_id": None,
        "start_time": "2026-03-02T10:20:00+00:00",
        "end_time": "2026-03-02T10:20:01+00:00",
        "status_code": "OK",
        "attributes": {"openinference.span.kind": "LLM"},
        "events": [],
    }
    console = orjson.loads(b'{"name": "x", "context": {"trace_id": "0x01", "span_id": "0x02"}, "kind": "SpanKind.INTERNAL"}')
    assert otlp.is_console_span(console)
    assert not otlp.is_console_span(phoenix)
    assert not otlp.is_console_span({**phoenix, "kind": "SpanKind.CLIENT"})
    assert detect(orjson.dumps(phoenix) + b"\n") != "otel-console"


# ---- dispatcher (spans.to_canonical) with fake extractors --------------------------------

SPAN_COLUMNS = ("_sid", "trace_id", "span_id", "parent_span_id", "name", "service_name", "kind", "status_code")
T = "ab" * 16


def span_table(rows: list[tuple], attrs: list[tuple]) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """SPANS / ATTRS / EVENTS of the spans.py contract from short tuples."""
    s = pl.DataFrame([dict(zip(SPAN_COLUMNS, r)) for r in rows], schema={c: (pl.Int64 if c == "_sid" else pl.String) for c in SPAN_COLUMNS}, orient="row")
    s = s.with_columns(
        (pl.col("_sid") + 1).alias("source_line"),
        pl.lit(dt.datetime(2026, 3, 2, tzinfo=UTC)).dt.cast_time_unit("us").alias("start_time"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("end_time"),
        pl.lit(None, dtype=pl.String).alias("status_message"),
        pl.lit("scope").alias("scope_name"),
    )
    a = pl.DataFrame(attrs, schema={"_sid": pl.Int64, "key": pl.String, "value": pl.String}, orient="row")
    e = pl.DataFrame(schema={"_sid": pl.Int64, "event_index": pl.Int64, "event_name": pl.String, "time": pl.Datetime("us", "UTC"), "key": pl.String, "value": pl.String})
    return s.lazy(), a.lazy(), e


def fake_extractor(label: str, seen: dict):
    """Rows for the spans whose attribute ``fake.llm`` is "yes": provider = label,
    provider_stop_reason = attribute ``fake.stop``, _route_hint = ``fake.route``."""

    def extract(spans_lf, attrs_lf, events_lf):
        seen[label] = sorted(spans_lf.collect()["_sid"].to_list())
        a = attrs_lf.collect()
        def value(key):
            return a.filter(pl.col("key") == key).select("_sid", pl.col("value").alias(key))
        llm = value("fake.llm").filter(pl.col("fake.llm") == "yes").select("_sid")
        out = llm.join(value("fake.stop"), on="_sid", how="left").join(value("fake.route"), on="_sid", how="left")
        return out.select(
            "_sid",
            pl.lit(label).alias("provider"),
            pl.col("fake.stop").alias("provider_stop_reason"),
            pl.col("fake.route").alias("_route_hint"),
            pl.lit("ignored").alias("span_name"),  # clashes with a dispatcher column: dropped
            pl.lit(label).alias("_convention"),
        ).lazy()

    return extract


def run(rows, attrs):
    seen: dict = {}
    fns = {"openinference": fake_extractor("oi", seen), "genai": fake_extractor("genai", seen)}
    s, a, e = span_table(rows, attrs)
    lf, problems = spans.to_canonical(s, a, e.lazy(), "mem.jsonl", extractors=fns)
    return lf.collect(), problems, seen


def test_each_span_goes_to_the_extractor_of_its_convention():
    rows = [
        (0, T, "0000000000000001", None, "agent run", "svc", "internal", "unset"),
        (1, T, "0000000000000002", "0000000000000001", "ChatCompletion", "svc", "internal", "unset"),
        (2, T, "0000000000000003", "0000000000000001", "chat gpt-4o", "svc", "client", "unset"),
        (3, T, "0000000000000004", "0000000000000001", "search", "svc", "internal", "unset"),
    ]
    attrs = [
        (0, "openinference.span.kind", "AGENT"),
        (1, "openinference.span.kind", "LLM"), (1, "fake.llm", "yes"), (1, "fake.stop", "end_turn"),
        (2, "gen_ai.operation.name", "chat"), (2, "fake.llm", "yes"), (2, "fake.stop", "length"), (2, "fake.route", "checkout-flow"),
        (3, "gen_ai.operation.name", "execute_tool"),
    ]
    df, problems, seen = run(rows, attrs)
    assert seen == {"oi": [0, 1], "genai": [2, 3]}
    assert df.select("span_id", "provider", "provider_stop_reason", "convention", "span_name").rows() == [
        ("0000000000000002", "oi", "end_turn", "oi", "ChatCompletion"),
        ("0000000000000003", "genai", "length", "genai", "chat gpt-4o"),
    ]
    # the extractor's route key wins; else service.name + "/" + root span name
    assert df["route"].to_list() == ["svc/agent run", "checkout-flow"]
    assert df["source_line"].to_list() == [2, 3] and set(df["source_file"]) == {"mem.jsonl"}
    assert problems.select("source_line", "kind", "reason").rows() == [(None, "not_a_model_call", "2 spans are not LLM calls (AGENT 1, execute_tool 1)")]
    assert not [c for c in df.columns if c.startswith("_")]


def test_no_openinference_span_means_one_extractor_call_and_no_skipped_row():
    rows = [(0, T, "0000000000000001", None, "chat", None, "client", "error")]
    df, problems, seen = run(rows, [(0, "fake.llm", "yes")])
    assert seen == {"genai": [0]}
    assert problems.height == 0
    # no service.name: the route is the root span name alone; status error and no stop value
    assert df.select("route", "provider_stop_reason", "stop_detail", "span_status").row(0) == ("chat", None, "span_error", "error")


def test_root_walk_follows_parents_in_any_order_and_stops_at_the_file_edge():
    rows = [
        (0, T, "00000000000000c3", "00000000000000c2", "chat", "api", "client", "unset"),  # child before its parents
        (1, T, "00000000000000c2", "00000000000000c1", "plan", "api", "internal", "unset"),
        (2, T, "00000000000000c1", None, "POST /trip", "gateway", "server", "unset"),
        (3, T, "00000000000000d2", "00000000000000d1", "chat", "api", "client", "unset"),  # parent not in the file
        (4, "cd" * 16, "00000000000000c3", "00000000000000c2", "chat", "api", "client", "unset"),  # same ids, other trace
        (5, T, "00000000000000e1", "00000000000000e2", "loop a", "api", "internal", "unset"),  # a parent cycle
        (6, T, "00000000000000e2", "00000000000000e1", "loop b", "api", "client", "unset"),
    ]
    attrs = [(i, "fake.llm", "yes") for i in (0, 3, 4, 6)] + [(1, "gen_ai.agent.name", "planner"), (2, "gen_ai.agent.name", "gateway-agent")]
    df, _, _ = run(rows, attrs)
    got = df.select("root_span_name", "route", "agent_name").rows()
    assert got[0] == ("POST /trip", "gateway/POST /trip", "planner")  # root's service; nearest agent
    assert got[1] == ("chat", "api/chat", None)
    assert got[2] == ("chat", "api/chat", None)
    assert got[3][0] in {"loop a", "loop b"}  # terminates


def test_duplicate_span_rows_resolve_to_the_first():
    rows = [
        (0, T, "0000000000000001", None, "first root", "svc", "server", "unset"),
        (1, T, "0000000000000001", None, "exported again", "svc", "server", "unset"),
        (2, T, "0000000000000002", "0000000000000001", "chat", "svc", "client", "unset"),
    ]
    df, _, _ = run(rows, [(2, "fake.llm", "yes")])
    assert df.select("root_span_name").rows() == [("first root",)]


# ---- odd values -----------------------------------------------------------------------------


def otlp_line(spans_: list[dict], service: str = "svc") -> bytes:
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeSpans": [{"scope": {"name": "s"}, "spans": spans_}]}]})


def chat_span(span_id: str, attributes: list, **kw) -> dict:
    base = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}, {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}}]
    return {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": span_id, "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1772446500000000000", "attributes": base + attributes, **kw}


def test_odd_attribute_values_do_not_lose_the_line(tmp_path):
    odd = chat_span(
        "eee19b7ec3c1b174",
        [
            {"key": "a.number", "value": 5},
            {"key": "a.list", "value": ["x", 1]},
            {"key": "a.nested", "value": {"stringValue": {"oops": True}}},
            {"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": "stop"}]}}},
        ],
    )
    fine = chat_span("0a0b0c0d0e0f1011", [{"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": "length"}]}}}])
    path = tmp_path / "odd.jsonl"
    path.write_bytes(otlp_line([odd, fine]) + b"\n" + otlp_line([chat_span("1111111111111111", [])]) + b"\n")
    s, a, _, problems, _ = otlp.read_frames(Source(str(path), None, "jsonl"))
    assert s["span_id"].to_list() == ["eee19b7ec3c1b174", "0a0b0c0d0e0f1011", "1111111111111111"]
    assert attr(a, 0, "a.number") == "5"
    assert attr(a, 0, "a.list") == '["x",1]'
    assert attr(a, 0, "a.nested") == '{"stringValue":{"oops":true}}'
    assert attr(a, 0, "gen_ai.response.finish_reasons") == '["stop"]'
    bad = pl.concat([p for p in problems if p.height])
    assert bad.select("source_line", "kind").rows() == [(1, "bad_value")]
    assert bad.item(0, "reason") == "3 attribute value(s) not in OTLP AnyValue form (first: a.number), read as text"
    lf, _ = stoptriage.read([path])
    assert lf.collect()["provider_stop_reason"].to_list() == ["stop", "length", None]


def test_values_nested_deeper_than_decoded_are_cut_and_reported(tmp_path):
    deep = {"arrayValue": {"values": [{"arrayValue": {"values": [{"arrayValue": {"values": [{"stringValue": "too deep"}]}}, {"intValue": "7"}]}}]}}
    path = tmp_path / "deep.jsonl"
    path.write_bytes(otlp_line([chat_span("eee19b7ec3c1b174", [{"key": "app.grid", "value": deep}])]) + b"\n")
    s, a, _, _, _ = otlp.read_frames(Source(str(path), None, "jsonl"))
    assert attr(a, 0, "app.grid") == "[[null,7]]"
    _, rep = stoptriage.read([path])
    assert rep.failures.select("source_line", "kind").rows() == [(1, "bad_value")]
    assert "deeper" in rep.failures.item(0, "reason") and "app.grid" in rep.failures.item(0, "reason")


def test_a_line_that_is_not_an_otlp_request_at_all(tmp_path):
    path = tmp_path / "shape.jsonl"
    path.write_bytes(otlp_line([chat_span("eee19b7ec3c1b174", [])]) + b"\n" + b'{"resourceSpans": {"not": "a list"}}\n' + b"[1, 2]\n")
    lf, rep = stoptriage.read([path])
    assert lf.collect().height == 1
    assert rep.failures.select("source_line", "kind").rows() == [(2, "unknown_shape"), (3, "malformed_json")]
    assert rep.failures.item(1, "reason") == "expected a JSON object, got a JSON list"


# ---- value helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"stringValue": "plain"}, "plain"),
        ({"stringValue": ""}, ""),
        ({"intValue": "9007199254740993"}, "9007199254740993"),
        ({"doubleValue": "NaN"}, "NaN"),
        ({"bytesValue": "AAEC"}, "AAEC"),
        ({}, None),
        ({"arrayValue": {}}, "[]"),
        ({"arrayValue": {"values": [{"stringValue": 'say "hi"'}, {"doubleValue": "Infinity"}, {"boolValue": False}, {}]}}, '["say \\"hi\\"","Infinity",false,null]'),
        ({"kvlistValue": {"values": [{"key": "k", "value": {"kvlistValue": {"values": [{"key": "n", "value": {"intValue": 1}}]}}}]}}, '{"k":{"n":1}}'),
    ],
)
def test_any_value_text(value, text):
    df = pl.DataFrame({"_vid": [0], "v": [orjson.dumps(value).decode()]}).with_columns(pl.col("v").str.json_decode(otlp.any_value_dtype(2)))
    assert df.select(otlp.any_value_text(pl.col("v"), 2)).item() == text
    assert otlp.any_value_texts(df, 2).item(0, "text") == text  # the level-by-level form agrees


@pytest.mark.parametrize(
    ("raw", "nbytes", "hex_"),
    [
        ("5B8EFFF798038103D269B633813FC60C", 16, "5b8efff798038103d269b633813fc60c"),
        ("W47/95gDgQPSabYzgT/GDA==", 16, "5b8efff798038103d269b633813fc60c"),
        ("7uGbfsPBsXQ=", 8, "eee19b7ec3c1b174"),
        ("0xeee19b7ec3c1b174", 8, "eee19b7ec3c1b174"),
        ("", 8, None),
        ("0000000000000000", 8, None),
        ("span-7", 8, "span-7"),
    ],
)
def test_hex_id(raw, nbytes, hex_):
    assert pl.select(otlp.hex_id(pl.lit(raw), nbytes)).item() == hex_


def test_kind_and_status_names():
    kinds = pl.Series(["3", "SPAN_KIND_SERVER", "SpanKind.PRODUCER", "5", None, "0"])
    codes = pl.Series(["2", "STATUS_CODE_OK", "StatusCode.ERROR", "UNSET", None, "0"])
    assert pl.select(otlp.span_kind(pl.lit(kinds))).to_series().to_list() == ["client", "server", "producer", "consumer", "unspecified", "unspecified"]
    assert pl.select(otlp.status_code(pl.lit(codes))).to_series().to_list() == ["error", "ok", "error", "unset", "unset", "unset"]


def test_openinference_spans_inside_otlp_go_to_their_extractor():
    s, a, _ = frames(OTLP / "openinference.jsonl")
    # the resource's project name is copied onto the spans of that resource only
    assert a.filter(pl.col("key") == "openinference.project.name").select("_sid", "value").rows() == [(0, "support-rag"), (1, "support-rag"), (2, "support-rag")]
    df, problems = read("openinference.jsonl")
    assert df.select("span_id", "provider", "provider_stop_reason", "output_tokens", "max_tokens", "route").rows() == [
        ("3c4d5e6f708192a3", "openai", "stop", 11, 300, "support-rag"),  # OpenInference: project name route key
        ("4d5e6f708192a3b4", "openai", "stop", None, None, "rag-api/RunnableSequence"),  # OTel GenAI: tree route
    ]
    assert df["output_text"].to_list()[0] == "Open Settings, choose Security and click Reset password."
    assert problems.select("kind", "reason").rows() == [("not_a_model_call", "2 spans are not LLM calls (CHAIN 1, RETRIEVER 1)")]


def test_a_pretty_printed_request_and_stdin_read_the_same(tmp_path):
    first = orjson.loads((OTLP / "collector.jsonl").read_bytes().splitlines()[0])
    pretty = tmp_path / "request.json"
    pretty.write_bytes(orjson.dumps(first, option=orjson.OPT_INDENT_2))
    lf, _ = stoptriage.read([pretty])
    assert lf.collect().select("span_id", "provider_stop_reason", "route").rows() == [
        ("7a2190356c3fc94b", "length", "support-bot/POST /chat"),
        ("9e1d4c7b2a6f3e80", "stop", "support-bot/POST /chat"),
    ]
    lf, rep = stoptriage.read(["-"], stdin=(OTLP / "collector.jsonl").read_bytes())
    assert rep.formats == {"<stdin>": "otlp"}
    assert lf.collect()["span_id"].to_list() == ["7a2190356c3fc94b", "9e1d4c7b2a6f3e80", "e457b5a2e4d86bd1", "27ae41e4649b934c"]
