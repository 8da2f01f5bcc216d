"""Normalized stop_reason: from the provider's stop fields only (stop-reasons.md §5)."""

from __future__ import annotations

import pytest

from conftest import classify_rows

CASES = [
    ("anthropic", "end_turn", None, "stop"),
    ("anthropic", "max_tokens", None, "length"),
    ("anthropic", "model_context_window_exceeded", None, "context_window"),
    ("anthropic", "pause_turn", None, "pause"),
    ("anthropic", "refusal", "cyber", "refusal"),
    ("openai", "stop", None, "stop"),
    ("openai", "length", None, "length"),
    ("openai", "function_call", None, "tool_call"),
    ("openai", "content_filter", None, "content_filter"),
    ("openai", "completed", None, "stop"),
    ("openai", "incomplete", "max_output_tokens", "length"),
    ("openai", "incomplete", "content_filter", "content_filter"),
    ("openai", "failed", None, "error"),
    ("gemini", "STOP", None, "stop"),
    ("gemini", "1", None, "stop"),
    ("gemini", "2", None, "length"),
    ("gemini", "3", None, "content_filter"),
    ("gemini", "9", None, "other"),
    ("gemini", "MALFORMED_FUNCTION_CALL", None, "malformed_output"),
    ("gemini", "FINISH_REASON_UNSPECIFIED", None, "unknown"),
    ("gemini", None, "SAFETY", "content_filter"),
    ("bedrock", "guardrail_intervened", None, "content_filter"),
    ("bedrock", "malformed_tool_use", None, "malformed_output"),
    ("ollama", "", None, "aborted"),
    ("ollama", "load", None, "unknown"),
    ("mistral", "model_length", None, "context_window"),
    ("vllm", "repetition", None, "other"),
]


@pytest.mark.parametrize("provider,raw,detail,expected", CASES)
def test_mapping(provider, raw, detail, expected):
    row = classify_rows([{"provider": provider, "provider_stop_reason": raw, "stop_detail": detail, "output_text": "Fine."}]).row(0, named=True)
    assert row["stop_reason"] == expected
    assert row["provider_stop_reason"] == raw  # never rewritten


def test_missing_is_unknown_and_unmapped_is_other_never_stop():
    df = classify_rows([
        {"provider_stop_reason": None, "output_text": "Text without a stop reason."},
        {"provider": "together", "provider_stop_reason": "eos", "output_text": "Done."},
        {"provider": "openai", "provider_stop_reason": "STOPPED_BY_PROXY", "output_text": "Done."},
    ])
    assert df["stop_reason"].cast(str).to_list() == ["unknown", "other", "other"]
    assert not df["disagrees"].any()  # no expectation for unknown/other


def test_stop_with_tool_calls_is_not_rewritten_for_chat_but_is_for_responses_and_gemini():
    call = [{"name": "get_weather", "arguments": '{"city": "Lima"}'}]
    df = classify_rows([
        {"provider": "openai", "provider_stop_reason": "stop", "output_text": "", "tool_calls": call},
        {"provider": "openai", "provider_stop_reason": "completed", "output_text": "", "tool_calls": call},
        {"provider": "gemini", "provider_stop_reason": "STOP", "output_text": "", "tool_calls": call},
        {"provider": "gemini", "provider_stop_reason": "1", "output_text": "", "tool_calls": call},
    ])
    assert df["stop_reason"].cast(str).to_list() == ["stop", "tool_call", "tool_call", "tool_call"]
    assert df["alerts"].to_list()[0] == ["hidden_tool_call"]
    assert df["disagrees"].to_list() == [True, False, False, False]


def test_value_keys_that_only_streams_and_exporters_send():
    from conftest import canonical
    from stoptriage.normalize import add_stop_reason

    rows = [
        # (provider, raw, detail, n tool calls) -> expected
        ("anthropic", None, "stream_incomplete", 0, "aborted"),
        ("gemini", None, "stream_incomplete", 0, "aborted"),  # not prompt_blocked
        ("openai", None, "stream_error", 0, "error"),
        ("bedrock", None, "guardrail_intervened", 0, "content_filter"),
        ("gemini", None, "SAFETY", 0, "content_filter"),  # prompt blocked (no candidates)
        ("ollama", "stop", None, 1, "tool_call"),
        ("cohere", "COMPLETE", None, 1, "tool_call"),
        ("openai", "stop", None, 1, "stop"),  # Chat has tool_calls: stays stop (G1)
        ("gcp.vertex_ai", "stop", None, 1, "tool_call"),
        ("azure", "completed", None, 1, "tool_call"),
        ("vercel", "unknown", None, 0, "unknown"),
        ("gemini", "safety", None, 0, "content_filter"),
    ]
    call = [{"name": "f", "arguments": "{}"}]
    lf = canonical(
        [
            {"provider": p, "provider_stop_reason": r, "stop_detail": d, "tool_calls": call * n, "output_text": "x"}
            for p, r, d, n, _ in rows
        ]
    )
    got = add_stop_reason(lf).collect()["stop_reason"].cast(str).to_list()
    assert got == [want for *_, want in rows]
