"""stoptriage examples: the rows behind a rule, a derived class or the disagreements."""

from __future__ import annotations

import io

import orjson
import polars as pl
import pytest

from conftest import SAMPLES, invoke, run_main
import stoptriage
from stoptriage.reports.examples import examples
from stoptriage.rules import HINTS, hints

SAMPLE = str(SAMPLES / "responses.jsonl")


def csv(result) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(result.stdout), infer_schema_length=None)


def test_rule_returns_exactly_the_rows_it_fired_on(exports):
    candidate = str(exports[1])
    result = invoke("examples", candidate, "--rule", "truncated_json")
    df = csv(result)
    assert df.height == 54  # 4.5% of 1200 invoice-extract rows after the deploy
    assert "54 of 2600 rows match; showing 54" in result.stderr
    assert df.columns[:3] == ["route", "trace_id", "span_id"] and df.columns[-1] == "hint"
    assert set(df["route"]) == {"invoice-extract"}
    assert df["alerts"].str.contains("truncated_json").all()
    assert df["evidence"].str.contains("json_error=").all() and df["evidence"].str.contains("truncation_cue=token_cap").all()
    assert set(df["hint"]) == {hints()["truncated_json"]}
    # The same rows classify flags, in input order.
    classified = csv(invoke("classify", candidate))
    fired = classified.filter(pl.col("alerts").fill_null("").str.contains("truncated_json"))["source_line"]
    assert df["source_line"].to_list() == fired.to_list() == sorted(fired.to_list())


def test_derived_class_and_by_columns(exports):
    result = invoke("examples", str(exports[1]), "--derived", "truncated", "--by", "prompt_version,model")
    df = csv(result)
    assert df.columns[:3] == ["route", "prompt_version", "model"]
    assert set(df["derived_stop"]) == {"truncated"} and set(df["prompt_version"]) == {"v2"}
    # 54 invoice rows cut by the cap + support-chat's steady 2% (16 of 800).
    assert df.group_by("route").len().sort("route").rows() == [("invoice-extract", 54), ("support-chat", 16)]
    assert set(df["hint"]) == {HINTS["derived"]["truncated"]}


def test_disagree_matches_classify_on_the_sample():
    classified = csv(invoke("classify", SAMPLE))
    disagree = int(classified["disagrees"].sum())
    result = invoke("examples", SAMPLE, "--disagree")
    df = csv(result)
    assert disagree == 35 and df.height == disagree
    assert f"{disagree} of {classified.height} rows match; showing {disagree}" in result.stderr
    assert (df["derived_stop"] != df["expected_derived"]).all()
    # Each row's hint is its derived class's hint.
    assert df["hint"].to_list() == [HINTS["derived"][d] for d in df["derived_stop"]]
    assert df["evidence"].null_count() == 0
    refusal = df.filter(pl.col("derived_stop") == "refusal")
    assert refusal["evidence"].str.contains("refusal_phrase=|provider_refusal=").all()


def test_limit_default_on_a_terminal_and_all_when_piped(exports):
    table = invoke("examples", str(exports[1]), "--rule", "truncated_json", "--format", "table")
    assert "54 of 2600 rows match; showing 20" in table.stderr
    assert "hint: the JSON was cut by the token cap" in table.stdout
    limited = invoke("examples", str(exports[1]), "--rule", "truncated_json", "--limit", "5")
    assert csv(limited).height == 5 and "54 of 2600 rows match; showing 5" in limited.stderr
    lib = examples(stoptriage.classify([exports[1]]).frame, rule="truncated_json", limit=3)
    assert (lib.matched, lib.rows, lib.frame.height) == (54, 2600, 3)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--rule", "truncated_json", "--derived", "truncated"], "exactly one of"),
        (["--disagree", "--rule", "soft_refusal"], "exactly one of"),
        ([], "got none"),
        (["--rule", "truncated_jsn"], "rules are: truncated_json, silent_truncation, soft_refusal"),
        (["--derived", "cut"], "derived classes are: empty, tool_call_malformed"),
        (["--disagree", "--by", "team"], "--by team"),
    ],
)
def test_bad_selectors_are_usage_errors(args, needle, monkeypatch, capsys):
    code, out, err = run_main(["examples", SAMPLE, *args], monkeypatch, capsys)
    assert code == 2 and out == "" and needle in err


def test_terminal_view_shows_markup_literally(tmp_path):
    rows = [
        {"route": "[red]billing", "provider_stop_reason": "stop", "output_text": "Tap [bold]Pay[/bold] then the"},
        {"route": "[red]billing", "provider_stop_reason": "length", "output_text": "The total is [/] 12 and"},
        {"route": "[red]billing", "provider_stop_reason": "stop", "output_text": "Your card was charged [link=x]twice[/link]."},
    ]
    path = tmp_path / "markup.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result = invoke("examples", str(path), "--derived", "truncated", "--format", "table")
    assert "2 of 3 rows match; showing 2" in result.stderr
    assert "[red]billing" in result.stdout
    assert "Tap [bold]Pay[/bold] then the" in result.stdout
    assert "[/] 12 and" in result.stdout
