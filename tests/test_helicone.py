"""helicone: Helicone request exports (trace-formats.md §6). Fixtures under
tests/fixtures/helicone/ are written for the project in the HeliconeRequest shape:

export.jsonl  1 ANTHROPIC max_tokens, Feature property (header-prefixed key), session id
              2 OPENAI, bodies as JSON strings, Route property (stripped key), JSON mode
              3 GOOGLE Gemini SAFETY, session name and path only
              4 ANTHROPIC HTTP 429 error body       5 streamed_data (raw chunks)
              6 no body (signed_body_url only)      7 CUSTOM host, OpenAI-compatible body
export.csv    the CSV export (never has the response body)
"""

from __future__ import annotations

import orjson
import polars as pl

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect
from stoptriage.ingest.helicone import is_helicone, is_helicone_csv

DIR = FIXTURES / "helicone"


def classified(name: str):
    res = stoptriage.classify([DIR / name])
    return res.frame.collect(), res.report


def test_records_with_bodies_are_read():
    df, rep = classified("export.jsonl")
    assert rep.formats == {str(DIR / "export.jsonl"): "helicone"}
    assert df["source_line"].to_list() == [1, 2, 3, 7]
    assert df["provider_stop_reason"].to_list() == ["max_tokens", "stop", "SAFETY", "length"]
    assert df["stop_reason"].cast(pl.String).to_list() == ["length", "stop", "content_filter", "length"]
    assert df["normalized_by"].null_count() == 4  # Helicone keeps provider values raw
    assert df["provider_api"].to_list() == ["anthropic_messages", "openai_chat", "gemini", "openai_chat"]


def test_provider_spelling_and_model_precedence():
    df, _ = classified("export.jsonl")
    # ANTHROPIC -> anthropic, OPENAI -> openai, GOOGLE -> gemini; CUSTOM is a host,
    # not a provider: the body's API provider is used
    assert df["provider"].to_list() == ["anthropic", "openai", "gemini", "openai"]
    assert df["helicone_provider"].to_list() == ["ANTHROPIC", "OPENAI", "GOOGLE", "CUSTOM"]
    # response_model > request_model (line 3 has no response_model)
    assert df["model"].to_list() == ["claude-sonnet-4-5-20250929", "gpt-4o-mini-2024-07-18", "gemini-2.5-flash", "qwen2.5-7b-instruct"]


def test_json_string_bodies_give_request_fields():
    df, _ = classified("export.jsonl")
    second = df.row(1, named=True)
    assert second["expects_json"] is True and second["max_tokens"] == 200 and second["json_valid"] is True
    first = df.row(0, named=True)
    assert first["max_tokens"] == 512 and first["output_tokens"] == 512 and first["at_token_cap"] is True
    assert df.row(2, named=True)["max_tokens"] == 300  # generationConfig.maxOutputTokens


def test_route_ids_time_and_properties():
    df, _ = classified("export.jsonl")
    # Route property, else Feature (Helicone-Property- prefix or not), else session name
    assert df["route"].to_list() == ["summarize", "support-chat", "onboarding-agent", "unknown"]
    assert df["property_feature"].to_list()[0] == "summarize"
    assert df["property_environment"].to_list()[:2] == ["prod", "prod"]
    assert df["session_path"].to_list()[2] == "/plan/step-2"
    assert df["trace_id"].to_list() == ["sess-7c1", None, "sess-9d4", None]
    assert df["span_id"].to_list()[0] == "9b1f6c2e-0001"
    assert str(df["timestamp"][1]) == "2026-04-01 12:01:00+00:00"


def test_route_option_can_pick_any_property():
    res = stoptriage.classify([DIR / "export.jsonl"], route="property_environment")
    assert res.frame.collect()["route"].to_list() == ["prod", "prod", "unknown", "unknown"]


def test_unreadable_records_are_problems():
    _, rep = classified("export.jsonl")
    probs = {r["source_line"]: r for r in rep.problems.iter_rows(named=True)}
    assert set(probs) == {4, 5, 6}
    assert probs[4]["kind"] == "error_body"
    assert probs[4]["reason"] == "HTTP 429 error body: rate_limit_error: This request would exceed the rate limit for your organization."
    assert probs[5]["kind"] == "unknown_shape" and "streamed_data" in probs[5]["reason"]
    assert "--include-body" in probs[6]["reason"]


def test_csv_export_is_recognised_and_every_row_reported():
    df, rep = classified("export.csv")
    assert rep.formats == {str(DIR / "export.csv"): "helicone"}
    assert df.height == 0
    assert rep.problems["source_line"].to_list() == [0, 1]
    assert set(rep.problems["kind"]) == {"unknown_shape"}
    assert "no response body" in rep.problems["reason"][0]


def test_json_array_export(tmp_path):
    records = [orjson.loads(line) for line in (DIR / "export.jsonl").read_bytes().splitlines()]
    p = tmp_path / "output.json"
    p.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    res = stoptriage.classify([p])
    assert res.frame.collect()["source_line"].to_list() == [1, 2, 3, 7]
    assert res.report.problems.height == 3


def test_sniffers():
    assert is_helicone({"request_id": "r", "provider": "OPENAI", "response_body": {}, "request_body": {}})
    assert is_helicone({"request_id": "r", "provider": "OPENAI", "signed_body_url": "u"})
    assert not is_helicone({"request_id": "r", "response_body": {}})
    assert is_helicone_csv({"response_id", "response_created_at", "response_status", "request_created_at", "request_body", "request_properties", "model"})
    assert not is_helicone_csv({"output_text", "provider_stop_reason"})
    assert detect((DIR / "export.jsonl").read_bytes()) == "helicone"


def test_properties_as_json_text_and_plain_error_bodies(tmp_path):
    first = orjson.loads((DIR / "export.jsonl").read_bytes().splitlines()[0])
    as_text = {**first, "request_id": "t-1", "request_properties": orjson.dumps({"helicone-property-route": "digest"}).decode()}
    failed = {**first, "request_id": "t-2", "response_status": 502, "response_body": "Bad Gateway"}
    p = tmp_path / "export.jsonl"
    p.write_bytes(orjson.dumps(as_text) + b"\n" + orjson.dumps(failed) + b"\n")
    res = stoptriage.classify([p])
    df = res.frame.collect()
    assert df["route"].to_list() == ["digest"] and df["property_route"].to_list() == ["digest"]
    (prob,) = res.report.problems.iter_rows(named=True)
    assert prob["kind"] == "error_body" and prob["reason"] == "HTTP 502 error body: error: Bad Gateway"
