"""llm-logs: the llm CLI's logs.db (trace-formats.md §9). The databases under
tests/fixtures/llm_logs/ are built by make_fixtures.py there (its docstring lists
every row); they hold invented values in the shapes llm and its plugins store.

legacy.db (responses table, rowid = line)      threads.db (upgraded to 0.32)
1 OpenAI streamed record, length, max_tokens 60   responses 1: old row, kept
2 OpenAI chat.completion body, json_object        responses 2: also turn 1: dropped
3 OpenAI tool call (tool_calls table)             turn 1: two text parts, length
4 fed the tool result, empty answer              turn 2: Anthropic tool_use (parts)
5 llm-anthropic Message, end_turn                 turn 3: after a tool message
6 llm-gemini chunk list, MAX_TOKENS               turn 4: error -> problem
7 no response_json (markov)                       turn 5: no response_json
8 --schema (schema_id)
"""

from __future__ import annotations

import subprocess
import sys

import orjson
import polars as pl

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect_format
from stoptriage.ingest.llm_logs import is_llm_logs

DIR = FIXTURES / "llm_logs"


def classified(name: str, **kw):
    res = stoptriage.classify([DIR / name], **kw)
    return res.frame.collect(), res.report


def test_legacy_responses_table():
    df, rep = classified("legacy.db")
    assert rep.formats == {str(DIR / "legacy.db"): "llm-logs"}
    assert rep.problems.height == 0
    assert df["source_line"].to_list() == list(range(1, 9))  # rowid
    assert set(df["llm_table"]) == {"responses"}
    assert df["provider_stop_reason"].to_list() == ["length", "stop", "tool_calls", "stop", "end_turn", "MAX_TOKENS", None, "stop"]
    assert df["stop_reason"].cast(pl.String).to_list() == ["length", "stop", "tool_call", "stop", "stop", "length", "unknown", "stop"]
    # the OpenAI plugin's streamed record is not a provider body: no API, but read
    assert df["provider_api"].to_list() == [None, "openai_chat", None, None, "anthropic_messages", "gemini", None, None]
    assert df["provider"].to_list() == ["openai", "openai", "openai", "openai", "anthropic", "gemini", None, "openai"]
    assert df["normalized_by"].null_count() == 8


def test_legacy_columns_from_the_database():
    df, _ = classified("legacy.db")
    rows = [df.row(i, named=True) for i in range(df.height)]
    assert rows[0]["max_tokens"] == 60 and rows[0]["output_tokens"] == 60 and rows[0]["at_token_cap"] is True
    assert rows[0]["output_text"].endswith("adds a new") and rows[0]["response_id"] == "chatcmpl-lx01"
    assert str(rows[0]["timestamp"]) == "2026-02-10 09:00:00.123456+00:00"
    assert rows[1]["expects_json"] is True and rows[7]["expects_json"] is True  # json_object / schema_id
    assert rows[2]["tool_calls"] == [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]
    assert [s["name"] for s in rows[2]["tool_schemas"]] == ["get_weather"]
    assert rows[3]["after_tool_result"] is True and rows[3]["alerts"] == ["empty_after_tool_result"]
    assert rows[4]["max_tokens"] == 8192 and rows[4]["model"] == "claude-sonnet-4-5-20250929"
    assert rows[4]["llm_model"] == "anthropic/claude-sonnet-4-5"
    # Gemini: the last streamed chunk's finishReason; the full text from the response column
    assert rows[5]["output_text"] == "The Danube, the Rhine and the" and rows[5]["max_tokens"] == 12
    assert rows[5]["model"] == "gemini-2.5-flash-preview-05-20"  # resolved_model
    assert rows[6]["output_text"] == "the cat sat on the" and rows[6]["model"] == "markov"
    assert rows[0]["trace_id"] == "01jfx0conv0000000000000001" and rows[0]["conversation_name"] == "Summarize the changelog"
    assert rows[0]["span_id"] == "01jfx0resp0000000000000001"
    assert set(df["route"]) == {"unknown"}  # the logs name no route


def test_upgraded_database_reads_both_layouts_once():
    df, rep = classified("threads.db")
    assert list(zip(df["llm_table"], df["source_line"])) == [("responses", 1), ("turns", 1), ("turns", 2), ("turns", 3), ("turns", 5)]
    assert df["provider_stop_reason"].to_list() == ["stop", "length", "tool_use", "end_turn", None]
    (prob,) = rep.problems.iter_rows(named=True)
    assert prob["source_line"] == 4 and prob["kind"] == "error_body"
    assert prob["reason"].startswith("failed call (turns table): RateLimitError: Error code: 429")


def test_turn_output_comes_from_the_message_chain():
    df, _ = classified("threads.db")
    turn1, turn2, turn3 = (df.row(i, named=True) for i in (1, 2, 3))
    assert turn1["output_text"] == "Day one: arrive by 10, workshop until 4, then dinner at"
    assert turn1["max_tokens"] == 40 and turn1["derived_stop"] == "truncated"
    assert turn2["output_text"] == "Let me check."
    (call,) = turn2["tool_calls"]
    assert call["name"] == "get_weather" and orjson.loads(call["arguments"]) == {"city": "Oslo"}
    assert [s["name"] for s in turn2["tool_schemas"]] == ["get_weather"]
    assert turn2["after_tool_result"] is False and turn3["after_tool_result"] is True
    assert turn3["output_text"] == "It is 4 °C in Oslo right now."
    assert turn2["trace_id"] == "01jfx1thread00000000000002" and turn2["conversation_name"] == "Weather in Oslo?"
    assert str(turn2["timestamp"]) == "2026-03-01 10:05:00.250000+00:00"


def test_stdin_bytes():
    # Sniffing a SQLite file needs its tables, which ingest only reads from a path:
    # stdin takes --input-format llm-logs.
    data = (DIR / "legacy.db").read_bytes()
    df = stoptriage.classify(["-"], stdin=data, input_format="llm-logs").frame.collect()
    assert df.height == 8 and set(df["source_file"]) == {"<stdin>"}


def test_sniffing_by_tables():
    assert detect_format("sqlite", b"", str(DIR / "legacy.db")) == "llm-logs"
    assert detect_format("sqlite", b"", str(DIR / "threads.db")) == "llm-logs"
    assert is_llm_logs({"responses", "conversations", "_llm_migrations"})
    assert is_llm_logs({"turns", "messages", "parts", "threads"})
    assert not is_llm_logs({"responses"}) and not is_llm_logs({"parts"})


def test_fixture_script_rebuilds_the_same_rows(tmp_path):
    script = DIR / "make_fixtures.py"
    code = (
        "import importlib.util, pathlib, sys\n"
        f"spec = importlib.util.spec_from_file_location('mk', {str(script)!r})\n"
        "mk = importlib.util.module_from_spec(spec); spec.loader.exec_module(mk)\n"
        f"mk.build_legacy(pathlib.Path({str(tmp_path / 'legacy.db')!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    rebuilt = stoptriage.classify([tmp_path / "legacy.db"]).frame.collect().drop("source_file")
    shipped, _ = classified("legacy.db")
    assert rebuilt.equals(shipped.drop("source_file"))
