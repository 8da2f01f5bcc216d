"""Response bodies for the five APIs (trace-formats.md §0), invented for the samples.

Every builder takes a ``Resp`` and returns the provider's response JSON as a dict.
Tool-call args: a dict (re-serialized for OpenAI) or, for OpenAI only, a raw string
(used for invalid / partial JSON arguments).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Resp:
    rid: str
    model: str
    created: int
    stop: object  # raw provider value; str, int (Gemini numeric) or None
    text: str | None
    out_tokens: int
    in_tokens: int
    calls: list = field(default_factory=list)  # [(call_id, name, args dict | str)]
    refusal: str | None = None  # OpenAI message.refusal / Responses refusal part
    incomplete: str | None = None  # Responses incomplete_details.reason
    stop_details: dict | None = None  # Anthropic
    blocks_before: list = field(default_factory=list)  # Anthropic extra content blocks (server tools)
    guardrail: str | None = None  # Bedrock trace.guardrail.actionReason
    max_output: int | None = None  # Responses echoes max_output_tokens


def _args_str(args) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def openai_chat(r: Resp) -> dict:
    msg: dict = {"role": "assistant", "content": r.text, "refusal": r.refusal}
    if r.calls:
        msg["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": n, "arguments": _args_str(a)}} for cid, n, a in r.calls
        ]
    return {
        "id": f"chatcmpl-{r.rid}",
        "object": "chat.completion",
        "created": r.created,
        "model": r.model,
        "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": r.stop}],
        "usage": {
            "prompt_tokens": r.in_tokens,
            "completion_tokens": r.out_tokens,
            "total_tokens": r.in_tokens + r.out_tokens,
        },
        "system_fingerprint": "fp_5a1c0e2d9b",
    }


def openai_responses(r: Resp) -> dict:
    out: list[dict] = []
    if r.text is not None or r.refusal is not None:
        part = (
            {"type": "refusal", "refusal": r.refusal}
            if r.refusal is not None
            else {"type": "output_text", "text": r.text, "annotations": []}
        )
        status = "incomplete" if r.stop == "incomplete" else "completed"
        out.append({"type": "message", "id": f"msg_{r.rid}", "status": status, "role": "assistant", "content": [part]})
    for cid, n, a in r.calls:
        out.append({"type": "function_call", "id": f"fc_{cid}", "call_id": cid, "name": n,
                    "arguments": _args_str(a), "status": "completed"})
    return {
        "id": f"resp_{r.rid}",
        "object": "response",
        "created_at": r.created,
        "status": r.stop,
        "model": r.model,
        "incomplete_details": {"reason": r.incomplete} if r.incomplete else None,
        "max_output_tokens": r.max_output,
        "output": out,
        "usage": {"input_tokens": r.in_tokens, "output_tokens": r.out_tokens,
                  "total_tokens": r.in_tokens + r.out_tokens},
    }


def anthropic(r: Resp) -> dict:
    content: list[dict] = list(r.blocks_before)
    if r.text:
        content.insert(0, {"type": "text", "text": r.text})
    for cid, n, a in r.calls:
        content.append({"type": "tool_use", "id": cid, "name": n, "input": a})
    body = {
        "id": f"msg_{r.rid}",
        "type": "message",
        "role": "assistant",
        "model": r.model,
        "content": content,
        "stop_reason": r.stop,
        "stop_sequence": None,
        "usage": {"input_tokens": r.in_tokens, "output_tokens": r.out_tokens},
    }
    if r.stop_details is not None:
        body["stop_details"] = r.stop_details
    return body


def gemini(r: Resp) -> dict:
    parts: list[dict] = []
    if r.text:
        parts.append({"text": r.text})
    for _, n, a in r.calls:
        parts.append({"functionCall": {"name": n, "args": a}})
    content: dict = {"role": "model"}
    if parts:
        content["parts"] = parts
    return {
        "candidates": [{"content": content, "finishReason": r.stop, "index": 0}],
        "usageMetadata": {
            "promptTokenCount": r.in_tokens,
            "candidatesTokenCount": r.out_tokens,
            "totalTokenCount": r.in_tokens + r.out_tokens,
        },
        "modelVersion": r.model,
        "responseId": r.rid,
    }


def bedrock(r: Resp) -> dict:
    content: list[dict] = []
    if r.text:
        content.append({"text": r.text})
    for cid, n, a in r.calls:
        content.append({"toolUse": {"toolUseId": cid, "name": n, "input": a}})
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": r.stop,
        "usage": {"inputTokens": r.in_tokens, "outputTokens": r.out_tokens,
                  "totalTokens": r.in_tokens + r.out_tokens},
        "metrics": {"latencyMs": 300 + (r.out_tokens * 7) % 2500},
        "modelId": r.model,
    }
    if r.guardrail:
        body["trace"] = {"guardrail": {"actionReason": r.guardrail}}
    return body


BUILDERS = {
    "openai_chat": openai_chat,
    "openai_responses": openai_responses,
    "anthropic": anthropic,
    "gemini": gemini,
    "bedrock": bedrock,
}

#: Clean stop value per API (a natural end).
CLEAN_STOP = {"openai_chat": "stop", "openai_responses": "completed", "anthropic": "end_turn",
              "gemini": "STOP", "bedrock": "end_turn"}
#: Length stop value per API (max tokens hit); Responses adds incomplete_details.
LENGTH_STOP = {"openai_chat": "length", "openai_responses": "incomplete", "anthropic": "max_tokens",
               "gemini": "MAX_TOKENS", "bedrock": "max_tokens"}
#: Tool-call stop value per API.
TOOL_STOP = {"openai_chat": "tool_calls", "openai_responses": "completed", "anthropic": "tool_use",
             "gemini": "STOP", "bedrock": "tool_use"}
MODELS = {
    "openai_chat": ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"],
    "openai_responses": ["gpt-4.1-mini-2025-04-14", "gpt-4.1-2025-04-14"],
    "anthropic": ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro"],
    "bedrock": ["amazon.nova-lite-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"],
}
