"""One test per input format, on small realistic fixtures written for the project
(tests/fixtures/EXPECTED.md lists what each line exercises)."""

from __future__ import annotations

import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect


def classified(name: str, **kw) -> tuple[pl.DataFrame, stoptriage.IngestReport]:
    res = stoptriage.classify([FIXTURES / name], **kw)
    return res.frame.collect(), res.report


def col(df: pl.DataFrame, name: str) -> list:
    return df[name].cast(pl.String).to_list() if df.schema[name] != pl.String else df[name].to_list()


def test_openai_chat_bare_bodies():
    df, rep = classified("openai_chat.jsonl")
    assert rep.formats == {str(FIXTURES / "openai_chat.jsonl"): "responses"}
    assert col(df, "provider_stop_reason") == ["stop", "length", "tool_calls", "stop", "stop", "function_call"]
    assert df["tool_call_count"].to_list() == [0, 0, 1, 1, 0, 1]
    assert col(df, "stop_reason") == ["stop", "length", "tool_call", "stop", "stop", "tool_call"]
    # finish_reason stop with tool_calls (G1): kept as stop, flagged
    assert df.row(3, named=True)["alerts"] == ["hidden_tool_call"]
    # message.refusal with content null
    assert df.row(4, named=True)["provider_refusal"]
    assert "refusal_flagged" in df.row(4, named=True)["alerts"]
    assert df["source_line"].to_list() == [1, 2, 3, 4, 5, 6]
    assert set(df["provider"]) == {"openai"} and df["model"].null_count() == 0


def test_openai_chat_tool_arguments_are_raw_json_text():
    res = stoptriage.classify([FIXTURES / "openai_chat.jsonl"])
    calls = res.frame.select("tool_calls").collect()["tool_calls"].to_list()
    name, args = calls[2][0]["name"], calls[2][0]["arguments"]
    assert isinstance(args, str) and args.startswith("{") and name


def test_openai_responses():
    df, _ = classified("openai_responses.jsonl")
    assert col(df, "provider_stop_reason") == ["completed", "completed", "incomplete", "completed"]
    assert col(df, "stop_reason") == ["stop", "tool_call", "length", "stop"]
    assert col(df, "stop_detail")[2] == "max_output_tokens"
    assert df["tool_call_count"].to_list() == [0, 1, 0, 0]
    assert df.row(3, named=True)["provider_refusal"]  # refusal content part


def test_anthropic_messages():
    df, _ = classified("anthropic_messages.jsonl")
    assert col(df, "provider_stop_reason") == ["end_turn", "max_tokens", "tool_use", "end_turn", "refusal"]
    assert df["tool_call_count"].to_list() == [0, 0, 1, 0, 0]
    assert col(df, "stop_detail")[4] == "cyber"
    assert col(df, "derived_stop")[3] == "empty"  # empty end_turn (G5)


def test_anthropic_tool_input_object_becomes_json_text():
    res = stoptriage.classify([FIXTURES / "anthropic_messages.jsonl"])
    call = res.frame.select("tool_calls").collect()["tool_calls"][2][0]
    assert call["arguments"].startswith("{") and call["arguments"].endswith("}")


def test_gemini_numeric_finish_reason_and_blocked_prompt():
    df, _ = classified("gemini.jsonl")
    assert col(df, "provider_stop_reason") == ["STOP", "2", "STOP", None]
    assert col(df, "stop_reason") == ["stop", "length", "tool_call", "content_filter"]
    assert col(df, "stop_detail")[3] == "SAFETY"
    assert df["tool_call_count"].to_list() == [0, 0, 1, 0]
    assert col(df, "derived_stop")[1] == "empty"


def test_bedrock_converse_guardrail():
    df, _ = classified("bedrock_converse.jsonl")
    assert col(df, "provider_stop_reason") == ["end_turn", "max_tokens", "tool_use", "guardrail_intervened"]
    assert col(df, "stop_reason")[3] == "content_filter"
    assert "refusal_flagged" in df.row(3, named=True)["alerts"]
    assert df["tool_call_count"].to_list() == [0, 0, 1, 0]


def test_wrapped_request_fields_and_pass_through():
    df, _ = classified("wrapped.jsonl")
    assert set(df["route"]) == {"support"}
    assert df["trace_id"].null_count() == 0 and df["timestamp"].null_count() == 0
    first = df.row(0, named=True)
    assert first["max_tokens"] == 50 and first["expects_json"] is True
    assert first["alerts"] == ["truncated_json"]
    second = df.row(1, named=True)
    assert second["after_tool_result"] is True and second["alerts"] == ["empty_after_tool_result"]
    bedrock = df.row(3, named=True)
    assert bedrock["derived_stop"] == "tool_call_malformed"
    assert "required property" in bedrock["tool_args_error"]
    assert df.row(4, named=True)["max_tokens"] == 100


@pytest.mark.parametrize("name", ["flat.csv", "flat.jsonl", "flat.parquet"])
def test_flat_tables(name):
    df, rep = classified(name)
    assert df.height == 8
    assert "prompt_version" in df.columns  # pass-through
    assert df.schema["output_tokens"] == pl.Int64
    assert df["provider_stop_reason"].null_count() == 0
    assert df["derived_stop"].null_count() == 0


def test_flat_jsonl_heterogeneous_values_do_not_break_the_file():
    df, rep = classified("flat.jsonl")
    # "12" (a string) is still read as 12; an extra column that changes type stays text
    assert 12 in df["output_tokens"].to_list()
    assert df.schema["prompt_version"] == pl.String


def test_map_renames_columns():
    df, _ = classified("renamed.csv", mapping={"output_text": "completion", "provider_stop_reason": "finish_reason", "route": "endpoint"})
    assert df.height == 5 and df["route"].null_count() == 0 and "unknown" not in df["route"].to_list()


def test_route_option_picks_a_column():
    df, _ = classified("flat.csv", route="prompt_version")
    assert set(df["route"]) <= {"v1", "v2"}


def test_detection_is_by_content_not_name(tmp_path):
    body = (FIXTURES / "anthropic_messages.jsonl").read_bytes()
    odd = tmp_path / "export.csv"
    odd.write_bytes(body)
    assert detect(body[:4096]) == "responses"
    df = stoptriage.classify([odd]).frame.collect()
    assert df.height == 5


def test_many_paths_and_a_glob_keep_input_order():
    res = stoptriage.classify([FIXTURES / "gemini.jsonl", str(FIXTURES / "bedrock_*.jsonl")])
    df = res.frame.collect()
    assert df["provider"].to_list()[:4] == ["gemini"] * 4 and df["provider"].to_list()[4:] == ["bedrock"] * 4
    assert len(res.report.formats) == 2


def test_stdin_bytes():
    data = (FIXTURES / "openai_chat.jsonl").read_bytes()
    df = stoptriage.classify(["-"], stdin=data).frame.collect()
    assert df.height == 6 and set(df["source_file"]) == {"<stdin>"}
