"""End to end on sample_data/responses.jsonl (synthetic, realistic; sample_data/README.md
lists its special lines), including the real-data cases of shared/samples/real/README.md:
stop with tool calls, numeric finish reasons, incomplete Responses, guardrail
interventions, empty outputs."""

from __future__ import annotations

import polars as pl
import pytest

import stoptriage
from conftest import SAMPLES


@pytest.fixture(scope="module")
def rows() -> dict[int, dict]:
    res = stoptriage.classify([SAMPLES / "responses.jsonl"])
    df = res.frame.collect()
    return {r["source_line"]: r for r in df.iter_rows(named=True)}


@pytest.fixture(scope="module")
def problems() -> pl.DataFrame:
    return stoptriage.classify([SAMPLES / "responses.jsonl"]).report.problems


def derived(rows, lines):
    return {rows[n]["derived_stop"] for n in lines}


def test_cut_answers_under_a_clean_stop_are_silent_truncations(rows):
    cut = [31, 52, 85, 96, 100, 136, 176, 188, 193, 213, 241, 243, 219]
    assert derived(rows, cut) == {"truncated"}
    assert all("silent_truncation" in rows[n]["alerts"] for n in cut)


def test_complete_endings_without_a_period_stay_complete(rows):
    numbers, bang_quote = [23, 49, 124, 158, 206, 208, 209], [72, 128, 162, 173, 195, 236, 242]
    assert derived(rows, numbers + bang_quote) == {"complete"}


def test_soft_refusals_and_the_sorry_to_hear_answer(rows):
    assert derived(rows, [27, 74, 87, 104, 126, 156, 186, 214, 237]) == {"refusal"}
    assert rows[71]["derived_stop"] == "complete" and rows[71]["refusal_phrase"] is None


def test_stop_with_tool_calls(rows):
    for n in (81, 103):
        assert rows[n]["stop_reason"] == "stop" and rows[n]["derived_stop"] == "tool_call"
        assert rows[n]["alerts"] == ["hidden_tool_call"]


def test_numeric_gemini_finish_reasons(rows):
    assert (rows[115]["provider_stop_reason"], rows[115]["stop_reason"]) == ("1", "stop")
    assert (rows[146]["provider_stop_reason"], rows[146]["stop_reason"]) == ("2", "length")


def test_incomplete_responses_and_guardrail(rows):
    assert (rows[110]["provider_stop_reason"], rows[110]["stop_detail"], rows[110]["stop_reason"]) == ("incomplete", "content_filter", "content_filter")
    assert (rows[108]["provider_stop_reason"], rows[108]["stop_reason"]) == ("guardrail_intervened", "content_filter")
    assert "refusal_flagged" in rows[108]["alerts"]


def test_empty_outputs_after_tool_results(rows):
    for n in (145, 181):
        assert rows[n]["derived_stop"] == "empty" and rows[n]["alerts"] == ["empty_after_tool_result"]


def test_cut_json_and_cut_tool_call(rows):
    assert "truncated_json" in rows[157]["alerts"]
    assert rows[51]["derived_stop"] == "tool_call_malformed"
    assert rows[63]["derived_stop"] == "invalid_json"


def test_bad_lines_reported(problems, rows):
    assert dict(zip(problems["source_line"], problems["kind"])) == {38: "malformed_json", 97: "blank_line", 151: "error_body", 212: "unknown_shape"}
    assert len(rows) == 240
