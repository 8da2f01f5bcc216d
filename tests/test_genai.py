"""OTel GenAI (§1a, §1b), OpenLLMetry (§1c) and Vercel AI SDK (§1d) spans -> canonical
columns (stoptriage/ingest/genai.py; trace-formats.md §1a–§1d, §11).

Spans are written here as small dicts in each convention's documented attribute
shape and turned into the SPANS / ATTRS / EVENTS frames of ingest/spans.py by
:func:`frames`; the end-to-end tests read hand-written OTLP JSON files under
tests/fixtures/genai/ through ``stoptriage.read``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import orjson
import polars as pl

import stoptriage
from stoptriage.ingest import genai

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def attr_text(v) -> str:
    """An attribute value as ATTRS holds it (spans.py): str as is, else JSON text."""
    return v if isinstance(v, str) else orjson.dumps(v).decode()


def frames(spans: list[dict]) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Spans as dicts -> (SPANS, ATTRS, EVENTS) frames of the spans.py contract.

    Span dict keys: ``name``; ``attrs`` (dict key -> value); ``events`` (list of
    ``(event_name, {key: value})``); optional ``status`` (unset/ok/error),
    ``id``, ``parent`` (span ids), ``trace``. ``_sid`` is the list position.
    """
    srows, arows, erows = [], [], []
    for sid, sp in enumerate(spans):
        srows.append({
            "_sid": sid, "source_line": 1, "trace_id": sp.get("trace", "t" * 32),
            "span_id": sp.get("id", f"{sid:016x}"), "parent_span_id": sp.get("parent"),
            "name": sp["name"], "kind": "client", "start_time": T0, "end_time": T0,
            "status_code": sp.get("status", "unset"), "status_message": sp.get("message"),
            "service_name": "svc", "scope_name": sp.get("scope"),
        })
        for k, v in sp.get("attrs", {}).items():
            arows.append({"_sid": sid, "key": k, "value": attr_text(v)})
        for n, (ename, eattrs) in enumerate(sp.get("events", [])):
            for k, v in (eattrs or {None: None}).items():
                erows.append({"_sid": sid, "event_index": n, "event_name": ename, "time": T0,
                              "key": k, "value": None if v is None else attr_text(v)})
    sschema = {"_sid": pl.Int64, "source_line": pl.Int64, "trace_id": pl.String, "span_id": pl.String,
               "parent_span_id": pl.String, "name": pl.String, "kind": pl.String,
               "start_time": pl.Datetime("us", "UTC"), "end_time": pl.Datetime("us", "UTC"),
               "status_code": pl.String, "status_message": pl.String, "service_name": pl.String,
               "scope_name": pl.String}
    aschema = {"_sid": pl.Int64, "key": pl.String, "value": pl.String}
    eschema = {"_sid": pl.Int64, "event_index": pl.Int64, "event_name": pl.String,
               "time": pl.Datetime("us", "UTC"), "key": pl.String, "value": pl.String}
    return (pl.DataFrame(srows, schema=sschema).lazy(), pl.DataFrame(arows, schema=aschema).lazy(),
            pl.DataFrame(erows, schema=eschema).lazy())


def run(spans: list[dict]) -> list[dict]:
    """Extract and return the rows as dicts, in _sid order."""
    return genai.extract(*frames(spans)).collect().sort("_sid").to_dicts()


def one(span: dict) -> dict:
    rows = run([span])
    assert len(rows) == 1, rows
    return rows[0]


def calls(*pairs: tuple[str, str]) -> list[dict]:
    return [{"name": n, "arguments": a} for n, a in pairs]


# §1a — current OTel GenAI ------------------------------------------------------------


def chat_span(**attrs) -> dict:
    base = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    base.update(attrs)
    return {"name": "chat gpt-4o", "attrs": base}


def test_current_semconv_length_with_text():
    row = one(chat_span(**{
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ["length"],
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.request.max_tokens": 200,
        "gen_ai.output.type": "json",
        "gen_ai.agent.name": "invoice-agent",
        "gen_ai.output.messages": [{"role": "assistant", "finish_reason": "length", "parts": [
            {"type": "reasoning", "content": "The user wants JSON."},
            {"type": "text", "content": '{"total": 12'},
            {"type": "text", "content": ', "currency": "EU'}]}],
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "Parse it"}]}],
    }))
    assert row["provider"] == "openai"
    assert row["model"] == "gpt-4o-2024-08-06"  # response model wins over request model
    assert row["provider_stop_reason"] == "length"
    assert row["normalized_by"] is None
    assert row["output_text"] == '{"total": 12, "currency": "EU'  # reasoning part is not output text
    assert row["tool_calls"] == []
    assert (row["output_tokens"], row["max_tokens"]) == (200, 200)
    assert row["expects_json"] is True
    assert row["after_tool_result"] is False
    assert row["agent_name"] == "invoice-agent"
    assert row["_route_hint"] is None and row["_convention"] == "otel-genai"


def test_current_semconv_tool_call_parts_object_and_string_arguments():
    row = one(chat_span(**{
        "gen_ai.response.finish_reasons": ["tool_call"],
        "gen_ai.output.messages": [{"role": "assistant", "finish_reason": "tool_call", "parts": [
            {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2]}},
            {"type": "tool_call", "id": "call_2", "name": "get_time", "arguments": '{"tz": "Europe/Paris"}'}]}],
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_0", "response": {"ok": True}}]}],
    }))
    assert row["provider_stop_reason"] == "tool_call"
    assert row["tool_calls"] == calls(("get_weather", '{"city":"Paris","days":[1,2]}'),
                                      ("get_time", '{"tz": "Europe/Paris"}'))
    assert row["output_text"] == ""  # parts present, none of them text
    assert row["after_tool_result"] is True


def test_current_semconv_fallbacks_and_request_side():
    row = one({"name": "chat claude", "attrs": {
        "gen_ai.operation.name": "chat", "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-x",
        "gen_ai.openai.request.response_format": "json_schema",
        # no finish_reasons attribute: the message's finish_reason is the value
        "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "ok"}], "finish_reason": "end_turn"}],
        # Anthropic-style tool result: a user message holding a tool_call_response part
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "tool_call_response", "id": "t1", "response": "42"}]}],
    }})
    assert row["provider"] == "anthropic"  # deprecated gen_ai.system when provider.name is absent
    assert row["model"] == "claude-x"
    assert row["provider_stop_reason"] == "end_turn"
    assert row["expects_json"] is True
    assert row["after_tool_result"] is True


def test_content_not_captured():
    row = one(chat_span(**{"gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.output_tokens": 3}))
    assert row["provider_stop_reason"] == "stop"
    assert row["output_text"] is None  # conform() turns this into ""
    assert row["tool_calls"] == []
    assert row["after_tool_result"] is None and row["expects_json"] is None


def test_provider_names_mapped_and_first_choice_only():
    rows = run([
        chat_span(**{"gen_ai.provider.name": "gcp.gemini", "gen_ai.response.finish_reasons": ["max_tokens", "stop"]}),
        chat_span(**{"gen_ai.provider.name": "aws.bedrock", "gen_ai.response.finish_reasons": "stop"}),
        chat_span(**{"gen_ai.provider.name": "groq", "gen_ai.response.finish_reasons": []}),
    ])
    assert [r["provider"] for r in rows] == ["gemini", "bedrock", "groq"]
    assert [r["provider_stop_reason"] for r in rows] == ["max_tokens", "stop", None]


def test_error_spans():
    rows = run([
        {"name": "chat gpt-4o", "status": "error", "attrs": {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "error.type": "openai.RateLimitError",
            "gen_ai.response.finish_reasons": ["error"]}},
        {"name": "chat gpt-4o", "status": "error", "attrs": {"gen_ai.operation.name": "chat"},
         "events": [("exception", {"exception.type": "TimeoutError", "exception.message": "timed out"})]},
        {"name": "chat gpt-4o", "status": "error", "attrs": {"gen_ai.operation.name": "chat"}},
        chat_span(**{"gen_ai.response.finish_reasons": ["stop"]}),
    ])
    assert [r["provider_stop_reason"] for r in rows] == ["error", None, None, "stop"]
    assert [r["stop_detail"] for r in rows] == ["openai.RateLimitError", "TimeoutError", "span_error", None]


def test_malformed_output_messages_do_not_fail_the_span():
    rows = run([
        chat_span(**{"gen_ai.response.finish_reasons": ["stop"], "gen_ai.output.messages": '[{"role":"assistant","parts":[{"ty'}),
        chat_span(**{"gen_ai.response.finish_reasons": ["stop"], "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": "fine"}]}]}),
    ])
    assert [r["output_text"] for r in rows] == [None, "fine"]
    assert [r["provider_stop_reason"] for r in rows] == ["stop", "stop"]


def test_operation_details_event_fills_missing_attributes():
    row = one({"name": "chat gpt-4o", "attrs": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"},
               "events": [(genai.DETAILS_EVENT, {
                   "gen_ai.response.finish_reasons": ["length"],
                   "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "cut o"}]}]})]})
    assert (row["provider_stop_reason"], row["output_text"]) == ("length", "cut o")


def test_non_generation_spans_are_left_out():
    rows = run([
        {"name": "embeddings text-embedding-3-small", "attrs": {
            "gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 8}},
        {"name": "execute_tool get_weather", "attrs": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"}},
        {"name": "invoke_agent planner", "attrs": {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai",
                                                   "gen_ai.usage.output_tokens": 90}},
        {"name": "ChatCompletion", "attrs": {"openinference.span.kind": "LLM", "gen_ai.system": "openai",
                                             "gen_ai.response.finish_reasons": ["stop"]}},
        {"name": "openai.embeddings", "attrs": {"llm.request.type": "embedding", "gen_ai.system": "openai",
                                                "gen_ai.usage.prompt_tokens": 5}},
        {"name": "weather_agent.workflow", "attrs": {"traceloop.span.kind": "workflow", "traceloop.workflow.name": "weather_agent"}},
        {"name": "ai.toolCall", "attrs": {"ai.operationId": "ai.toolCall", "ai.toolCall.name": "weather"}},
        {"name": "GET /health", "attrs": {"http.route": "/health"}},
        chat_span(**{"gen_ai.response.finish_reasons": ["stop"]}),
    ])
    assert [r["_sid"] for r in rows] == [8]


# §1b — older OTel GenAI generations ----------------------------------------------------


def test_v127_span_event_content():
    row = one({"name": "chat gpt-4", "attrs": {
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4", "gen_ai.response.model": "gpt-4-0613",
        "gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.completion_tokens": 7, "gen_ai.request.max_tokens": 100},
        "events": [
            ("gen_ai.content.prompt", {"gen_ai.prompt": [{"role": "user", "content": "Hi"}]}),
            ("gen_ai.content.completion", {"gen_ai.completion": [{"role": "assistant", "content": "Hello! How can I help?"}]}),
        ]})
    assert row["provider"] == "openai" and row["model"] == "gpt-4-0613"
    assert row["provider_stop_reason"] == "stop"
    assert row["output_text"] == "Hello! How can I help?"
    assert (row["output_tokens"], row["max_tokens"]) == (7, 100)  # v1.26 completion_tokens
    assert row["after_tool_result"] is False


def test_v136_choice_log_event_with_tool_calls():
    body = {"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "A-17"}'}}]}}
    row = one({"name": "chat gpt-4o-mini", "attrs": {
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.finish_reasons": ["tool_calls"], "gen_ai.usage.output_tokens": 19},
        "events": [
            ("gen_ai.user.message", {"body": {"content": "Where is A-17?"}}),
            ("gen_ai.assistant.message", {"body": {"tool_calls": [{"id": "call_0"}]}}),
            ("gen_ai.tool.message", {"body": {"content": "shipped", "id": "call_0"}}),
            ("gen_ai.choice", {"body": body}),
        ]})
    assert row["provider_stop_reason"] == "tool_calls"
    assert row["tool_calls"] == calls(("lookup_order", '{"order_id": "A-17"}'))
    assert row["output_text"] is None  # the choice has no content
    assert row["after_tool_result"] is True


def test_choice_event_flattened_body_and_index_order():
    # Body fields as one row each; the index-0 choice wins over an earlier index-1 event.
    row = one({"name": "chat gpt-4o", "attrs": {"gen_ai.operation.name": "chat", "gen_ai.system": "openai"},
               "events": [
                   ("gen_ai.user.message", {"content": "Two answers please"}),
                   ("gen_ai.choice", {"index": 1, "finish_reason": "stop", "message": {"content": "second"}}),
                   ("gen_ai.choice", {"index": 0, "finish_reason": "length", "message": {"content": "first, cut"}}),
               ]})
    assert (row["provider_stop_reason"], row["output_text"]) == ("length", "first, cut")
    assert row["after_tool_result"] is False


def test_v127_without_operation_name_needs_a_generation_signal():
    rows = run([
        {"name": "openai.chat", "attrs": {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4",
                                          "gen_ai.response.finish_reasons": ["length"]}},
        {"name": "openai.setup", "attrs": {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4"}},
    ])
    assert [(r["_sid"], r["provider_stop_reason"]) for r in rows] == [(0, "length")]


# §1c — OpenLLMetry / Traceloop ----------------------------------------------------------


def test_openllmetry_anthropic_tool_use_indexed():
    row = one({"name": "anthropic.chat", "scope": "opentelemetry.instrumentation.anthropic", "attrs": {
        "llm.request.type": "chat", "gen_ai.system": "Anthropic", "gen_ai.request.model": "claude-x",
        "gen_ai.response.model": "claude-x-20260101", "gen_ai.request.max_tokens": 512,
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Weather in Paris?",
        "gen_ai.prompt.1.role": "assistant", "gen_ai.prompt.1.content": "[]",
        "gen_ai.prompt.2.role": "user",
        "gen_ai.prompt.2.content": '[{"type": "tool_result", "tool_use_id": "toolu_0", "content": "18C"}]',
        "gen_ai.completion.0.finish_reason": "tool_use", "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Let me check the forecast.",
        "gen_ai.completion.0.tool_calls.0.id": "toolu_1", "gen_ai.completion.0.tool_calls.0.name": "get_forecast",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
        "gen_ai.completion.0.tool_calls.1.id": "toolu_2", "gen_ai.completion.0.tool_calls.1.name": "get_alerts",
        "gen_ai.completion.0.tool_calls.1.arguments": '{"region": "IDF"}',
        "gen_ai.usage.output_tokens": 61, "llm.usage.total_tokens": 300,
        "traceloop.workflow.name": "weather_agent", "traceloop.entity.path": "plan.call",
    }})
    assert row["provider"] == "anthropic"  # pre-2026 capitalised gen_ai.system
    assert row["model"] == "claude-x-20260101"
    assert row["provider_stop_reason"] == "tool_use" and row["normalized_by"] is None
    assert row["output_text"] == "Let me check the forecast."
    assert row["tool_calls"] == calls(("get_forecast", '{"city": "Paris"}'), ("get_alerts", '{"region": "IDF"}'))
    assert (row["output_tokens"], row["max_tokens"]) == (61, 512)
    assert row["after_tool_result"] is True  # last prompt: user message holding a tool_result block
    assert row["_route_hint"] == "weather_agent" and row["_convention"] == "openllmetry"


def test_openllmetry_thinking_index_is_not_output_text():
    row = one({"name": "anthropic.chat", "attrs": {
        "llm.request.type": "chat", "gen_ai.system": "Anthropic", "gen_ai.request.model": "claude-x",
        "gen_ai.completion.0.finish_reason": "max_tokens", "gen_ai.completion.0.role": "thinking",
        "gen_ai.completion.0.content": "First I should consider",
        "gen_ai.completion.1.role": "assistant", "gen_ai.completion.1.content": "The answer is",
        "gen_ai.completion.1.tool_calls.0.name": "calc", "gen_ai.completion.1.tool_calls.0.arguments": '{"x": ',
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Solve it",
    }})
    assert row["provider_stop_reason"] == "max_tokens"  # set on index 0 (the thinking index)
    assert row["output_text"] == "The answer is"
    assert row["tool_calls"] == calls(("calc", '{"x": '))
    assert row["after_tool_result"] is False


def test_openllmetry_first_choice_of_several_and_tool_role_prompt():
    row = one({"name": "openai.chat", "attrs": {
        "llm.request.type": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Name a colour",
        "gen_ai.prompt.1.role": "assistant",
        "gen_ai.prompt.2.role": "tool", "gen_ai.prompt.2.content": "blue", "gen_ai.prompt.2.tool_call_id": "call_9",
        "gen_ai.completion.0.finish_reason": "stop", "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Blue.",
        "gen_ai.completion.1.finish_reason": "length", "gen_ai.completion.1.role": "assistant", "gen_ai.completion.1.content": "Gre",
        "gen_ai.usage.completion_tokens": 4,
    }})
    assert (row["provider_stop_reason"], row["output_text"]) == ("stop", "Blue.")
    assert row["after_tool_result"] is True and row["output_tokens"] == 4


def test_openllmetry_filtered_content_and_refusal():
    rows = run([
        {"name": "openai.chat", "attrs": {
            "llm.request.type": "chat", "gen_ai.system": "openai",
            "gen_ai.completion.0.finish_reason": "content_filter", "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "FILTERED",
            "gen_ai.completion.0.content_filter_results": {"violence": {"filtered": True, "severity": "high"}}}},
        {"name": "openai.chat", "attrs": {
            "llm.request.type": "chat", "gen_ai.system": "openai",
            "gen_ai.completion.0.finish_reason": "stop", "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.refusal": "I can't help with that."}},
    ])
    assert [r["provider_stop_reason"] for r in rows] == ["content_filter", "stop"]
    assert rows[0]["output_text"] == ""  # the FILTERED placeholder is not model text
    assert rows[1]["provider_refusal"] == "I can't help with that."


def test_openllmetry_2026_enum_mapped_finish_reason():
    upstream = {"gen_ai.operation.name": "chat", "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-x",
                "gen_ai.is_streaming": False}
    rows = run([
        # end_turn written as the OTel enum "stop": flagged
        {"name": "anthropic.chat", "attrs": {**upstream, "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "Done."}], "finish_reason": "stop"}],
            "traceloop.association.properties.tenant": "acme", "traceloop.association.properties.feature": "faq"}},
        # a value outside the enum passed through raw: not flagged
        {"name": "anthropic.chat", "attrs": {**upstream, "gen_ai.response.finish_reasons": ["pause_turn"]}},
        # the same "stop" from an instrumentation without OpenLLMetry markers: raw
        chat_span(**{"gen_ai.response.finish_reasons": ["stop"]}),
    ])
    assert [r["provider_stop_reason"] for r in rows] == ["stop", "pause_turn", "stop"]
    assert [r["normalized_by"] for r in rows] == ["openllmetry", None, None]
    assert rows[0]["output_text"] == "Done." and rows[0]["provider"] == "anthropic"
    assert rows[0]["_route_hint"] == "feature=faq;tenant=acme"
    assert [r["_convention"] for r in rows] == ["openllmetry", "openllmetry", "otel-genai"]


def test_openllmetry_structured_output_schema():
    row = one({"name": "openai.chat", "attrs": {
        "llm.request.type": "chat", "gen_ai.system": "openai",
        "gen_ai.request.structured_output_schema": '{"type": "object"}',
        "gen_ai.completion.0.finish_reason": "stop", "gen_ai.completion.0.content": '{"a": 1}'}})
    assert row["expects_json"] is True


# §1d — Vercel AI SDK -------------------------------------------------------------------


def test_vercel_tool_calls_on_the_provider_call_span():
    outer = {"name": "ai.generateText", "id": "a" * 16, "attrs": {
        "ai.operationId": "ai.generateText", "ai.model.provider": "openai.chat", "ai.model.id": "gpt-4o",
        "ai.response.finishReason": "tool-calls", "ai.telemetry.functionId": "support-triage"}}
    inner = {"name": "ai.generateText.doGenerate", "id": "b" * 16, "parent": "a" * 16, "attrs": {
        "ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "openai.chat", "ai.model.id": "gpt-4o",
        "ai.response.model": "gpt-4o-2024-08-06", "ai.response.finishReason": "tool-calls",
        "ai.response.toolCalls": [{"toolCallType": "function", "toolCallId": "call_1", "toolName": "searchOrders",
                                   "input": '{"status":"open"}'}],
        "ai.usage.outputTokens": 21, "ai.settings.maxOutputTokens": 1000,
        "ai.prompt.messages": [{"role": "user", "content": [{"type": "text", "text": "open orders?"}]}],
        "ai.telemetry.functionId": "support-triage", "ai.telemetry.metadata.team": "cx",
        "gen_ai.system": "openai.chat", "gen_ai.response.finish_reasons": ["tool-calls"]}}
    rows = run([outer, inner])
    assert [r["_sid"] for r in rows] == [1]  # the outer span has a provider-call child
    row = rows[0]
    assert row["provider"] == "openai" and row["model"] == "gpt-4o-2024-08-06"
    assert (row["provider_stop_reason"], row["normalized_by"]) == ("tool-calls", "vercel-ai")
    assert row["tool_calls"] == calls(("searchOrders", '{"status":"open"}'))
    assert (row["output_tokens"], row["max_tokens"]) == (21, 1000)
    assert row["after_tool_result"] is False and row["expects_json"] is None
    assert row["_route_hint"] == "support-triage" and row["_convention"] == "vercel-ai"


def test_vercel_v4_keys_object_args_and_outer_span_alone():
    rows = run([
        {"name": "ai.streamText.doStream", "attrs": {
            "ai.operationId": "ai.streamText.doStream", "ai.model.provider": "anthropic.messages",
            "ai.model.id": "claude-x", "ai.response.finishReason": "length", "ai.response.text": "Step one is to",
            "ai.response.toolCalls": [{"toolCallId": "t1", "toolName": "fetch", "args": {"url": "https://x.test"}}],
            "ai.usage.completionTokens": 256, "ai.settings.maxTokens": 256,
            "ai.prompt.messages": [{"role": "user", "content": "go"}, {"role": "tool", "content": [{"type": "tool-result"}]}],
            "ai.telemetry.metadata.tenant": "acme"}},
        # an outer generateObject span with no provider-call child in the file stands for the call
        {"name": "ai.generateObject", "attrs": {
            "ai.operationId": "ai.generateObject", "ai.model.provider": "google.generative-ai",
            "ai.model.id": "gemini-x", "ai.response.finishReason": "stop", "ai.response.object": '{"ok": true}'}},
    ])
    first, second = rows
    assert (first["provider"], first["provider_stop_reason"], first["normalized_by"]) == ("anthropic", "length", "vercel-ai")
    assert first["output_text"] == "Step one is to"
    assert first["tool_calls"] == calls(("fetch", '{"url":"https://x.test"}'))
    assert (first["output_tokens"], first["max_tokens"]) == (256, 256)
    assert first["after_tool_result"] is True
    assert first["_route_hint"] == "tenant=acme"
    assert (second["provider"], second["provider_stop_reason"], second["expects_json"]) == ("gemini", "stop", True)


def test_vercel_error_span():
    row = one({"name": "ai.generateText.doGenerate", "status": "error", "message": "Overloaded",
               "attrs": {"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "anthropic.messages"},
               "events": [("exception", {"exception.type": "AI_APICallError", "exception.message": "Overloaded"})]})
    assert row["provider_stop_reason"] is None and row["normalized_by"] is None
    assert row["stop_detail"] == "AI_APICallError"


# End to end: hand-written OTLP JSON files through stoptriage.read --------------------

FIX = Path(__file__).resolve().parent / "fixtures" / "genai"
SHOWN = ("span_id", "route", "provider", "model", "provider_stop_reason", "normalized_by", "stop_detail",
         "output_text", "tool_calls", "output_tokens", "max_tokens", "expects_json", "after_tool_result")


def read(name: str) -> tuple[list[dict], stoptriage.IngestReport]:
    lf, report = stoptriage.read([FIX / name])
    assert report.formats == {str(FIX / name): "otlp"}
    rows = lf.select(SHOWN).collect().to_dicts()
    return rows, report


def skipped(report: stoptriage.IngestReport) -> list[str]:
    """The not_a_model_call summary reasons, up to the span count (the breakdown is the dispatcher's)."""
    reasons = report.problems.filter(pl.col("kind") == "not_a_model_call")["reason"].to_list()
    return [r.split(" (")[0] for r in reasons]


def test_file_current_semconv():
    rows, report = read("otel_current.jsonl")
    assert [r["span_id"] for r in rows] == ["1a2b3c4d5e6f7081", "2b3c4d5e6f708192", "3c4d5e6f708192a3",
                                           "4d5e6f708192a3b4", "6f708192a3b4c5d6"]
    length, tools, uncaptured, failed, gemini = rows
    assert (length["provider_stop_reason"], length["output_tokens"], length["max_tokens"]) == ("length", 200, 200)
    assert length["output_text"].startswith('{"invoice": 42') and length["expects_json"] is True
    assert length["model"] == "gpt-4o-2024-08-06" and length["after_tool_result"] is False
    assert tools["tool_calls"] == calls(("list_payments", '{"invoice":42,"since":"2026-01-01"}'),
                                        ("get_customer", '{"customer_id": "C-9"}'))
    assert tools["after_tool_result"] is True and tools["output_text"] == ""
    assert (uncaptured["provider_stop_reason"], uncaptured["output_text"], uncaptured["after_tool_result"]) == ("stop", "", None)
    assert (failed["provider_stop_reason"], failed["stop_detail"]) == (None, "openai.RateLimitError")
    assert (gemini["provider"], gemini["provider_stop_reason"]) == ("gemini", "max_tokens")
    assert gemini["output_text"] == "The meeting moved the launch to May because the"  # reasoning part left out
    assert all(r["normalized_by"] is None for r in rows)
    assert skipped(report) == ["2 spans are not LLM calls"]  # the server span, the embeddings call


def test_file_v127_span_events():
    rows, _ = read("otel_v127_span_events.jsonl")
    assert [(r["provider_stop_reason"], r["output_text"]) for r in rows] == [
        ("stop", "Paris is the capital of France."), ("length", "1. Seine\n2. Loire\n3. Rh")]
    assert [r["output_tokens"] for r in rows] == [12, 16]  # v1.26 completion_tokens, v1.27 output_tokens
    assert [r["after_tool_result"] for r in rows] == [False, True]


def test_file_v136_choice_log_event():
    rows, report = read("otel_v136_log_events.jsonl")
    (row,) = rows
    assert (row["provider_stop_reason"], row["model"]) == ("tool_calls", "gpt-4o-mini-2024-07-18")
    assert row["tool_calls"] == calls(("track_parcel", '{"carrier": "DHL", "ref": "JD014"}'))
    assert row["after_tool_result"] is True  # the gen_ai.tool.message record precedes the choice
    assert report.problems.height == 0


def test_file_openllmetry_indexed():
    rows, report = read("openllmetry_indexed.jsonl")
    tool_use, thinking, filtered = rows
    assert (tool_use["provider"], tool_use["provider_stop_reason"], tool_use["normalized_by"]) == ("anthropic", "tool_use", None)
    assert tool_use["tool_calls"] == calls(("get_weather", '{"city": "Lyon", "days": 2}'))
    assert tool_use["output_text"] == "I'll check the weather first." and tool_use["route"] == "trip_planner"
    assert thinking["provider_stop_reason"] == "end_turn"
    assert thinking["output_text"] == "Day 1: Vieux Lyon and Fourviere. Day 2: Parc de la Tete d'Or."
    assert thinking["after_tool_result"] is True
    assert (filtered["provider_stop_reason"], filtered["output_text"], filtered["route"]) == ("content_filter", "", "story_writer")
    assert skipped(report) == ["2 spans are not LLM calls"]  # the workflow span, the embeddings call


def test_file_openllmetry_2026_enum():
    rows, _ = read("openllmetry_2026.jsonl")
    assert [(r["provider_stop_reason"], r["normalized_by"]) for r in rows] == [("stop", "openllmetry"), ("tool_call", "openllmetry")]
    assert rows[0]["output_text"] == "We open at 9am." and rows[1]["tool_calls"] == calls(("search_faq", '{"q":"holiday hours"}'))
    assert {r["route"] for r in rows} == {"faq_bot"}


def test_file_vercel_ai():
    rows, report = read("vercel_ai.jsonl")
    assert [r["span_id"] for r in rows] == ["dd00000000000002", "ee00000000000002"]
    calls_row, stream = rows
    assert (calls_row["provider_stop_reason"], calls_row["normalized_by"]) == ("tool-calls", "vercel-ai")
    assert calls_row["tool_calls"] == calls(("getOrder", '{"orderId":"881"}'))
    assert (calls_row["route"], calls_row["output_tokens"], calls_row["max_tokens"]) == ("refund-assistant", 35, 600)
    assert (stream["provider"], stream["provider_stop_reason"], stream["output_tokens"]) == ("anthropic", "length", 128)
    assert stream["output_text"].endswith("fails when the") and stream["route"] == "summarise-ticket"
    assert skipped(report) == ["3 spans are not LLM calls"]  # two outer spans and the tool call


def test_files_classified_stop_reasons():
    res = stoptriage.classify([FIX / "openllmetry_2026.jsonl", FIX / "vercel_ai.jsonl", FIX / "openllmetry_indexed.jsonl"])
    df = res.frame.select("provider_stop_reason", "normalized_by", "stop_reason").collect()
    assert df["stop_reason"].cast(pl.String).to_list() == ["stop", "tool_call", "tool_call", "length", "tool_call", "stop", "content_filter"]


def test_odd_values_give_nulls_not_failures():
    rows = run([
        {"name": "chat x", "attrs": {
            "gen_ai.operation.name": "chat", "gen_ai.output.messages": "not json", "gen_ai.input.messages": "[1, 2]",
            "gen_ai.usage.output_tokens": "many", "gen_ai.request.max_tokens": 1e3, "gen_ai.response.finish_reasons": ["stop"]},
         "events": [("gen_ai.choice", {"body": '"just a string"'})]},
        {"name": "ai.generateText.doGenerate", "attrs": {"ai.response.toolCalls": '{"not": "an array"}', "ai.response.finishReason": "stop"}},
        {"name": "anthropic.chat", "attrs": {"llm.request.type": "chat", "gen_ai.completion.x.content": "odd",
                                             "gen_ai.completion.0.tool_calls.zz.name": "g",
                                             "gen_ai.completion.0.tool_calls.0.name": "f"}},
    ])
    first, vercel, indexed = rows
    assert (first["output_text"], first["output_tokens"], first["max_tokens"]) == (None, None, 1000)
    assert first["after_tool_result"] is None and first["provider_stop_reason"] == "stop"
    assert (vercel["tool_calls"], vercel["provider_stop_reason"]) == ([], "stop")
    assert indexed["tool_calls"] == [{"name": "f", "arguments": None}] and indexed["provider_stop_reason"] is None


def test_output_message_parts_outside_the_decoded_shape_are_still_read():
    # A part whose content is an object does not fit the fixed dtype: the span is
    # read part by part instead, text and tool calls included.
    row = one(chat_span(**{"gen_ai.output.messages": [{"role": "assistant", "finish_reason": "tool_calls", "parts": [
        {"type": "text", "content": "Checking."},
        {"type": "image_summary", "content": {"width": 10}},
        {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": 1}}]}]}))
    assert row["provider_stop_reason"] == "tool_calls"
    assert row["output_text"] == "Checking."
    assert row["tool_calls"] == calls(("lookup", '{"q":1}'))
