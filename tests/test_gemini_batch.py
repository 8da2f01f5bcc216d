"""gemini-batch: Gemini API Batch Mode and Vertex AI batch prediction output lines
(trace-formats.md §8). Fixtures under tests/fixtures/gemini_batch/ are written for
the project in the documented shapes."""

from __future__ import annotations

import orjson
import polars as pl

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect
from stoptriage.ingest.gemini_batch import is_gemini_batch
from stoptriage.ingest.responses import is_response_body

DIR = FIXTURES / "gemini_batch"


def classified(name: str):
    res = stoptriage.classify([DIR / name])
    return res.frame.collect(), res.report


def test_gemini_api_lines_are_read_by_key():
    df, rep = classified("gemini_api.jsonl")
    assert rep.formats == {str(DIR / "gemini_api.jsonl"): "gemini-batch"}
    # lines 3 (error) and 6 (malformed) are not rows
    assert df["source_line"].to_list() == [1, 2, 4, 5, 7]
    assert df["key"].to_list() == ["invoice-0001", "invoice-0002", "invoice-0004", "invoice-0005", "invoice-0007"]
    assert df["provider_stop_reason"].to_list() == ["STOP", "MAX_TOKENS", "STOP", None, "STOP"]
    assert df["stop_reason"].cast(pl.String).to_list() == ["stop", "length", "tool_call", "content_filter", "stop"]
    assert df["stop_detail"].to_list()[3] == "SAFETY"  # prompt blocked: no candidates
    assert set(df["provider"]) == {"gemini"} and df["model"].to_list()[4] == "gemini-2.5-pro"
    assert df["response_id"].to_list()[0] == "gb-fx-0001"
    # visible + thinking tokens (line 7: 9 + 40)
    assert df["output_tokens"].to_list() == [19, 24, 12, None, 49]
    call = df["tool_calls"][2][0]
    assert call["name"] == "lookup_vendor" and orjson.loads(call["arguments"]) == {"vat_id": "DE811907980"}
    # the route is not guessed from the key: it passes through for --route key
    assert set(df["route"]) == {"unknown"}
    assert df["derived_stop"].cast(pl.String).to_list()[1] == "truncated"


def test_gemini_api_error_entries_and_bad_lines_are_problems():
    _, rep = classified("gemini_api.jsonl")
    probs = {r["source_line"]: r for r in rep.problems.iter_rows(named=True)}
    assert set(probs) == {3, 6}
    assert probs[3]["kind"] == "batch_errored"
    assert probs[3]["reason"] == "errored batch entry: INVALID_ARGUMENT: Request contains an invalid argument."
    assert probs[6]["kind"] == "malformed_json"


def test_vertex_lines_carry_their_request_and_time():
    df, rep = classified("vertex.jsonl")
    assert df.height == 2
    first = df.row(0, named=True)
    assert first["provider_stop_reason"] == "MAX_TOKENS" and first["max_tokens"] == 16
    assert first["expects_json"] is True and first["alerts"] == ["truncated_json"]
    assert first["model"] == "gemini-2.0-flash-001"
    # body createTime wins over processed_time
    assert str(first["timestamp"]) == "2026-03-02 09:15:03.900000+00:00"
    assert first["processed_time"] == "2026-03-02T09:15:04.120+00:00"
    assert df.row(1, named=True)["derived_stop"] == "complete"
    (prob,) = rep.problems.iter_rows(named=True)
    assert prob["source_line"] == 3 and prob["kind"] == "batch_errored"
    assert prob["reason"].startswith("errored batch entry: Bad Request:") and "valid role" in prob["reason"]


def test_vertex_time_falls_back_to_processed_time(tmp_path):
    line = orjson.loads((DIR / "vertex.jsonl").read_bytes().splitlines()[1])
    del line["response"]["createTime"]
    p = tmp_path / "out.jsonl"
    p.write_bytes(orjson.dumps(line) + b"\n")
    df = stoptriage.classify([p]).frame.collect()
    assert str(df["timestamp"][0]) == "2026-03-02 09:15:05.010000+00:00"


def test_sniffer_is_narrower_than_the_responses_sniffer():
    ok = {"key": "a", "response": {"candidates": [], "usageMetadata": {}}}
    assert is_gemini_batch(ok) and is_gemini_batch({"key": "a", "error": {"code": 500, "message": "x"}})
    # a wrapped body of another provider keeps going to `responses`
    other = {"key": "a", "response": {"type": "message", "stop_reason": "end_turn", "content": []}}
    assert not is_gemini_batch(other) and is_response_body(other)
    assert not is_gemini_batch({"response": {"candidates": []}})  # no key: plain wrapped body
    assert is_gemini_batch({"processed_time": "t", "request": {}, "status": "Bad Request"})
    assert detect((DIR / "gemini_api.jsonl").read_bytes()) == "gemini-batch"
    assert detect((DIR / "vertex.jsonl").read_bytes()) == "gemini-batch"
