"""Langfuse observation exports (trace-formats.md §3): both spellings, every container.

Fixtures (tests/fixtures/langfuse/, written for the project in Langfuse's documented
shapes): ``api_observations.jsonl`` (public API / UI export, camelCase),
``blob_observations.jsonl`` (enriched blob export, snake_case) and the same records
as CSV and Parquet (``make_fixtures.py``), ``blob_observations.json`` (a JSON array).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect, read_one
from stoptriage.ingest.langfuse import has_observation_columns, is_observation

LF = FIXTURES / "langfuse"
UTC = dt.timezone.utc


def classified(path) -> tuple[pl.DataFrame, stoptriage.IngestReport]:
    res = stoptriage.classify([path])
    return res.frame.collect(), res.report


def by_line(df: pl.DataFrame) -> dict[int, dict]:
    return {r["source_line"]: r for r in df.to_dicts()}


# --- camelCase API / UI export ------------------------------------------------


def test_api_export_rows_are_the_generations_only():
    df, rep = classified(LF / "api_observations.jsonl")
    assert rep.formats == {str(LF / "api_observations.jsonl"): "langfuse"}
    assert df["source_line"].to_list() == [1, 2, 4, 6, 7, 8, 10, 11]
    problems = rep.problems.sort("source_line", nulls_last=True).to_dicts()
    assert [(p["source_line"], p["kind"]) for p in problems] == [(9, "malformed_json"), (12, "unknown_shape"), (None, "not_a_model_call")]
    assert problems[2]["reason"] == "2 observations are not LLM calls (SPAN 1, EVENT 1)"
    assert rep.counts() == {"malformed_json": 1, "unknown_shape": 1}


def test_non_streaming_openai_generation_has_no_stop_value():
    # The Langfuse OpenAI wrapper stores {role, content} and no finish_reason (§3c).
    row = by_line(classified(LF / "api_observations.jsonl")[0])[1]
    assert row["provider_stop_reason"] is None and row["stop_reason"] == "unknown"
    assert row["provider"] == "openai" and row["model"] == "gpt-4o-2024-08-06"
    assert row["output_text"] == "Order 4417 ships on Thursday and should arrive by Monday."
    assert row["output_tokens"] == 14
    assert row["max_tokens"] is None  # modelParameters.max_tokens "Infinity" = not set
    assert row["route"] == "OpenAI-generation"  # no trace name in the API export: observation name
    assert row["trace_id"] == "c1a0e5f2-7d43-4b8e-a1f6-0e2d9c3b7a11"
    assert row["span_id"] == "8f1c2a7e-51b4-4c1e-9a0d-2b6f3e9d1a01"
    assert row["timestamp"] == dt.datetime(2026, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)
    assert row["normalized_by"] is None and row["expects_json"] is False and row["after_tool_result"] is False


def test_streaming_generation_reads_metadata_finish_reason():
    row = by_line(classified(LF / "api_observations.jsonl")[0])[2]
    assert row["provider_stop_reason"] == "length" and row["stop_reason"] == "length"
    assert row["max_tokens"] == 64 and row["output_tokens"] == 64
    assert row["derived_stop"] == "truncated"


def test_tool_calls_from_the_output_message_keep_raw_arguments():
    df = read_one(str(LF / "api_observations.jsonl"))[0].collect()
    row = by_line(df)[4]
    assert row["tool_calls"] == [{"name": "get_weather", "arguments": '{"city": "Paris"}'}]
    assert [s["name"] for s in row["tool_schemas"]] == ["get_weather"]
    assert row["output_text"] == "" and row["provider_stop_reason"] is None
    assert row["parent_observation_id"] == "8f1c2a7e-51b4-4c1e-9a0d-2b6f3e9d1a03"


def test_raw_anthropic_body_in_output_goes_through_bodies():
    row = by_line(classified(LF / "api_observations.jsonl")[0])[6]
    assert row["provider"] == "anthropic" and row["provider_api"] == "anthropic_messages"
    assert row["model"] == "claude-sonnet-4-5-20250929"
    assert row["provider_stop_reason"] == "max_tokens" and row["stop_reason"] == "length"
    assert row["output_text"].startswith("Ticket 9921: checkout fails") and row["output_text"].endswith(", and the")
    assert row["output_tokens"] == 256
    assert row["max_tokens"] == 256  # the input is the request object
    assert row["response_id"] == "msg_01XbR2"


def test_error_level_without_output_is_a_call_error_row():
    row = by_line(classified(LF / "api_observations.jsonl")[0])[7]
    assert row["stop_detail"] == "call_error" and row["provider_stop_reason"] is None
    assert row["level"] == "ERROR" and row["status_message"].startswith("Error code: 429")
    assert row["output_text"] == "" and row["derived_stop"] == "empty"


def test_json_request_and_tool_result_input():
    row = by_line(classified(LF / "api_observations.jsonl")[0])[8]
    assert row["expects_json"] is True  # modelParameters.response_format (a JSON string)
    assert row["after_tool_result"] is True  # last input message has role tool
    assert row["output_text"] == '{"umbrella": true, "reason": "4 mm of rain expected"}'


def test_list_output_reads_the_first_choice_and_otel_metadata_reads_the_stop():
    rows = by_line(classified(LF / "api_observations.jsonl")[0])
    assert rows[10]["output_text"] == "Stay dry, stay bold."
    assert rows[10]["max_tokens"] == 20
    # OTel ingestion keeps gen_ai.response.finish_reasons in metadata.attributes
    assert rows[11]["provider_stop_reason"] == "stop" and rows[11]["stop_reason"] == "stop"
    assert rows[11]["output_text"] == "Standard items: 30 days. Clearance items: 14 days."
    assert rows[11]["max_tokens"] == 200


# --- snake_case blob export in JSON lines, CSV and Parquet --------------------

BLOB_EXPECTED = [
    # route, provider, model, stop, stop_detail, text, tools, out tokens, max tokens
    ("support-chat", "openai", "gpt-4o-2024-08-06", "stop", None, "Your plan renews on the 14th of each month.", [], 12, 400),
    ("inventory-agent", "openai", "gpt-4o-mini-2024-07-18", "tool_calls", None, "", [("lookup_sku", '{"sku":"JKT-114"}')], 18, None),
    ("inventory-agent", "openai", "gpt-4o-mini-2024-07-18", "tool_calls", None, "", [("check_stock", '{"sku":"JKT-114","size":"M"}')], 21, None),
    ("billing", "anthropic", "claude-haiku-4-5", "end_turn", None, "Refund issued to the original card; allow 5-10 business days.", [], 17, 1024),
    ("billing", "anthropic", "claude-haiku-4-5", None, "call_error", "", [], None, 1024),
    ("classify-intent", "openai", "gpt-4o-mini-2024-07-18", "stop", None, "billing", [], 1, 5),
]


@pytest.mark.parametrize(("ext", "lines"), [("jsonl", [1, 2, 4, 5, 6, 7]), ("csv", [0, 1, 3, 4, 5, 6]), ("parquet", [0, 1, 3, 4, 5, 6])])
def test_blob_export_every_container_reads_the_same(ext, lines):
    path = LF / f"blob_observations.{ext}"
    df, rep = classified(path)
    assert rep.formats == {str(path): "langfuse"}
    assert df["source_line"].to_list() == lines
    got = [
        (r["route"], r["provider"], r["model"], r["provider_stop_reason"], r["stop_detail"], r["output_text"],
         [(c["name"], c["arguments"]) for c in r["tool_calls"]], r["output_tokens"], r["max_tokens"])
        for r in df.to_dicts()
    ]  # fmt: skip
    assert got == BLOB_EXPECTED
    assert df["stop_reason"].cast(pl.String).to_list() == ["stop", "tool_call", "tool_call", "stop", "error", "stop"]  # the failed call (call_error) reads error
    assert df["timestamp"][0] == dt.datetime(2026, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)
    assert df["trace_id"][0] == "4bf92f3577b34da6a3ce929d0e0e4736" and df["span_id"][0] == "b7e2c901f4a3d215"
    assert df["after_tool_result"].to_list() == [False, False, None, False, False, False]  # row 3 has no input (io group off)
    assert rep.skipped.to_dicts() == [{"source_file": str(path), "reason": "1 observation is not an LLM call (SPAN 1)"}]
    assert rep.failures.height == 0


def test_blob_json_array_is_read_record_by_record():
    df, rep = classified(LF / "blob_observations.json")
    assert rep.formats == {str(LF / "blob_observations.json"): "langfuse"}
    row = df.row(0, named=True)
    assert df.height == 1 and row["source_line"] == 1
    assert (row["route"], row["provider_stop_reason"], row["stop_reason"], row["max_tokens"]) == ("release-notes", "length", "length", 12)
    assert row["timestamp"] == dt.datetime(2026, 5, 30, 8, 15, 2, 250000, tzinfo=UTC)


# --- shapes inside one record ---------------------------------------------------

ODD = b"\n".join(
    [
        # content as Anthropic blocks with a tool_use block (LangChain / SDK message dicts)
        b'{"id":"o1","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01T09:00:00Z","model":"claude-sonnet-4-5",'
        b'"output":{"role":"assistant","content":[{"type":"text","text":"Checking "},{"type":"text","text":"stock."},'
        b'{"type":"tool_use","id":"toolu_1","name":"check_stock","input":{"sku":"A-1"}}]},"metadata":{"stop_reason":"tool_use"}}',
        # a text that merely looks like a list, and a list of strings
        b'{"id":"o2","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01T09:00:01Z","output":{"role":"assistant","content":"[1] Pack the tent."}}',
        b'{"id":"o3","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01T09:00:02Z","output":{"role":"assistant","content":[]}}',
        # odd values: usage not an object, content of numbers, start time of another format
        b'{"id":"o4","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01 09:00:03","usageDetails":"lots",'
        b'"modelParameters":{"max_tokens":-1},"output":{"role":"assistant","content":[1,2]}}',
        b'{"id":"o5","traceId":"t1","type":"generation","name":"n","startTime":"2026-06-01T11:00:04+02:00","output":"plain text answer",'
        b'"metadata":{"finish_reason":7}}',
        b'{"id":"o6","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01T09:00:05Z","output":{"role":"assistant","content":["Stay ","dry."]}}',
        # the v2 API's legacy usage object beside an empty usageDetails
        b'{"id":"o7","traceId":"t1","type":"GENERATION","name":"n","startTime":"2026-06-01T09:00:06Z","output":"ok",'
        b'"usageDetails":{},"usage":{"input":5,"output":9,"total":14,"unit":"TOKENS"}}',
    ]
)


def test_message_shapes_and_odd_values_never_fail_the_file():
    lf, problems, fmt = read_one("odd.jsonl", data=ODD)
    df = lf.collect()
    assert fmt == "langfuse" and problems.height == 0
    rows = df.to_dicts()
    assert rows[0]["output_text"] == "Checking stock."
    assert rows[0]["tool_calls"] == [{"name": "check_stock", "arguments": '{"sku":"A-1"}'}]
    assert rows[0]["provider"] == "anthropic" and rows[0]["provider_stop_reason"] == "tool_use"
    assert rows[1]["output_text"] == "[1] Pack the tent."
    assert rows[2]["output_text"] == ""
    assert rows[3]["output_text"] == "[1,2]" and rows[3]["output_tokens"] is None and rows[3]["max_tokens"] is None
    assert rows[3]["timestamp"] == dt.datetime(2026, 6, 1, 9, 0, 3, tzinfo=UTC)
    assert rows[4]["timestamp"] == dt.datetime(2026, 6, 1, 9, 0, 4, tzinfo=UTC)
    assert rows[4]["output_text"] == "plain text answer"
    assert rows[4]["provider_stop_reason"] == "7"  # a number kept as its decimal text
    assert rows[5]["output_text"] == "Stay dry."  # a list of strings
    assert rows[6]["output_tokens"] == 9


def test_sniffers():
    assert is_observation({"type": "GENERATION", "traceId": "t", "startTime": "x"})
    assert is_observation({"type": "SPAN", "trace_id": "t", "start_time": "x"})
    assert is_observation({"trace_id": "t", "provided_model_name": "gpt-4o"})
    assert not is_observation({"type": "message", "stop_reason": "end_turn"})  # an Anthropic body
    assert not is_observation({"id": "t", "name": "support-chat", "timestamp": "x"})  # a trace row
    assert has_observation_columns({"id", "type", "trace_id", "start_time", "output"})
    assert has_observation_columns({"id", "type", "traceId", "startTime"})
    assert not has_observation_columns({"output_text", "provider_stop_reason", "type"})
    assert detect((LF / "api_observations.jsonl").read_bytes()) == "langfuse"
    assert detect((LF / "blob_observations.csv").read_bytes()) == "langfuse"
