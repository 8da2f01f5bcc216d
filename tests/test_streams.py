"""streams: streamed responses reassembled into canonical rows (trace-formats.md §10,
stop-reasons.md §1.2). Fixtures under tests/fixtures/streams/ are written for the project
in each provider's documented stream shape; EXPECTED.md there lists every line."""

from __future__ import annotations

import base64

import orjson
import polars as pl

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import detect, read, read_one
from stoptriage.ingest.streams import is_sse_text, is_stream_record

DIR = FIXTURES / "streams"


def rows(name: str) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    lf, rep = read([str(DIR / name)])
    return lf.collect(), rep.problems, rep.formats


def by_line(df: pl.DataFrame) -> dict[int, dict]:
    return {r["source_line"]: r for r in df.iter_rows(named=True)}


def calls(row: dict) -> list[tuple[str, str]]:
    return [(c["name"], c["arguments"]) for c in row["tool_calls"]]


# ------------------------------------------------------------------ detection


def test_every_layout_is_detected_as_streams():
    for name in ("anthropic.sse", "openai_chat.sse", "responses.sse", "gemini.sse", "ollama_chat.jsonl", "openai_chunks.jsonl", "recorded.jsonl"):
        assert detect((DIR / name).read_bytes()) == "streams", name


def test_non_streamed_bodies_stay_responses():
    assert detect((FIXTURES / "openai_chat.jsonl").read_bytes()) == "responses"
    assert detect((FIXTURES / "anthropic_messages.jsonl").read_bytes()) == "responses"
    # A finished text_completion is a body; one whose choices have no finish_reason yet is a chunk.
    body = {"object": "text_completion", "choices": [{"index": 0, "text": "Hi.", "finish_reason": "stop"}], "usage": {"completion_tokens": 2}}
    chunk = {"object": "text_completion", "choices": [{"index": 0, "text": "Hi", "finish_reason": None}]}
    assert not is_stream_record(body) and is_stream_record(chunk)
    assert is_stream_record({"done": False, "message": {"role": "assistant", "content": "x"}})
    assert not is_stream_record({"done": True, "done_reason": "stop", "message": {"role": "assistant", "content": "x"}})
    assert is_stream_record({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})
    assert not is_stream_record({"type": "message", "stop_reason": "end_turn", "content": []})
    assert is_sse_text("event: ping\ndata: {}\n") and not is_sse_text("a,b\n1,2\n")


# ------------------------------------------------------------------- SSE text


def test_anthropic_sse_two_streams():
    df, problems, formats = rows("anthropic.sse")
    assert formats == {str(DIR / "anthropic.sse"): "streams"}
    assert problems.height == 0
    assert df["source_line"].to_list() == [1, 49]
    first, second = df.row(0, named=True), df.row(1, named=True)
    assert first["provider"] == "anthropic" and first["provider_api"] == "anthropic_messages"
    assert first["provider_stop_reason"] == "tool_use" and first["stop_detail"] is None
    assert first["output_text"] == "Let me check the forecast for Bergen."  # thinking text left out
    assert calls(first) == [("get_forecast", '{"city": "Bergen", "days": 3}')]
    assert first["output_tokens"] == 58 and first["model"] == "claude-sonnet-4-5"
    assert first["response_id"] == "msg_01StA1kQ7wTn3bX" and first["stream_status"] == "complete"
    assert second["provider_stop_reason"] == "max_tokens" and second["output_tokens"] == 20
    assert second["output_text"].endswith("where sales grew, and the") and second["tool_calls"] == []


def test_anthropic_error_event_and_cut_stream():
    df, problems, _ = rows("anthropic_error.sse")
    assert problems.height == 0
    err, cut = by_line(df)[1], by_line(df)[13]
    assert err["provider_stop_reason"] is None and err["stop_detail"] == "stream_error"
    assert err["stream_status"] == "error" and err["stream_error"] == "overloaded_error: Overloaded"
    assert err["output_text"] == "Sure, the steps are: first"
    assert cut["provider_stop_reason"] is None and cut["stop_detail"] == "stream_incomplete"
    assert cut["stream_status"] == "incomplete" and cut["output_text"] == "Your booking is confirmed for Friday at 10:"


def test_openai_chat_sse_tool_calls_usage_and_cut_stream():
    df, problems, _ = rows("openai_chat.sse")
    assert problems.height == 0
    assert df["source_line"].to_list() == [3, 15, 29]
    text, tools, cut = (df.row(i, named=True) for i in range(3))
    assert text["provider_stop_reason"] == "stop" and text["output_text"] == "Your parcel left Rotterdam this morning."
    assert text["output_tokens"] == 9  # from the choices:[] usage chunk
    assert text["timestamp"].isoformat() == "2026-01-01T00:00:00+00:00"
    assert tools["provider_stop_reason"] == "tool_calls"
    assert calls(tools) == [("get_order", '{"order_id":"A-1182"}'), ("get_invoice", '{"order_id":"A-1182"}')]
    assert cut["provider_stop_reason"] is None and cut["stop_detail"] == "stream_incomplete"
    assert cut["output_text"] == "The refund policy allows returns within thirty days of"
    assert {r["response_id"] for r in (text, tools, cut)} == {"chatcmpl-Bx1aa", "chatcmpl-Bx2bb", "chatcmpl-Bx3cc"}


def test_responses_sse_completed_partial_and_error():
    df, problems, _ = rows("responses.sse")
    assert problems.height == 0
    done, partial, failed = by_line(df)[1], by_line(df)[19], by_line(df)[28]
    assert done["provider_stop_reason"] == "completed" and done["stop_detail"] is None
    assert done["output_text"] == '{"status": "ok"}' and done["expects_json"] is True
    assert done["max_tokens"] == 256 and done["output_tokens"] == 7
    # No terminal event: no status was sent; the function call is rebuilt from its deltas.
    assert partial["provider_stop_reason"] is None and partial["stop_detail"] == "stream_incomplete"
    assert calls(partial) == [("lookup_shipment", '{"tracking": "1Z99')]
    assert partial["max_tokens"] == 512
    assert failed["stop_detail"] == "stream_error"
    assert failed["stream_error"] == "server_error: The server had an error while processing your request."


def test_gemini_sse_split_by_response_id():
    df, problems, _ = rows("gemini.sse")
    assert problems.height == 0
    tool, cut = by_line(df)[1], by_line(df)[7]
    assert tool["provider"] == "gemini" and tool["provider_stop_reason"] == "STOP"
    assert tool["output_text"] == "I'll look that up."  # thought part left out
    assert calls(tool) == [("check_stock", '{"sku":"HX-220","warehouse":"Lyon"}')]
    assert tool["output_tokens"] == 19 + 28  # candidates + thoughts, last usageMetadata
    assert tool["response_id"] == "gXm1aQ-stream-1" and tool["model"] == "gemini-2.5-flash"
    assert cut["provider_stop_reason"] == "MAX_TOKENS"
    assert cut["output_text"] == "Here is a summary of the contract: the supplier delivers monthly and the buyer pays within"


def test_sse_capture_without_blank_lines_and_multiline_data(tmp_path):
    capture = (
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_nb1","model":"claude-haiku-4-5","content":[],"stop_reason":null}}\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\ndata: "delta":{"type":"text_delta","text":"All set."}}\n'
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}\n'
        'event: message_stop\ndata: {"type":"message_stop"}\n'
    )
    path = tmp_path / "nogaps.sse"
    path.write_text(capture)
    lf, problems, fmt = read_one(str(path))
    row = lf.collect().row(0, named=True)
    assert fmt == "streams" and problems.height == 0
    assert row["provider_stop_reason"] == "end_turn" and row["output_text"] == "All set."
    assert row["output_tokens"] == 4 and row["stop_detail"] is None


def test_sse_event_that_is_not_json_is_reported_and_the_stream_still_read():
    capture = (
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n'
        b'data: {"id":"c1","object":"chat.comp\n\n'
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"content":" there."},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    lf, problems, fmt = read_one("-", data=capture)
    df = lf.collect()
    assert fmt == "streams"
    assert df["provider_stop_reason"].to_list() == ["stop"] and df["output_text"].to_list() == ["Hello there."]
    assert problems.select("source_file", "source_line", "kind").rows() == [("<stdin>", 3, "malformed_json")]


# ------------------------------------------------------------ JSON lines of chunks


def test_ollama_chunk_lines_three_streams():
    df, problems, _ = rows("ollama_chat.jsonl")
    assert problems.height == 0
    assert df["source_line"].to_list() == [1, 4, 6]
    assert df["provider_api"].to_list() == ["ollama_chat"] * 3
    text, tool, cut = (df.row(i, named=True) for i in range(3))
    assert text["provider_stop_reason"] == "stop" and text["output_text"] == "Paris is the capital of France."
    assert text["output_tokens"] == 8 and text["model"] == "llama3.2"
    assert tool["provider_stop_reason"] == "stop" and calls(tool) == [("get_weather", '{"city":"Tromsø"}')]
    assert cut["provider_stop_reason"] is None and cut["stop_detail"] == "stream_incomplete"
    assert cut["output_text"] == "A haiku about autumn leaves"


def test_openai_chunk_lines_split_by_id():
    df, problems, _ = rows("openai_chunks.jsonl")
    assert problems.height == 0
    assert df["source_line"].to_list() == [1, 4, 7]
    multi, refusal, cut = (df.row(i, named=True) for i in range(3))
    assert multi["output_text"] == "The meeting is at noon."  # choices[0] of n=2, as for bodies
    assert multi["provider_stop_reason"] == "stop"
    assert refusal["provider_refusal"] == "I can't help with that request." and refusal["output_text"] == ""
    assert cut["provider_stop_reason"] == "length" and cut["output_tokens"] == 16
    assert cut["output_text"] == '{"name": "Ada", "tags": ["ops", "billing'
    assert all(r["stream_status"] == "complete" for r in (multi, refusal, cut))


def test_recorded_events_equal_chunk_lines(tmp_path):
    """The same chunks read as chunk lines and as one recorded stream give the same row."""
    lines = (DIR / "openai_chunks.jsonl").read_bytes().splitlines()[6:9]
    record = {"route": "extract", "events": [{"event": None, "data": orjson.loads(x)} for x in lines]}
    path = tmp_path / "one.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    lf, problems, fmt = read_one(str(path))
    got = lf.collect().row(0, named=True)
    want = by_line(rows("openai_chunks.jsonl")[0])[7]
    assert fmt == "streams" and problems.height == 0 and got["route"] == "extract"
    for k in ("provider_stop_reason", "output_text", "output_tokens", "model", "response_id", "stop_detail"):
        assert got[k] == want[k], k


def test_boto3_events_with_base64_bytes(tmp_path):
    chunks = [
        {"type": "message_start", "message": {"id": "msg_b64", "model": "claude-3-haiku-20240307", "content": [], "stop_reason": None}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Done."}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
        {"type": "message_stop"},
    ]
    events = [{"chunk": {"bytes": base64.b64encode(orjson.dumps(c)).decode()}} for c in chunks]
    path = tmp_path / "boto.jsonl"
    path.write_bytes(orjson.dumps({"events": events}) + b"\n")
    lf, problems, _ = read_one(str(path))
    row = lf.collect().row(0, named=True)
    assert problems.height == 0
    assert (row["provider_stop_reason"], row["output_text"], row["output_tokens"]) == ("end_turn", "Done.", 3)


# --------------------------------------------------- recorded streams ({"events": ...})


def test_recorded_streams_of_every_api():
    df, _, _ = rows("recorded.jsonl")
    got = by_line(df)
    assert sorted(got) == list(range(1, 13))
    assert {n: got[n]["provider_api"] for n in got} == {
        1: "bedrock_converse", 2: "bedrock_converse", 3: "cohere_v2", 4: "cohere_v1", 5: "openai_completions",
        6: "bedrock_titan", 7: "bedrock_titan", 8: "anthropic_messages", 9: "gemini", 10: "openai_chat",
        11: "bedrock_meta", 12: "bedrock_mistral",
    }  # fmt: skip
    assert {n: got[n]["provider_stop_reason"] for n in got} == {
        1: "tool_use", 2: None, 3: "TOOL_CALL", 4: "COMPLETE", 5: "length", 6: "FINISH", 7: None,
        8: "max_tokens", 9: "STOP", 10: "stop", 11: "stop", 12: "length",
    }  # fmt: skip
    assert {n: got[n]["stop_detail"] for n in got if got[n]["stop_detail"]} == {2: "stream_error", 7: "guardrail_intervened"}
    texts = {n: got[n]["output_text"] for n in (1, 2, 4, 5, 6, 8, 9, 11, 12)}
    assert texts == {
        1: "Checking Oslo.", 2: "The cheapest fare is", 4: "Heave ho, the anchor's low!", 5: " there lived a baker who",
        6: "The ferry departs every hour.", 8: "The lighthouse stands on a granite", 9: '["teal", "amber"]',
        11: "The Amazon flows through Peru.", 12: "Apple, banana, and",
    }  # fmt: skip
    assert got[2]["stream_error"] == "throttlingException: Too many requests, please wait before trying again."
    assert calls(got[1]) == [("get_weather", '{"city": "Oslo"}')]
    assert calls(got[3]) == [("get_time", '{"city": "Tokyo"}'), ("get_time", '{"city": "Lima"}')]
    assert {n: got[n]["output_tokens"] for n in (1, 3, 4, 6, 8, 9, 11)} == {1: 61, 3: 44, 4: 8, 6: 7, 8: 12, 9: 7, 11: 6}


def test_recorded_wrapper_and_request_fields():
    df, _, _ = rows("recorded.jsonl")
    got = by_line(df)
    first = got[1]
    assert (first["route"], first["trace_id"], first["span_id"]) == ("travel-agent", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert first["timestamp"].isoformat() == "2026-01-06T10:00:00+00:00"
    assert first["stream_format"] == "aws_eventstream"  # other wrapper keys pass through
    assert first["max_tokens"] == 400 and [s["name"] for s in first["tool_schemas"]] == ["get_weather"]
    assert {n: got[n]["max_tokens"] for n in (5, 6, 8, 9, 10, 11, 12)} == {5: 6, 6: 50, 8: 12, 9: 64, 10: 300, 11: 40, 12: 5}
    assert got[9]["expects_json"] is True and got[10]["expects_json"] is True
    assert got[10]["after_tool_result"] is True and got[10]["output_text"] == ""
    assert got[8]["after_tool_result"] is False


def test_recorded_problems_are_reported_with_their_line():
    _, problems, _ = rows("recorded.jsonl")
    assert problems.sort("source_line").select("source_line", "kind").rows() == [
        (13, "unknown_shape"),
        (14, "blank_line"),
        (15, "unknown_shape"),
        (16, "malformed_json"),
    ]
    reasons = dict(zip(problems["source_line"], problems["reason"]))
    assert reasons[13] == "stream with no events" and "heartbeat" in reasons[15]


# ------------------------------------------------------------------ normalized


def test_classify_normalizes_complete_streams_and_flags_what_they_hide():
    res = stoptriage.classify([DIR / "openai_chunks.jsonl", DIR / "ollama_chat.jsonl", DIR / "anthropic.sse"])
    df = res.frame.select("source_file", "source_line", "stop_reason", "derived_stop", "alerts").collect()
    got = {(r["source_file"].rsplit("/", 1)[-1], r["source_line"]): r for r in df.iter_rows(named=True)}
    assert got[("anthropic.sse", 1)]["stop_reason"] == "tool_call"
    assert got[("anthropic.sse", 49)]["stop_reason"] == "length"
    assert got[("anthropic.sse", 49)]["derived_stop"] == "truncated"
    assert got[("openai_chunks.jsonl", 7)]["alerts"] == ["truncated_json"]
    # Ollama has no tool-call value: stop with a tool call is a tool call (G1), not a hidden one
    assert got[("ollama_chat.jsonl", 4)]["stop_reason"] == "tool_call"
    assert "hidden_tool_call" not in got[("ollama_chat.jsonl", 4)]["alerts"]
    assert "refusal_flagged" in got[("openai_chunks.jsonl", 4)]["alerts"]


def test_error_chunks_in_chunk_lines():
    chat = (
        b'{"id":"c9","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Par"},"finish_reason":null}]}\n'
        b'{"error":{"message":"The server had an error processing your request.","type":"server_error","param":null,"code":null}}\n'
    )
    lf, problems, fmt = read_one("-", data=chat)
    row = lf.collect().row(0, named=True)
    assert fmt == "streams" and problems.height == 0
    assert (row["provider_api"], row["provider_stop_reason"], row["stop_detail"]) == ("openai_chat", None, "stream_error")
    assert row["stream_error"] == "server_error: The server had an error processing your request." and row["output_text"] == "Par"
    gemini = (
        b'{"candidates":[{"content":{"parts":[{"text":"Bonjour"}],"role":"model"}}],"modelVersion":"gemini-2.5-pro","responseId":"g-err-1"}\n'
        b'{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}\n'
    )
    lf, problems, _ = read_one("-", input_format="streams", data=gemini)
    row = lf.collect().row(0, named=True)
    assert (row["provider_api"], row["stop_detail"], row["output_text"]) == ("gemini", "stream_error", "Bonjour")
    assert row["stream_error"] == "UNAVAILABLE: The model is overloaded. Please try again later."


def test_keepalive_alone_is_not_a_response():
    lf, problems, _ = read_one("-", data=b'event: ping\ndata: {"type":"ping"}\n\n')
    assert lf.collect().height == 0
    assert problems.select("source_line", "kind").rows() == [(1, "unknown_shape")]
    assert "first event type: ping" in problems["reason"][0]
