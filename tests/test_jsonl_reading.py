"""The JSON-lines line check works in chunks and wrapped records keep their extra keys
(issue 6 made both cheaper; these pin the results)."""

from __future__ import annotations

import orjson
import polars as pl
import pytest

import stoptriage
from stoptriage.ingest import jsonl

SAMPLE = "sample_data/responses.jsonl"


def _classified(paths: list[str]) -> pl.DataFrame:
    res = stoptriage.classify(paths)
    return res.frame.select(stoptriage.output_columns(res.frame, include_bulky=True)).collect()


def test_chunked_line_check_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _classified([SAMPLE])
    monkeypatch.setattr(jsonl, "CHECK_CHUNK", 3)  # 240 lines -> 80 chunks
    chunked = _classified([SAMPLE])
    assert whole.height == 240
    assert chunked.equals(whole)


def test_wrapped_record_keeps_extra_keys_as_json_text(tmp_path) -> None:
    body = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hello there."}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    rec = {"route": "r1", "meta": {"z": 1, "a": [1.5]}, "score": 2.5, "flag": True, "note": "é", "response": body}
    path = tmp_path / "wrapped.jsonl"
    path.write_bytes(orjson.dumps(rec) + b"\n" + b"{not json\n")
    frame, report = stoptriage.read([str(path)])
    row = frame.collect().row(0, named=True)
    assert (row["route"], row["output_text"], row["provider_stop_reason"]) == ("r1", "Hello there.", "end_turn")
    assert (row["meta"], row["score"], row["flag"], row["note"]) == ('{"z":1,"a":[1.5]}', "2.5", "true", "é")
    assert report.problems.height == 1 and report.problems["source_line"][0] == 2
