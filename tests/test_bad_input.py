"""Bad input is counted and reported with file:line and reason, never dropped silently,
and never stops the rest of the file. Batch errored entries likewise."""

from __future__ import annotations

import polars as pl

import stoptriage
from conftest import FIXTURES


def problems_of(name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    res = stoptriage.classify([FIXTURES / name])
    return res.frame.collect(), res.report.problems.sort("source_line")


def test_bad_lines_are_reported_and_the_rest_is_read():
    rows, problems = problems_of("bad_lines.jsonl")
    assert rows["source_line"].to_list() == [1, 6]
    assert problems.select("source_line", "kind").rows() == [
        (2, "malformed_json"),
        (3, "blank_line"),
        (4, "error_body"),
        (5, "unknown_shape"),
    ]
    reasons = dict(zip(problems["source_line"], problems["reason"]))
    assert "column" in reasons[2]  # orjson's position
    assert "overloaded_error" in reasons[4]
    assert "object=list" in reasons[5]
    assert set(problems["source_file"]) == {str(FIXTURES / "bad_lines.jsonl")}


def test_every_line_is_either_a_row_or_a_problem():
    rows, problems = problems_of("bad_lines.jsonl")
    lines = len((FIXTURES / "bad_lines.jsonl").read_text().splitlines())
    assert sorted(rows["source_line"].to_list() + problems["source_line"].to_list()) == list(range(1, lines + 1))


def test_openai_batch_errored_entries_reported():
    rows, problems = problems_of("openai_batch.jsonl")
    assert rows["custom_id"].to_list() == ["invoice-1", "invoice-2"]
    assert rows["provider_stop_reason"].to_list() == ["stop", "length"]
    assert problems.select("source_line", "kind").rows() == [(3, "batch_errored"), (4, "error_body")]
    assert "batch_expired" in problems["reason"][0]


def test_anthropic_batch_errored_and_expired_reported():
    rows, problems = problems_of("anthropic_batch.jsonl")
    assert rows["custom_id"].to_list() == ["doc-1", "doc-2"]
    assert problems["kind"].to_list() == ["batch_errored", "batch_errored"]
    assert "invalid_request_error" in problems["reason"][0]
    assert problems["reason"][1] == "batch entry expired"


def test_bad_value_in_a_csv_is_reported_not_fatal(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("output_text,provider_stop_reason,output_tokens\nHello there.,stop,12\nBye.,stop,twelve\n")
    res = stoptriage.classify([p])
    df = res.frame.collect()
    assert df["output_tokens"].to_list() == [12, None]
    bad = res.report.problems
    assert bad.select("source_line", "kind").rows() == [(1, "bad_value")]
    assert "twelve" in bad["reason"][0]


def test_parquet_with_text_typed_columns_is_read_like_csv(tmp_path):
    """A Parquet export that stores timestamps and counts as strings (exporters do) is
    converted as a CSV's columns are; a value that does not fit is reported, not fatal
    (it exited 70 with 'casting from string to datetime is not supported')."""
    p = tmp_path / "t.parquet"
    pl.DataFrame(
        {
            "output_text": ["Hello there.", "Bye.", "See you."],
            "provider_stop_reason": ["stop", "stop", "stop"],
            "timestamp": ["2026-03-01T10:00:00Z", "not a time", "2026-03-01 10:05:00"],
            "output_tokens": ["12", "7", "twelve"],
        }
    ).write_parquet(p)
    res = stoptriage.classify([p])
    df = res.frame.collect()
    assert df["output_tokens"].to_list() == [12, 7, None]
    assert df["timestamp"].dt.hour().to_list() == [10, None, 10]
    bad = res.report.problems.sort("reason")
    assert bad["kind"].to_list() == ["bad_value", "bad_value"]
    assert "output_tokens" in bad["reason"][0] and "twelve" in bad["reason"][0]
    assert "timestamp" in bad["reason"][1] and "not a time" in bad["reason"][1]


def test_array_that_does_not_fit_is_isolated_not_fatal(tmp_path):
    good = '{"type":"message","model":"claude-x","content":[{"type":"text","text":"Fine."}],"stop_reason":"end_turn"}'
    odd = '{"type":"message","model":"claude-x","content":["just a string"],"stop_reason":"end_turn"}'
    p = tmp_path / "r.jsonl"
    p.write_text("\n".join([good, odd, good]) + "\n")
    res = stoptriage.classify([p])
    assert res.frame.collect()["source_line"].to_list() == [1, 3]
    assert res.report.problems.select("source_line", "kind").rows() == [(2, "unknown_shape")]


def test_output_key_alone_is_not_a_bedrock_body(tmp_path):
    # Bare and wrapped lines take different detection paths (keys known or not);
    # both must require Converse's output.message, not just an "output" key.
    odd = '{"id": "gen-1", "output": "Hello there.", "model": "local"}'
    p = tmp_path / "r.jsonl"
    p.write_text(odd + "\n" + '{"route": "x", "response": ' + odd + "}\n")
    res = stoptriage.classify([p])
    assert res.frame.collect().height == 0
    assert res.report.problems["kind"].to_list() == ["unknown_shape", "unknown_shape"]
