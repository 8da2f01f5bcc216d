"""Every command through Typer's CliRunner: data on stdout, talk on stderr, each format."""

from __future__ import annotations

import io
import json

import polars as pl

from conftest import FIXTURES, invoke

WRAPPED = str(FIXTURES / "wrapped.jsonl")
CHAT = str(FIXTURES / "openai_chat.jsonl")


def test_classify_csv_when_piped_and_talk_on_stderr():
    result = invoke("classify", CHAT)
    df = pl.read_csv(io.StringIO(result.stdout))
    assert df.height == 6
    assert {"provider_stop_reason", "stop_reason", "derived_stop", "expected_derived", "disagrees", "alerts", "output_tail"} <= set(df.columns)
    assert "output_text" not in df.columns  # bulky column only on request
    assert "6 responses classified" in result.stderr
    assert df.filter(pl.col("alerts").str.contains("hidden_tool_call")).height == 1


def test_classify_include_text_and_jsonl():
    result = invoke("classify", CHAT, "--format", "jsonl", "--include-text")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 6 and "output_text" in rows[0] and isinstance(rows[0]["alerts"], list)
    assert rows[2]["tool_calls"][0]["name"]


def test_classify_parquet_to_file(tmp_path):
    out = tmp_path / "out.parquet"
    invoke("classify", WRAPPED, "-o", str(out))
    df = pl.read_parquet(out)
    assert df.height == 5 and df.schema["alerts"] == pl.List(pl.String)


def test_classify_table_format_renders_key_columns():
    result = invoke("classify", CHAT, "--format", "table")
    assert "derived_stop" in result.stdout and "hidden_tool_call" in result.stdout


def test_classify_from_stdin():
    result = invoke("classify", "-", "--format", "csv", input=(FIXTURES / "anthropic_messages.jsonl").read_text())
    assert pl.read_csv(io.StringIO(result.stdout)).height == 5


def test_classify_user_phrases_extend_the_list(tmp_path):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("# house style decline\nthat is outside what i can do here\n")
    data = tmp_path / "t.csv"
    data.write_text('output_text,provider_stop_reason\n"That is outside what I can do here, sorry.",stop\n')
    plain = pl.read_csv(io.StringIO(invoke("classify", str(data), "-q").stdout))
    extended = pl.read_csv(io.StringIO(invoke("classify", str(data), "-q", "--phrases", str(phrases)).stdout))
    assert plain["refusal_hit"].to_list() == [False]
    assert extended["refusal_hit"].to_list() == [True]
    assert extended["refusal_phrase"].to_list() == ["that is outside what i can do here"]


def test_diff_by_route_csv():
    result = invoke("diff", WRAPPED, str(FIXTURES / "flat.csv"), "--by", "route")
    df = pl.read_csv(io.StringIO(result.stdout))
    assert {"route", "stop_reason", "derived_stop", "count", "share", "group_disagreement_rate", "rule_truncated_json"} <= set(df.columns)
    # rates sum to 1 per group, worst group first
    sums = df.group_by("route").agg(pl.col("share").sum())
    assert all(abs(s - 1) < 1e-9 for s in sums["share"])
    rates = df["group_disagreement_rate"].to_list()
    assert rates == sorted(rates, reverse=True)


def test_diff_examples_quote_disagreeing_rows():
    result = invoke("diff", WRAPPED, "--by", "route", "--examples", "2")
    df = pl.read_csv(io.StringIO(result.stdout))
    bad = df.filter(pl.col("disagrees"))
    assert bad.height >= 1 and bad["examples"].null_count() == 0
    assert "wrapped.jsonl:" in bad["examples"][0]
    assert df.filter(~pl.col("disagrees"))["examples"].null_count() == df.filter(~pl.col("disagrees")).height


def test_diff_multiple_columns_and_table():
    result = invoke("diff", str(FIXTURES / "flat.parquet"), "--by", "route,provider", "--format", "table")
    assert "route=" in result.stdout and "provider=" in result.stdout and "disagree" in result.stdout


def test_summary_piped_and_table():
    piped = pl.read_csv(io.StringIO(invoke("summary", WRAPPED, CHAT).stdout))
    assert set(piped["section"]) >= {"overview", "derived", "alerts", "stop_reasons", "worst_routes"}
    rows = piped.filter((pl.col("section") == "overview") & (pl.col("key") == "rows"))["rows"][0]
    assert rows == 11
    table = invoke("summary", WRAPPED, "--format", "table").stdout
    assert "worst_routes" in table and "derived" in table


def test_formats_lists_every_format():
    out = invoke("formats").stdout
    for name in ("table", "responses", "openai-batch", "anthropic-batch"):
        assert name in out
