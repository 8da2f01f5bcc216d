"""Arize Phoenix / OpenInference spans (trace-formats.md §2): span JSON, nested
attributes, the spans dataframe as Parquet and CSV. Fixtures: tests/fixtures/phoenix/
(written by its make_fixtures.py; the values asserted below are the ones set there)."""

from __future__ import annotations

import orjson
import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect, phoenix
from stoptriage.ingest.problems import MALFORMED_JSON, SKIPPED, UNKNOWN_SHAPE
from stoptriage.ingest.source import Source

PHX = FIXTURES / "phoenix"
TRACE = "6f3c1a9e2b7d4c58a1e0f9b3d2c4e6a8"


def classified(name: str) -> tuple[pl.DataFrame, stoptriage.IngestReport]:
    res = stoptriage.classify([PHX / name])
    return res.frame.collect(), res.report


def rows_by_line(df: pl.DataFrame) -> dict[int, dict]:
    return {r["source_line"]: r for r in df.iter_rows(named=True)}


@pytest.mark.parametrize("name", ["spans.jsonl", "nested.json", "dataframe.parquet", "dataframe.csv"])
def test_files_are_read_as_phoenix(name):
    _, rep = classified(name)
    assert rep.formats == {str(PHX / name): "phoenix"}


def test_llm_span_with_finish_reason_length():
    df, _ = classified("spans.jsonl")
    assert df["source_line"].to_list() == [1, 2, 3]  # CHAIN / TOOL spans (lines 4, 5) are not rows
    row = rows_by_line(df)[1]
    assert row["provider_stop_reason"] == "length" and row["stop_reason"] == "length"
    assert row["normalized_by"] is None  # OpenInference keeps the raw value
    assert row["provider"] == "openai" and row["model"] == "gpt-4o-mini-2024-07-18"
    assert row["output_text"] == "Items can be returned within 30 days if they are unused and in the"
    assert row["output_tokens"] == 64 and row["max_tokens"] == 64
    assert row["expects_json"] is False and row["after_tool_result"] is False
    assert row["trace_id"] == TRACE and row["span_id"] == "c3d4e5f60718293a"
    assert str(row["timestamp"]) == "2025-05-01 10:00:01.250000+00:00"
    assert row["route"] == "support-agent"  # root CHAIN span's name
    assert row["derived_stop"] == "truncated"


def test_older_span_stop_and_tool_calls_from_output_value():
    df, _ = classified("spans.jsonl")
    row = rows_by_line(df)[2]
    # No llm.finish_reason: the OpenAI chat completion in output.value says "stop"
    # while it carries a tool call. The stop stays "stop" and the call is read.
    assert row["provider_stop_reason"] == "stop" and row["stop_reason"] == "stop"
    assert row["tool_calls"] == [{"name": "lookup_order", "arguments": '{"order_id": "A-1042"}'}]
    assert "hidden_tool_call" in row["alerts"]
    assert row["output_tokens"] == 19
    assert row["max_tokens"] == 300  # from the request in input.value
    assert row["response_id"] == "chatcmpl-ph002"
    assert [t["name"] for t in row["tool_schemas"]] == ["lookup_order"]
    assert row["after_tool_result"] is False


def test_anthropic_contents_text_skips_reasoning_parts():
    df, _ = classified("spans.jsonl")
    row = rows_by_line(df)[3]
    assert row["output_text"] == "Your refund was issued on May 2 and should arrive within 5 business days."
    assert row["provider"] == "anthropic" and row["provider_stop_reason"] == "end_turn"
    assert row["stop_reason"] == "stop"
    assert row["output_tokens"] == 48  # sent as 48.0
    assert row["max_tokens"] == 1024
    assert row["route"] == "refund-agent"  # agent.name


def test_chain_and_tool_spans_are_skipped_and_counted():
    _, rep = classified("spans.jsonl")
    skipped = rep.skipped.to_dicts()
    assert skipped == [{"source_file": str(PHX / "spans.jsonl"), "reason": "2 spans are not LLM calls (CHAIN 1, TOOL 1)"}]
    assert rep.failures.filter(pl.col("kind") == SKIPPED).height == 0


def test_malformed_line_is_reported_with_its_line():
    _, rep = classified("spans.jsonl")
    bad = rep.failures.to_dicts()
    assert len(bad) == 1
    assert bad[0]["source_line"] == 6 and bad[0]["kind"] == MALFORMED_JSON
    assert bad[0]["reason"].startswith("malformed JSON")


def test_nested_and_flat_attributes_give_the_same_rows():
    flat, _ = classified("spans.jsonl")
    nested, rep = classified("nested.json")
    assert rep.failures.height == 0
    assert nested.drop("source_file").equals(flat.drop("source_file"))


def test_nested_attributes_flatten_to_the_flat_keys():
    def attrs(name: str) -> set[tuple]:
        lines = [orjson.dumps(v) for v in orjson.loads((PHX / name).read_bytes())] if name.endswith(".json") else (PHX / name).read_bytes().splitlines()[:5]
        records = pl.LazyFrame({"source_line": list(range(1, 6)), "_json": [x.decode() for x in lines]})
        spans, a, _, _ = phoenix.span_frames_of(records, name)
        ids = spans.select("_sid", "span_id")
        return set(a.join(ids, on="_sid").select("span_id", "key", "value").collect().iter_rows())

    flat = attrs("spans.jsonl")
    assert flat == attrs("nested.json")
    # the REST style span (line 1) gets its kind from span_kind
    assert ("c3d4e5f60718293a", "openinference.span.kind", "LLM") in flat
    # a JSON-string attribute that Phoenix decodes into an object stays one JSON text
    assert ("b2c3d4e5f6071829", "tool.parameters", '{"order_id":"string"}') in flat


def test_spans_dataframe_parquet():
    df, rep = classified("dataframe.parquet")
    assert df["source_line"].to_list() == [1, 3, 4]  # 0-based dataframe rows; 0 CHAIN, 2 TOOL
    by = rows_by_line(df)
    call = by[1]
    assert call["provider_stop_reason"] == "tool_calls" and call["stop_reason"] == "tool_call"
    # list-of-struct column attributes.llm.output_messages -> message.tool_calls
    assert call["tool_calls"] == [{"name": "lookup_order", "arguments": '{"order_id": "B-2211"}'}]
    assert call["output_tokens"] == 21 and call["max_tokens"] == 500  # float token count 21.0
    answer = by[3]
    assert answer["provider_stop_reason"] == "stop" and answer["output_text"] == '{"status": "shipped", "eta": "Friday"}'
    assert answer["after_tool_result"] is True  # last input message role "tool"
    assert answer["expects_json"] is True  # response_format json_object
    assert answer["output_tokens"] == 12
    older = by[4]  # no llm.finish_reason, token count NaN: the Anthropic message in output.value
    assert older["provider_stop_reason"] == "max_tokens" and older["stop_reason"] == "length"
    assert older["output_tokens"] == 64 and older["provider"] == "anthropic"
    assert older["output_text"].endswith("FedEx, and")
    assert set(df["route"]) == {"order-agent"}
    assert df["trace_id"].to_list() == ["0f1e2d3c4b5a69788796a5b4c3d2e1f0"] * 3
    assert str(df["timestamp"][0]) == "2025-05-02 09:30:01+00:00"
    assert rep.skipped["reason"].to_list() == ["2 spans are not LLM calls (CHAIN 1, TOOL 1)"]
    assert rep.failures.height == 0


def test_parquet_events_become_event_rows():
    records = phoenix._table_records(pl.scan_parquet(PHX / "dataframe.parquet"))
    _, _, events, _ = phoenix.span_frames_of(records, "dataframe.parquet")
    ev = events.collect().to_dicts()
    assert len(ev) == 1
    assert ev[0]["_sid"] == 2 and ev[0]["event_name"] == "exception" and ev[0]["key"] == "exception.message"
    assert ev[0]["value"] == "carrier API timeout, retried" and str(ev[0]["time"]) == "2025-05-02 09:30:02.500000+00:00"


def test_spans_dataframe_csv_with_python_repr_lists():
    df, rep = classified("dataframe.csv")
    assert df.height == 1
    row = df.row(0, named=True)
    assert row["source_line"] == 1 and row["span_id"] == "2c3d4e5f60718293"
    assert row["provider_stop_reason"] == "stop" and row["output_tokens"] == 12
    assert row["after_tool_result"] is True and row["expects_json"] is True
    assert row["output_text"] == '{"status": "shipped", "eta": "Friday"}'
    (reason,) = rep.skipped["reason"].to_list()
    assert reason.startswith("1 span is not") and reason.endswith("(CHAIN 1)")


def test_rest_page_and_px_trace_records():
    first, _, third, chain = (PHX / "spans.jsonl").read_bytes().splitlines()[:4]
    data = (
        b'{"data":[' + first + b"," + chain + b'],"next_cursor":null}\n'
        + b'{"traceId":"' + TRACE.encode() + b'","spans":[' + third + b"]}\n"
        + b'{"data":[],"next_cursor":null}\n'
    )
    assert detect(data) == "phoenix"
    lf, problems = phoenix.read(Source("<stdin>", data, "jsonl"))
    df = lf.collect()
    assert df["source_line"].to_list() == [1, 2]
    assert df["provider_stop_reason"].to_list() == ["length", "end_turn"]
    assert problems["kind"].to_list() == [SKIPPED]  # the empty page is not a problem


def test_record_that_is_not_a_span_is_reported():
    data = b'{"name":"x","context":{"trace_id":"ab","span_id":"cd"},"span_kind":"LLM","attributes":{}}\n{"spans_exported":12}\n'
    lf, problems = phoenix.read(Source("<stdin>", data, "jsonl"))
    assert lf.collect().height == 1  # an LLM span with no attributes still is a row (values null)
    bad = problems.filter(pl.col("kind") == UNKNOWN_SHAPE).to_dicts()
    assert [(p["source_line"], p["kind"]) for p in bad] == [(2, UNKNOWN_SHAPE)]


def test_sniffers():
    span = {"name": "x", "context": {"trace_id": "a", "span_id": "b"}, "span_kind": "LLM"}
    assert phoenix.is_record(span)
    assert phoenix.is_record({"data": [span], "next_cursor": "abc"})
    assert phoenix.is_record({"traceId": "a", "spans": [span]})
    # the OTel ConsoleSpanExporter object has context.span_id but kind, not span_kind
    assert not phoenix.is_record({"name": "x", "context": {"trace_id": "0xa", "span_id": "0xb"}, "kind": "SpanKind.CLIENT"})
    assert not phoenix.is_record({"data": [{"id": 1}]})
    assert phoenix.is_table({"name", "span_kind", "context.span_id", "context.trace_id", "attributes.llm.model_name"})
    assert not phoenix.is_table({"span_id", "trace_id", "name"})


def test_page_entries_that_are_not_spans_are_reported():
    first = (PHX / "spans.jsonl").read_bytes().splitlines()[0]
    data = b'{"data":[' + first + b',{"id":"x"}],"next_cursor":null}\n'
    lf, problems = phoenix.read(Source("<stdin>", data, "jsonl"))
    assert lf.collect()["provider_stop_reason"].to_list() == ["length"]
    assert problems.to_dicts() == [
        {"source_file": "<stdin>", "source_line": 1, "kind": UNKNOWN_SHAPE, "reason": "1 of 2 entries are not Phoenix spans (not read)"}
    ]
