"""Raw provider bodies beyond the first five APIs (ingest/bodies.py): legacy text
completions, Cohere, Ollama and the Bedrock InvokeModel families. One hand-written
fixture per API under tests/fixtures/bodies/ (EXPECTED.md there lists each line)."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.ingest import bodies

BODIES = FIXTURES / "bodies"


def read(name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    res = stoptriage.classify([BODIES / name])
    return res.frame.collect(), res.report.problems.sort("source_line")


def strs(df: pl.DataFrame, name: str) -> list:
    return df[name].cast(pl.String).to_list()


# file -> (provider_api per line, provider, provider_stop_reason, tool_call_count, stop_reason)
CASES = {
    "openai_completions.jsonl": (
        ["openai_completions"] * 4, "openai",
        ["stop", "length", "stop", None], [0, 0, 0, 0], ["stop", "length", "stop", "unknown"],
    ),
    "anthropic_completions.jsonl": (
        ["anthropic_completions"] * 3, "anthropic",
        ["stop_sequence", "max_tokens", "stop_sequence"], [0, 0, 0], ["stop_sequence", "length", "stop_sequence"],
    ),
    "cohere_v1.jsonl": (
        ["cohere_v1"] * 5, "cohere",
        ["COMPLETE", "MAX_TOKENS", "COMPLETE", "COMPLETE", "STOP_SEQUENCE"], [0, 0, 1, 0, 0],
        # COMPLETE with a tool call: v1 has no tool-call value (normalize.stop_key)
        ["stop", "length", "tool_call", "stop", "stop_sequence"],
    ),
    "cohere_v2.jsonl": (
        ["cohere_v2"] * 4, "cohere",
        ["COMPLETE", "TOOL_CALL", "MAX_TOKENS", "COMPLETE"], [0, 2, 0, 0], ["stop", "tool_call", "length", "stop"],
    ),
    "ollama_chat.jsonl": (
        ["ollama_chat"] * 6, "ollama",
        ["stop", "stop", "length", "load", "stop", "stop"], [0, 1, 0, 0, 0, 0],
        None,  # line 2 (stop + tool call) depends on normalize.stop_key; checked below
    ),
    "ollama_generate.jsonl": (
        ["ollama_generate"] * 3, "ollama", ["stop", "length", None], [0, 0, 0], ["stop", "length", "unknown"],
    ),
    "bedrock_titan.jsonl": (
        ["bedrock_titan"] * 3, "bedrock",
        ["FINISH", "LENGTH", "CONTENT_FILTERED"], [0, 0, 0], ["stop", "length", "content_filter"],
    ),
    "bedrock_meta.jsonl": (["bedrock_meta"] * 2, "bedrock", ["stop", "length"], [0, 0], ["stop", "length"]),
    "bedrock_mistral.jsonl": (["bedrock_mistral"] * 2, "bedrock", ["stop", "length"], [0, 0], ["stop", "length"]),
    "bedrock_cohere.jsonl": (["bedrock_cohere"] * 2, "bedrock", ["COMPLETE", "MAX_TOKENS"], [0, 0], ["stop", "length"]),
    "bedrock_ai21.jsonl": (["bedrock_ai21"] * 2, "bedrock", ["endoftext", "length"], [0, 0], ["stop", "length"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_line_read_with_raw_stop_and_tool_calls(name):
    apis, provider, stop, tools, normalized = CASES[name]
    df, problems = read(name)
    assert problems.height == 0
    assert df["source_line"].to_list() == list(range(1, len(apis) + 1))
    assert df["provider_api"].to_list() == apis
    assert set(df["provider"]) == {provider}
    assert df["provider_stop_reason"].to_list() == stop
    assert df["tool_call_count"].to_list() == tools
    if normalized is not None:
        assert strs(df, "stop_reason") == normalized


def test_every_new_api_has_a_fixture():
    seen = set()
    for name in CASES:
        seen |= set(read(name)[0]["provider_api"])
    first_five = {bodies.OPENAI_CHAT, bodies.OPENAI_RESPONSES, bodies.ANTHROPIC_MESSAGES, bodies.GEMINI, bodies.BEDROCK_CONVERSE}
    assert seen == set(bodies.SPECS) - first_five


def test_openai_completions_text_tokens_cap_and_time():
    df, _ = read("openai_completions.jsonl")
    cut = df.row(1, named=True)
    assert cut["output_text"].endswith("Refunds are issued to the")
    assert (cut["output_tokens"], cut["max_tokens"], cut["at_token_cap"]) == (24, 24, True)
    assert strs(df, "derived_stop")[1] == "truncated"
    assert cut["route"] == "legacy-notes"
    assert df["model"].to_list()[:3] == ["gpt-3.5-turbo-instruct", "gpt-3.5-turbo-instruct", "mistralai/Mixtral-8x7B-Instruct-v0.1"]
    assert df["timestamp"][0] == datetime.fromtimestamp(1772450100, tz=timezone.utc)  # created (unix s)
    # No finish_reason at all (OpenAI-compatible server): absent, not "stop" (G4).
    last = df.row(3, named=True)
    assert last["output_text"].startswith("Thanks for reaching out") and last["provider_stop_reason"] is None


def test_anthropic_text_completions():
    df, _ = read("anthropic_completions.jsonl")
    assert df["output_text"][0] == " Our store opens at nine on Saturdays."
    assert df["max_tokens"].to_list() == [None, 30, None]  # request max_tokens_to_sample
    assert df["output_tokens"].null_count() == 3  # the body carries no usage
    assert df["model"].to_list() == ["claude-2.1", "claude-2.1", None]  # Bedrock body names no model
    assert strs(df, "derived_stop")[1] == "truncated"


def test_cohere_v1_tool_call_tokens_and_tool_results():
    df, _ = read("cohere_v1.jsonl")
    assert df["tool_calls"][2].to_list() == [{"name": "get_weather", "arguments": '{"city":"Oslo"}'}]
    # meta.tokens.output_tokens is preferred; billed_units only when tokens is absent.
    assert df["output_tokens"].to_list() == [17, 20, 12, 13, None]
    assert df["max_tokens"].to_list() == [None, 20, None, None, None]
    # A request carrying tool_results is a turn after a tool result; bare bodies: unknown.
    assert df["after_tool_result"].to_list() == [None, False, False, True, None]
    assert df["output_text"][4] == "Your refund is on its way."


def test_cohere_v2_text_parts_tool_calls_and_schemas():
    df, _ = read("cohere_v2.jsonl")
    assert df["output_text"][0] == "Orders over 50 euros ship free within the country."
    calls = df["tool_calls"][1].to_list()
    assert calls == [
        {"name": "lookup_order", "arguments": '{"order_id":"5521"}'},
        {"name": "get_weather", "arguments": '{"city":"Lima"}'},
    ]
    assert df["output_text"][1] == ""  # tool_plan is not answer text
    assert [s["name"] for s in df["tool_schemas"][1].to_list()] == ["lookup_order", "get_weather"]
    assert df["output_tokens"].to_list() == [12, 84, 16, 8]  # usage.tokens, not billed_units
    assert df.row(2, named=True)["at_token_cap"] is True
    assert df["after_tool_result"].to_list() == [None, False, False, True]


def test_ollama_chat():
    df, _ = read("ollama_chat.jsonl")
    assert df["tool_calls"][1].to_list() == [{"name": "get_weather", "arguments": '{"city":"Nairobi"}'}]
    assert [s["name"] for s in df["tool_schemas"][1].to_list()] == ["get_weather"]
    # num_predict -1 means no cap: max_tokens is null, not -1.
    assert df["max_tokens"].to_list() == [None, None, 12, None, None, None]
    assert df["output_tokens"].to_list() == [14, 19, 12, None, 17, 9]
    assert df.row(2, named=True)["at_token_cap"] is True
    assert strs(df, "stop_reason")[3] == "unknown"  # done_reason load: model management, no generation
    assert df["expects_json"].to_list() == [None, False, False, None, True, False]
    assert df["after_tool_result"].to_list() == [None, False, False, None, False, True]
    assert str(df["timestamp"][0]) == "2026-03-04 09:15:02.118734+00:00"


def test_ollama_generate():
    df, _ = read("ollama_generate.jsonl")
    assert df["output_text"][0] == "Our support line is open from eight to eight."
    assert (df["output_tokens"][1], df["max_tokens"][1]) == (10, 10)
    # An old server with done:true and no done_reason: the value is absent, never "stop".
    assert df["provider_stop_reason"][2] is None and df["model"][2] == "llama2"
    assert str(df["timestamp"][2]) == "2023-11-02 08:30:00.123456+00:00"


def test_bedrock_invoke_families():
    titan, _ = read("bedrock_titan.jsonl")
    assert titan["output_tokens"].to_list() == [12, 20, 6]  # tokenCount 20.0 read as 20
    assert titan["max_tokens"].to_list() == [None, 20, None]
    assert titan["model"].null_count() == 3  # InvokeModel bodies name no model
    meta, _ = read("bedrock_meta.jsonl")
    assert (meta["output_tokens"].to_list(), meta["max_tokens"].to_list()) == ([13, 32], [None, 32])
    assert meta["output_text"][1].endswith("so that our team can")
    mistral, _ = read("bedrock_mistral.jsonl")
    assert mistral["output_text"][1] == " Open the login page, choose Forgot password and"
    assert mistral["max_tokens"].to_list() == [None, 10]
    cohere, _ = read("bedrock_cohere.jsonl")
    assert cohere["output_text"][0] == " Student discounts apply to full-price items only."
    assert cohere["max_tokens"].to_list() == [None, 12]
    ai21, _ = read("bedrock_ai21.jsonl")
    assert ai21["output_text"].to_list() == ["\nMerci pour votre commande.", "\nDear customer, thank you so much for"]
    assert ai21["max_tokens"].to_list() == [None, 8]
    for df in (titan, meta, mistral, cohere, ai21):
        assert strs(df, "derived_stop")[1] == "truncated"


def test_other_invoke_bodies_read_as_the_api_they_are():
    df, _ = read("bedrock_invoke_other.jsonl")
    assert df["provider_api"].to_list() == ["bedrock_converse", "bedrock_converse", "anthropic_messages", "openai_completions"]
    assert df["provider_stop_reason"].to_list() == ["end_turn", "max_tokens", "end_turn", "stop"]
    assert df["max_tokens"].to_list() == [None, 16, None, None]  # Nova inferenceConfig.max_new_tokens
    assert df["output_text"][0] == "Your order will be packed today."


def test_odd_bodies_are_reported_not_dropped():
    df, problems = read("not_read.jsonl")
    assert df["source_line"].to_list() == [4]
    assert problems.select("source_line", "kind").rows() == [(1, "unknown_shape"), (2, "unknown_shape"), (3, "error_body")]
    reasons = problems["reason"].to_list()
    assert "object=list" in reasons[0]
    assert "cohere_v2" in reasons[1] and "$.message.content" in reasons[1]
    assert reasons[2] == 'HTTP error body: error: model "llama9" not found, try pulling it first'


def _bodies_of(paths) -> pl.DataFrame:
    """Each line's response body as JSON text with its top-level keys (test helper)."""
    rows = []
    for path in paths:
        for line in path.read_bytes().splitlines():
            obj = orjson.loads(line)
            assert isinstance(obj, dict)
            body = obj["response"] if isinstance(obj.get("response"), dict) else obj
            rows.append({"_body": orjson.dumps(body).decode(), "_body_keys": list(body), "file": path.name})
    return pl.DataFrame(rows)


def test_detection_is_the_same_with_or_without_known_keys():
    first_five = ["openai_chat", "openai_responses", "anthropic_messages", "gemini", "bedrock_converse", "wrapped"]
    df = _bodies_of(sorted(BODIES.glob("*.jsonl")) + [FIXTURES / f"{n}.jsonl" for n in first_five])
    out = df.select(bodies.detect_api().alias("parsed"), bodies.detect_api(keys="_body_keys").alias("keys"))
    assert out["parsed"].to_list() == out["keys"].to_list()
    assert out["parsed"].null_count() == 0


@pytest.mark.parametrize(
    "name,api",
    [
        ("openai_chat.jsonl", bodies.OPENAI_CHAT),
        ("openai_responses.jsonl", bodies.OPENAI_RESPONSES),
        ("anthropic_messages.jsonl", bodies.ANTHROPIC_MESSAGES),
        ("gemini.jsonl", bodies.GEMINI),
        ("bedrock_converse.jsonl", bodies.BEDROCK_CONVERSE),
    ],
)
def test_first_five_apis_still_detected_as_before(name, api):
    df = _bodies_of([FIXTURES / name])
    assert set(df.select(bodies.detect_api(keys="_body_keys").alias("api"))["api"]) == {api}


def test_a_file_with_nothing_readable_gives_no_rows_and_every_problem(tmp_path):
    path = tmp_path / "nothing_readable.jsonl"
    path.write_text("\n".join((BODIES / "not_read.jsonl").read_text().splitlines()[:3]) + "\n")
    res = stoptriage.classify([path], input_format="responses")
    frame = res.frame.collect()
    assert frame.height == 0 and "provider_stop_reason" in frame.columns
    assert sorted(res.report.problems["source_line"].to_list()) == [1, 2, 3]


def test_framework_dicts_sharing_one_key_name_stay_unknown():
    lookalikes = [
        # LangChain LLMResult: generations is a list of lists, finish_reason under generation_info.
        '{"generations":[[{"text":"Hi there.","generation_info":{"finish_reason":"stop"}}]],"llm_output":null}',
        '{"text":"Hi there.","finish_reason":"stop"}',  # no Cohere response_id / generation_id
        '{"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}',  # no Cohere v2 id
        '{"message":{"role":"assistant","content":"Hi"},"done":true}',  # no Ollama model
    ]
    df = pl.DataFrame({"_body": lookalikes})
    assert df.select(bodies.detect_api().alias("api"))["api"].to_list() == [bodies.UNKNOWN] * 4
