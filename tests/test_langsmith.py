"""LangSmith runs (trace-formats.md §4): list_runs dumps, JSON arrays and bulk-export Parquet.

Fixtures (tests/fixtures/langsmith/, written for the project in LangSmith's run data
format): ``runs.jsonl`` — one LangChain trace (root chain ``support-agent`` with a
ChatAnthropic run cut at max_tokens, a ChatOpenAI tool-call run, a ChatOpenAI run after
the tool result, a tool run, a RunnableSequence and a failed run), a ``wrap_openai``
run, a ChatGoogleGenerativeAI run whose root is not in the file, and a record that is
not a run; ``runs.parquet`` is the same runs as the bulk export lays them out
(``make_fixtures.py``).
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect, read_one
from stoptriage.ingest.langsmith import has_run_columns, is_run

LS = FIXTURES / "langsmith"
UTC = dt.timezone.utc


def classified(path) -> tuple[pl.DataFrame, stoptriage.IngestReport]:
    res = stoptriage.classify([path])
    return res.frame.collect(), res.report


def by_span(df: pl.DataFrame) -> dict[str, dict]:
    return {r["span_id"][-2:]: r for r in df.to_dicts()}


def test_only_llm_runs_are_rows_and_the_rest_is_counted():
    df, rep = classified(LS / "runs.jsonl")
    assert rep.formats == {str(LS / "runs.jsonl"): "langsmith"}
    assert df["source_line"].to_list() == [2, 4, 5, 7, 8, 9]
    assert df["run_name"].to_list() == ["ChatAnthropic", "ChatOpenAI", "ChatOpenAI", "ChatOpenAI", "ChatGoogleGenerativeAI", "ChatOpenAI"]
    assert rep.skipped["reason"].to_list() == ["3 runs are not LLM calls (chain 2, tool 1)"]
    assert rep.problems.filter(pl.col("kind") == "unknown_shape")["source_line"].to_list() == [10]
    assert rep.counts() == {"unknown_shape": 1}


def test_chat_anthropic_max_tokens():
    row = by_span(classified(LS / "runs.jsonl")[0])["02"]
    assert row["provider"] == "anthropic" and row["model"] == "claude-sonnet-4-5-20250929"
    assert row["provider_stop_reason"] == "max_tokens" and row["stop_reason"] == "length"
    assert row["max_tokens"] == 1024 and row["output_tokens"] == 1024
    assert row["output_text"].endswith("claims require proof of")
    assert row["derived_stop"] == "truncated"
    assert row["route"] == "support-agent"  # the root run's name, joined on trace_id
    assert row["timestamp"] == dt.datetime(2026, 3, 1, 10, 0, 0, 100000, tzinfo=UTC)
    assert row["normalized_by"] is None and row["expects_json"] is False and row["after_tool_result"] is False


def test_langchain_tool_calls_args_object_becomes_json_text():
    row = by_span(classified(LS / "runs.jsonl")[0])["04"]
    assert row["provider_stop_reason"] == "tool_calls" and row["stop_reason"] == "tool_call"
    assert row["tool_calls"] == [{"name": "lookup_order", "arguments": '{"order_id":"4417"}'}]
    assert row["tool_schemas"][0]["name"] == "lookup_order"
    assert row["output_text"] == "" and row["model"] == "gpt-4o-2024-08-06"


def test_run_after_a_tool_message_with_structured_output():
    row = by_span(classified(LS / "runs.jsonl")[0])["05"]
    assert row["after_tool_result"] is True  # last of inputs.messages[0] is a ToolMessage
    assert row["expects_json"] is True  # extra.options.ls_structured_output_format
    assert row["provider_stop_reason"] == "stop" and row["output_tokens"] == 14
    assert row["output_text"] == '{"status": "shipped", "eta": "2026-03-04"}'


def test_wrap_openai_run_reads_the_provider_body():
    row = by_span(classified(LS / "runs.jsonl")[0])["31"]
    assert row["provider_api"] == "openai_chat" and row["response_id"] == "chatcmpl-B9xQ2"
    assert row["provider"] == "openai" and row["model"] == "gpt-4o-mini-2024-07-18"
    assert row["provider_stop_reason"] == "tool_calls" and row["stop_reason"] == "tool_call"
    assert row["tool_calls"] == [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]  # as sent
    assert row["max_tokens"] == 300 and row["output_tokens"] == 16
    assert row["route"] == "ChatOpenAI"  # the run is its own root


def test_root_not_in_file_routes_by_own_name_and_provider_spelling():
    row = by_span(classified(LS / "runs.jsonl")[0])["01"]
    assert row["route"] == "ChatGoogleGenerativeAI"
    assert row["provider"] == "gemini" and row["ls_provider"] == "google_genai"
    assert row["provider_stop_reason"] == "STOP" and row["stop_reason"] == "stop"
    assert row["max_tokens"] == 256 and row["output_text"] == "Kostenlose Rücksendung innerhalb von 30 Tagen."


def test_failed_run_is_a_call_error_row():
    row = by_span(classified(LS / "runs.jsonl")[0])["09"]
    assert row["stop_detail"] == "call_error" and row["provider_stop_reason"] is None
    assert row["error"].startswith("RateLimitError") and row["output_text"] == ""
    assert row["route"] == "support-agent"


def test_bulk_export_parquet_reads_like_the_dump():
    jl, _ = classified(LS / "runs.jsonl")
    pq, rep = classified(LS / "runs.parquet")
    assert rep.formats == {str(LS / "runs.parquet"): "langsmith"}
    assert pq["source_line"].to_list() == [1, 3, 4, 6, 7, 8]  # 0-based rows (the non-run record is not exported)
    skip = {"source_file", "source_line"}
    assert pq.drop(skip).to_dicts() == jl.drop(skip).to_dicts()
    assert rep.skipped["reason"].to_list() == ["3 runs are not LLM calls (chain 2, tool 1)"]


def _run(**kw) -> dict:
    base = {"trace_id": "t-1", "start_time": "2026-03-02T09:00:00.000000", "extra": {"metadata": {}}, "error": None}
    base.update(kw)
    return base


def test_json_array_root_after_child_and_wrap_anthropic():
    anthropic_body = {
        "id": "msg_01Tq", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": "Let me check."}, {"type": "tool_use", "id": "toolu_01", "name": "check_stock", "input": {"sku": "JKT-114"}}],
        "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 40, "output_tokens": 31},
    }  # fmt: skip
    runs = [
        _run(id="c-1", name="ChatAnthropic", run_type="llm", parent_run_id="t-1",
             inputs={"messages": [{"role": "user", "content": "Is JKT-114 in stock?"}], "max_tokens": 512, "model": "claude-haiku-4-5"},
             outputs=anthropic_body, extra={"metadata": {"ls_provider": "anthropic", "ls_model_name": "claude-haiku-4-5"}}),
        _run(id="t-1", name="stock-bot", run_type="chain", parent_run_id=None, inputs={}, outputs={}),
    ]  # fmt: skip
    lf, problems, fmt = read_one("runs.json", data=json.dumps(runs, indent=2).encode())
    row = lf.collect().row(0, named=True)
    assert fmt == "langsmith"
    assert problems["reason"].to_list() == ["1 run is not an LLM call (chain 1)"]
    assert row["route"] == "stock-bot"  # the root comes later in the file
    assert (row["provider"], row["provider_stop_reason"], row["output_text"]) == ("anthropic", "tool_use", "Let me check.")
    assert row["tool_calls"] == [{"name": "check_stock", "arguments": '{"sku":"JKT-114"}'}]
    assert row["max_tokens"] == 512 and row["output_tokens"] == 31


def test_odd_outputs_never_fail_the_file():
    runs = [
        _run(id="a", name="ChatOpenAI", run_type="llm", outputs={"generations": [[{"text": 42, "generation_info": {"finish_reason": ["length"]}}]]}, completion_tokens="7"),
        _run(id="b", name="my_llm", run_type="llm", outputs={"output": "Hello there."}, inputs={"prompt": "hi"}, completion_tokens=3),
        _run(id="c", name="ChatOpenAI", run_type="llm", outputs="not an object", extra="broken"),
    ]
    data = b"\n".join(json.dumps(r).encode() for r in runs)
    df = read_one("odd.jsonl", data=data)[0].collect()
    assert df["output_text"].to_list() == ["42", "Hello there.", "not an object"]
    assert df["provider_stop_reason"].to_list() == ["length", None, None]
    assert df["output_tokens"].to_list() == [7, 3, None]
    assert df["route"].to_list() == ["ChatOpenAI", "my_llm", "ChatOpenAI"]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"run_type": "llm", "trace_id": "t", "inputs": {}}, True),
        ({"run_type": "chain", "dotted_order": "x"}, True),
        ({"run_type": "llm"}, False),
        ({"type": "GENERATION", "traceId": "t"}, False),
    ],
)
def test_record_sniffer(record, expected):
    assert is_run(record) is expected


def test_detection():
    assert has_run_columns({"id", "run_type", "trace_id", "inputs", "outputs"})
    assert not has_run_columns({"id", "type", "trace_id"})
    assert detect((LS / "runs.jsonl").read_bytes()) == "langsmith"


def test_parquet_with_binary_uuid_columns(tmp_path):
    # Some warehouses write UUIDs as 16-byte binary: ids read as hex, the root join still works.
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq_

    root, child = uuid.UUID(int=1).bytes, uuid.UUID(int=2).bytes
    llm_out = {"generations": [[{"text": "Done.", "generation_info": {"finish_reason": "stop"}}]]}
    table = pa.table(
        {
            "id": pa.array([root, child], pa.binary(16)),
            "trace_id": pa.array([root, root], pa.binary(16)),
            "name": ["nightly-report", "ChatOpenAI"],
            "run_type": ["chain", "llm"],
            "inputs": pa.array([{"image": b"\x00"}, {"image": b"\x01"}]),  # nested binary: read as null, never fatal
            "outputs": ["{}", json.dumps(llm_out)],
            "extra": ["{}", json.dumps({"metadata": {"ls_provider": "openai"}})],
        }
    )
    path = tmp_path / "runs.parquet"
    pq_.write_table(table, path)
    df, rep = classified(path)
    assert rep.formats == {str(path): "langsmith"}
    row = df.row(0, named=True)
    assert row["route"] == "nightly-report" and row["span_id"] == "00000000000000000000000000000002"
    assert (row["provider"], row["provider_stop_reason"], row["output_text"]) == ("openai", "stop", "Done.")
    assert row["after_tool_result"] is None  # the inputs could not be read
