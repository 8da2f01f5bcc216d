"""The strict one-parse read of response bodies and of their API markers
(jsonl.strict_decode, bodies.FAST_BODY) gives exactly what the JSONPath read and the
lenient decode give, and leaves every body that does not fit
its documented JSON types to the JSONPath read (issue 6: raw-body throughput)."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import stoptriage
from conftest import FIXTURES, SAMPLES
from stoptriage.errors import StoptriageError
from stoptriage.ingest import bodies, jsonl
from stoptriage.ingest.jsonl import field_at, jp, path_dtype, simple_path, strict_decode


def classify_both(paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    """(frame, problems) of classify with the strict read on and off."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(bodies, "FAST_BODY", fast)
        res = stoptriage.classify(paths)
        frame = res.frame.select(stoptriage.output_columns(res.frame)).collect()
        out.append((frame, res.report.problems.sort("source_file", "source_line")))
    return out[0], out[1]


def every_input() -> list[Path]:
    """Every fixture and sample file, each directory of them once (streams, bundles)."""
    files = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.suffix in (".jsonl", ".json", ".sse", ".ndjson")]
    return files + sorted(p for p in SAMPLES.glob("*.jsonl"))


@pytest.mark.parametrize("path", every_input(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_fixture_reads_the_same_with_and_without_the_strict_parse(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        (fast, fast_problems), (slow, slow_problems) = classify_both([path], monkeypatch)
    except StoptriageError as exc:  # a fixture of bad input: both ways refuse it alike
        monkeypatch.setattr(bodies, "FAST_BODY", False)
        with pytest.raises(type(exc), match=None):
            stoptriage.classify([path]).frame.collect()
        return
    assert fast.equals(slow, null_equal=True)
    assert fast_problems.equals(slow_problems, null_equal=True)


def _odd_bodies() -> list[dict]:
    """Bodies that break the strict parse one way each (JSON types the JSONPath read
    coerces), among ones that fit."""
    chat = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1772323250, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Fine answer.", "refusal": None}}],
        "usage": {"completion_tokens": 3},
    }
    msg = {
        "id": "msg_1", "type": "message", "model": "claude-sonnet-4-5", "stop_reason": "end_turn",
        "content": [{"type": "text", "text": "Hello there."}], "usage": {"output_tokens": 4},
    }

    def chat_with(**change) -> dict:
        b = orjson.loads(orjson.dumps(chat))
        for path, value in change.items():
            node = b
            *head, last = path.split("__")
            for k in head:
                node = node[int(k)] if k.isdigit() else node[k]
            node[int(last) if last.isdigit() else last] = value
        return b

    odd = [
        chat_with(choices__0__finish_reason=7),  # a number where a string is documented
        chat_with(usage__completion_tokens="43"),  # a count as text
        chat_with(usage__completion_tokens=43.0),
        chat_with(created=1.7723e9),
        chat_with(choices__0__message__content=[{"type": "text", "text": "parts"}]),  # content as parts
        chat_with(choices__0__message__content=None),
        chat_with(choices__0__message__refusal={"reason": "x"}),
        chat_with(choices=[]),
        chat_with(choices=[  # n=2: the first choice is read
            {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "First, cut"}},
            {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": "Second."}},
        ]),
        chat_with(choices=None),
        chat_with(choices__0__message__tool_calls=[{"id": 5, "type": "function", "function": {"name": "f", "arguments": "{}"}}]),
        chat_with(choices__0__message__tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]),
        chat_with(choices__0__message__function_call={"name": "legacy", "arguments": "{\"q\": 1}"}),
        chat_with(model=None),
        {**msg, "content": "a plain string"},  # content not an array
        {**msg, "content": [{"type": "text", "text": 5}]},
        {**msg, "usage": {"output_tokens": True}},
        {**msg, "stop_reason": None, "content": []},
        {**msg, "content": [{"type": "tool_use", "id": "t", "name": "lookup", "input": {"q": "x"}}], "stop_reason": "tool_use"},
        # Detection markers of odd types: read as before (error bodies, unknown shapes).
        {"error": "model 'x' not found"},
        {"error": {"type": "overloaded_error", "message": "Overloaded", "code": 529}},
        {"type": "error", "error": {"type": "api_error", "message": "boom"}},
        {**msg, "type": 5},
        {**chat, "object": None},
        {**chat, "object": 3},
        {"id": "cmpl-1", "choices": [{"text": "plain completion", "finish_reason": "stop"}], "model": "m"},
    ]
    rows = []
    for i, body in enumerate(odd):
        rows += [chat, msg] * 40  # fitting neighbours on both sides of every odd one
        rows.append(body)
    return rows


def test_bodies_of_odd_types_read_as_before_and_their_neighbours_stay_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "odd.jsonl"
    rows = _odd_bodies()
    lines = [orjson.dumps(b) for b in rows]
    lines[5] = lines[5][:-1] + b', "id": "dup"}'  # a duplicate key (the last one wins in JSONPath)
    path.write_bytes(b"\n".join(lines) + b"\n")
    (fast, fast_problems), (slow, slow_problems) = classify_both([path], monkeypatch)
    assert fast.height == slow.height > 0
    assert fast.equals(slow, null_equal=True)
    assert fast_problems.equals(slow_problems, null_equal=True)
    # The strict parse did take most rows, and left the odd ones to JSONPath.
    texts = pl.Series("b", [ln.decode() for ln in lines])
    chat_dtype = path_dtype({simple_path(p): d for p, d in bodies.fast_fields(bodies.SPECS[bodies.OPENAI_CHAT])[0].items()})
    decoded = pl.select(strict_decode(pl.lit(texts), chat_dtype)).to_series()
    is_chat = texts.str.contains('"chat.completion"')
    assert decoded.filter(is_chat).null_count() < is_chat.sum() / 2
    assert decoded.filter(is_chat & pl.Series([b == _odd_bodies()[0] for b in rows])).null_count() >= 1


def test_simple_path_translates_keys_and_indices_only() -> None:
    assert simple_path("$.choices[0].message.content") == ("choices", 0, "message", "content")
    assert simple_path("$.usage") == ("usage",)
    assert simple_path("$.messages[-1:].role") == ("messages", -1, "role")
    assert simple_path("$.messages[-2:].role") is None
    assert simple_path("$.messages[-1].role") is None
    assert simple_path("$.content[?(@.type=='tool_result')]") is None
    assert simple_path("$['odd key']") is None


def test_path_dtype_nests_the_paths_and_refuses_a_disagreement() -> None:
    dtype = path_dtype({("choices", 0, "text"): pl.String, ("choices", 0, "n"): pl.Float64, ("model",): pl.String})
    assert dtype == pl.Struct({"choices": pl.List(pl.Struct({"text": pl.String, "n": pl.Float64})), "model": pl.String})
    with pytest.raises(ValueError):
        path_dtype({("a",): pl.String, ("a", "b"): pl.String})
    with pytest.raises(ValueError):
        path_dtype({("a", 0): pl.String, ("a", "b"): pl.String})


def test_strict_decode_nulls_only_the_piece_of_a_row_that_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "STRICT_ROWS_COARSE", 8)
    monkeypatch.setattr(jsonl, "STRICT_ROWS_FINE", 2)
    good = '{"model": "m", "choices": [{"text": "hi"}], "usage": {"n": 5}}'
    texts = [good] * 16
    texts[3] = '{"model": 5}'  # number for a string: its fine piece (rows 2-3) is left null
    texts[9] = None
    texts[10] = "   "
    texts[12] = '{"model": "a",\n "x": 1}'  # two lines: not given to the line reader
    dtype = path_dtype({("model",): pl.String, ("choices", 0, "text"): pl.String, ("usage", "n"): pl.Float64})
    df = pl.DataFrame({"b": texts}).with_columns(strict_decode(pl.col("b"), dtype).alias("f"))
    nulls = df["f"].is_null().to_list()
    assert [i for i, n in enumerate(nulls) if n] == [2, 3, 9, 10, 12]
    values = df.select(
        field_at(pl.col("f"), ("choices", 0, "text")).alias("text"),
        field_at(pl.col("f"), ("usage", "n")).alias("n"),
        jp(pl.col("b"), "$.choices[0].text").alias("jp_text"),
    ).filter(~pl.Series(nulls))
    assert values["text"].to_list() == values["jp_text"].to_list() == ["hi"] * 11
    assert values["n"].to_list() == [5.0] * 11


def _odd_requests() -> list[dict]:
    """Wrapped records whose requests break the strict parse one way each, among ones that fit."""
    chat = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1772323250, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "{\"a\": 1}"}}],
        "usage": {"completion_tokens": 5},
    }
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
    req = {"model": "gpt-4o-mini", "max_tokens": 256, "response_format": {"type": "json_object"}, "tools": [tool],
           "messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": [{"type": "text", "text": "42"}]}]}
    responses_body = {
        "id": "resp_1", "object": "response", "created_at": 1772323250, "status": "completed", "model": "gpt-4.1",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Done."}]}], "usage": {"output_tokens": 2},
    }
    odd = [
        ({**req, "max_tokens": "256"}, chat),  # a cap as text
        ({**req, "max_tokens": 100.0}, chat),
        ({**req, "model": None, "max_completion_tokens": 0}, {**chat, "model": None}),
        ({**req, "messages": []}, chat),
        ({**req, "messages": [{"role": "user", "content": "x"}, {"content": "no role"}]}, chat),
        ({**req, "messages": "not a list"}, chat),
        ({**req, "tools": [{"type": 7, "function": {"name": "f"}}]}, chat),
        ({**req, "tools": []}, chat),
        ({**req, "response_format": {"type": "text"}}, chat),
        ({**req, "response_format": "json_object"}, chat),
        ({"model": "gpt-4.1", "input": "a plain string input"}, responses_body),  # Responses input as a string
        ({"model": "gpt-4.1", "input": [{"type": "function_call_output", "call_id": "c", "output": "42"}], "text": {"format": {"type": "json_schema"}}}, responses_body),
    ]
    rows = []
    for i, (request, body) in enumerate(odd):
        rows += [{"route": "r", "request": req, "response": chat}] * 40
        rows.append({"route": f"odd-{i}", "request": request, "response": body})
    return rows


def test_requests_of_odd_types_read_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "odd_requests.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in _odd_requests()) + b"\n")
    (fast, fast_problems), (slow, slow_problems) = classify_both([path], monkeypatch)
    assert fast.height == slow.height == len(_odd_requests())
    assert fast.equals(slow, null_equal=True)
    assert fast_problems.equals(slow_problems, null_equal=True)
    # The predicates saw real values: JSON asked for, the last message a tool result.
    assert fast.filter(pl.col("route") == "r").select(pl.col("expects_json").all(), pl.col("after_tool_result").all()).row(0) == (True, True)


# ---- bounded memory: a large file of bodies is read in pieces (responses.read_chunked)

from stoptriage.ingest import responses  # noqa: E402


def test_line_chunks_cut_at_line_ends_and_count_the_lines_before(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    lines = [b"a" * n for n in (3, 40, 0, 7, 100, 1, 5)]
    path.write_bytes(b"\n".join(lines))  # no final newline
    pieces = list(responses.line_chunks(str(path), 16))
    assert b"".join(p for p, _ in pieces) == path.read_bytes()
    assert all(p.endswith(b"\n") for p, _ in pieces[:-1])
    assert any(len(p) > 16 for p, _ in pieces)  # a line longer than the piece size is one piece
    starts = [before for _, before in pieces]
    assert starts == [sum(p.count(b"\n") for p, _ in pieces[:i]) for i in range(len(pieces))]


@pytest.mark.parametrize("name", ["responses.jsonl", "openai_batch_output.jsonl", "anthropic_batch_results.jsonl"])
def test_a_file_read_in_pieces_gives_the_rows_and_problems_of_one_read(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = SAMPLES / name
    # The sample, and odd records, twice: more lines than one piece holds, pieces cut
    # between any lines (blank, malformed, error bodies, new pass-through keys late).
    odd = b'\n{"broken\n\n{"route": "late", "request": {"model": "m"}, "response": {"type": "error", "error": {"type": "x", "message": "y"}}, "tenant": "t9"}\n'
    path = tmp_path / name
    path.write_bytes(src.read_bytes() + odd + src.read_bytes())
    whole = stoptriage.classify([path])
    monkeypatch.setattr(responses, "CHUNK_BYTES", path.stat().st_size // 7)
    reads = []
    monkeypatch.setattr(responses, "_read", lambda *a, _read=responses._read: reads.append(1) or _read(*a))
    pieces = stoptriage.classify([path])
    a = whole.frame.select(stoptriage.output_columns(whole.frame)).collect()
    b = pieces.frame.select(stoptriage.output_columns(pieces.frame)).collect()
    assert len(reads) >= 7
    assert a.height > 30 and a.columns == b.columns
    # length_z may differ in the last bit: the per-route mean and std sum the same
    # values in another order when the rows come from several files (~1e-16).
    assert a.drop("length_z").equals(b.drop("length_z"), null_equal=True)
    assert_frame_equal(a.select("length_z"), b.select("length_z"), check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    assert whole.report.problems.equals(pieces.report.problems, null_equal=True)
    assert whole.report.problems.height >= 2
