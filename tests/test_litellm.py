"""litellm: StandardLoggingPayload records (trace-formats.md §5). The fixture
tests/fixtures/litellm/payloads.jsonl is written for the project in LiteLLM's
documented payload shape; one line per case:

1 Anthropic through LiteLLM, finish_reason ``length`` (LiteLLM's rewrite of
  max_tokens), JSON requested, route from request_tags
2 OpenAI (native values), after a tool message, tools in model_parameters,
  route from the key alias (empty tags)
3 Anthropic ``stop`` with empty content after a tool result, route from model_group
4 status failure (rate limit)          5 aembedding (not an LLM call)
6 anthropic_messages pass-through: native Anthropic body, not rewritten
7 vertex_ai tool call                  8 response null
9 truncated line
"""

from __future__ import annotations

import orjson
import polars as pl

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect
from stoptriage.ingest.litellm import is_litellm

PATH = FIXTURES / "litellm" / "payloads.jsonl"


def rows() -> tuple[pl.DataFrame, stoptriage.IngestReport]:
    res = stoptriage.classify([PATH])
    return res.frame.collect(), res.report


def test_detected_and_read():
    df, rep = rows()
    assert rep.formats == {str(PATH): "litellm"}
    assert df["source_line"].to_list() == [1, 2, 3, 6, 7]
    assert df["provider_stop_reason"].to_list() == ["length", "stop", "stop", "max_tokens", "tool_calls"]
    assert df["stop_reason"].cast(pl.String).to_list() == ["length", "stop", "stop", "length", "tool_call"]


def test_provider_is_litellm_custom_provider_and_rewrites_are_flagged():
    df, _ = rows()
    assert df["provider"].to_list() == ["anthropic", "openai", "anthropic", "anthropic", "vertex_ai"]
    # OpenAI-shaped bodies of other providers were rewritten by LiteLLM; OpenAI's own
    # values and a native Anthropic body passed through were not.
    assert df["normalized_by"].to_list() == ["litellm", None, "litellm", None, "litellm"]
    assert df["provider_api"].to_list()[3] == "anthropic_messages"


def test_route_ids_time_and_model():
    df, _ = rows()
    assert df["route"].to_list() == ["invoice-parse", "support-bot", "smart", "docs-writer", "weather"]
    assert df["trace_id"].to_list()[0] == "trace-fx-a" and df["span_id"].to_list()[0] == "chatcmpl-fx-0001"
    assert str(df["timestamp"][0]) == "2026-02-25 06:13:20.100000+00:00"  # startTime 1772000000.1
    assert df["model"].to_list()[0] == "claude-sonnet-4-5-20250929"  # the response's model
    assert df["request_tags"].to_list()[0] == '["invoice-parse"]' and df["model_group"].to_list()[1] == "fast"


def test_request_fields_come_from_model_parameters_and_messages():
    df, _ = rows()
    first, second, third = (df.row(i, named=True) for i in range(3))
    assert first["max_tokens"] == 1024 and first["expects_json"] is True
    assert first["output_tokens"] == 1024 and first["alerts"] == ["truncated_json"]
    assert second["after_tool_result"] is True and second["expects_json"] is False
    assert [s["name"] for s in second["tool_schemas"]] == ["lookup_order"]
    assert third["after_tool_result"] is True and third["max_tokens"] == 512
    assert third["derived_stop"] == "empty" and third["alerts"] == ["empty_after_tool_result"]
    call = df.row(4, named=True)["tool_calls"][0]
    assert call["name"] == "get_weather" and orjson.loads(call["arguments"]) == {"city": "Lima"}


def test_failures_empty_responses_and_non_llm_calls_are_reported():
    _, rep = rows()
    probs = rep.problems.sort("source_line", nulls_last=True)
    assert probs["source_line"].to_list() == [4, 8, 9, None]
    assert probs["kind"].to_list() == ["error_body", "unknown_shape", "malformed_json", "not_a_model_call"]
    failure = probs.row(0, named=True)["reason"]
    assert failure.startswith("failed call: RateLimitError 429: litellm.RateLimitError")
    assert probs.row(3, named=True)["reason"] == "1 record is not an LLM call (aembedding 1)"
    assert rep.failures.height == 3  # the summary is informational


def test_pretty_printed_payload_objects(tmp_path):
    # The s3 / gcs_bucket callbacks write one (pretty) JSON object per file.
    first = orjson.loads(PATH.read_bytes().splitlines()[0])
    p = tmp_path / "2026-02-25" / "chatcmpl-fx-0001.json"
    p.parent.mkdir()
    p.write_bytes(orjson.dumps(first, option=orjson.OPT_INDENT_2))
    df = stoptriage.classify([p.parent]).frame.collect()
    assert df["provider_stop_reason"].to_list() == ["length"] and df["route"].to_list() == ["invoice-parse"]


def test_sniffer():
    assert is_litellm({"call_type": "acompletion", "custom_llm_provider": "openai", "response": {}})
    assert is_litellm({"call_type": "completion", "model_parameters": {}})  # before custom_llm_provider existed
    assert not is_litellm({"call_type": "acompletion"})
    assert not is_litellm({"custom_llm_provider": "openai", "response": {}})
    assert detect(PATH.read_bytes()) == "litellm"


def test_responses_call_reads_input_items(tmp_path):
    record = {
        "id": "resp_fx10", "trace_id": "trace-fx-j", "call_type": "aresponses", "status": "success", "custom_llm_provider": "anthropic",
        "model": "claude-sonnet-4-5", "startTime": 1772000800.0, "metadata": {}, "request_tags": ["agent"],
        "messages": [{"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"}, {"type": "function_call_output", "call_id": "c1", "output": "[]"}],
        "model_parameters": {"max_output_tokens": 64},
        "response": {"id": "resp_fx10", "object": "response", "created_at": 1772000801, "model": "claude-sonnet-4-5", "status": "incomplete",
                     "incomplete_details": {"reason": "max_output_tokens"},
                     "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Nothing was found for"}]}],
                     "usage": {"output_tokens": 64}},
    }  # fmt: skip
    p = tmp_path / "payload.jsonl"
    p.write_bytes(orjson.dumps(record) + b"\n")
    row = stoptriage.classify([p]).frame.collect().row(0, named=True)
    assert row["provider_api"] == "openai_responses" and row["normalized_by"] == "litellm"
    assert row["provider_stop_reason"] == "incomplete" and row["stop_detail"] == "max_output_tokens"
    assert row["stop_reason"] == "length" and row["max_tokens"] == 64
    assert row["after_tool_result"] is True  # last input item is a function_call_output
