"""Request bodies for the five APIs (trace-formats.md §0 'req' rows), invented for the samples.

Every builder takes a ``Req`` and returns the provider's request JSON as a dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city"],
}
FORECAST_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"],
}
TOOLS = [
    ("get_weather", "Current weather for a city.", WEATHER_SCHEMA),
    ("get_forecast", "Daily forecast for a city for the next few days.", FORECAST_SCHEMA),
]
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "vendor": {"type": "string"},
        "total": {"type": "number"},
        "line_items": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["invoice_number", "total"],
}


@dataclass
class Req:
    model: str
    system: str
    user: str
    max_tokens: int
    max_key: str = "max_tokens"  # OpenAI chat: max_tokens or max_completion_tokens
    expects_json: bool = False
    tools: bool = False
    # previous tool round: (call_id, name, args dict, result dict) -> last input is a tool result
    prior: tuple | None = None
    extra: dict = field(default_factory=dict)


def openai_chat(r: Req) -> dict:
    msgs: list[dict] = [{"role": "system", "content": r.system}, {"role": "user", "content": r.user}]
    if r.prior:
        cid, name, args, result = r.prior
        call = {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        msgs.append({"role": "assistant", "content": None, "tool_calls": [call]})
        msgs.append({"role": "tool", "tool_call_id": cid, "content": json.dumps(result)})
    body: dict = {"model": r.model, "messages": msgs, r.max_key: r.max_tokens}
    if r.expects_json:
        body["response_format"] = {"type": "json_object"}
    if r.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": n, "description": d, "parameters": s}} for n, d, s in TOOLS
        ]
    return body | r.extra


def openai_responses(r: Req) -> dict:
    inp: list[dict] = [{"role": "user", "content": r.user}]
    if r.prior:
        cid, name, args, result = r.prior
        inp.append({"type": "function_call", "call_id": cid, "name": name, "arguments": json.dumps(args)})
        inp.append({"type": "function_call_output", "call_id": cid, "output": json.dumps(result)})
    body: dict = {"model": r.model, "instructions": r.system, "input": inp, "max_output_tokens": r.max_tokens}
    if r.expects_json:
        body["text"] = {"format": {"type": "json_object"}}
    if r.tools:
        body["tools"] = [{"type": "function", "name": n, "description": d, "parameters": s} for n, d, s in TOOLS]
    return body | r.extra


def anthropic(r: Req) -> dict:
    msgs: list[dict] = [{"role": "user", "content": r.user}]
    if r.prior:
        cid, name, args, result = r.prior
        msgs.append({"role": "assistant", "content": [{"type": "tool_use", "id": cid, "name": name, "input": args}]})
        block = {"type": "tool_result", "tool_use_id": cid, "content": json.dumps(result)}
        msgs.append({"role": "user", "content": [block]})
    body: dict = {"model": r.model, "max_tokens": r.max_tokens, "system": r.system, "messages": msgs}
    if r.expects_json:
        body["output_config"] = {"format": {"type": "json_schema", "schema": INVOICE_SCHEMA}}
    if r.tools:
        body["tools"] = [{"name": n, "description": d, "input_schema": s} for n, d, s in TOOLS]
    return body | r.extra


def gemini(r: Req) -> dict:
    contents: list[dict] = [{"role": "user", "parts": [{"text": r.user}]}]
    if r.prior:
        _, name, args, result = r.prior
        contents.append({"role": "model", "parts": [{"functionCall": {"name": name, "args": args}}]})
        contents.append({"role": "user", "parts": [{"functionResponse": {"name": name, "response": result}}]})
    cfg: dict = {"maxOutputTokens": r.max_tokens, "temperature": 0.4}
    if r.expects_json:
        cfg["responseMimeType"] = "application/json"
    body: dict = {
        "systemInstruction": {"parts": [{"text": r.system}]},
        "contents": contents,
        "generationConfig": cfg,
    }
    if r.tools:
        decls = [{"name": n, "description": d, "parameters": s} for n, d, s in TOOLS]
        body["tools"] = [{"functionDeclarations": decls}]
    return body | r.extra


def bedrock(r: Req) -> dict:
    msgs: list[dict] = [{"role": "user", "content": [{"text": r.user}]}]
    if r.prior:
        cid, name, args, result = r.prior
        msgs.append({"role": "assistant", "content": [{"toolUse": {"toolUseId": cid, "name": name, "input": args}}]})
        msgs.append({"role": "user", "content": [{"toolResult": {"toolUseId": cid, "content": [{"json": result}]}}]})
    body: dict = {
        "modelId": r.model,
        "system": [{"text": r.system}],
        "messages": msgs,
        "inferenceConfig": {"maxTokens": r.max_tokens, "temperature": 0.5},
    }
    if r.tools:
        specs = [{"toolSpec": {"name": n, "description": d, "inputSchema": {"json": s}}} for n, d, s in TOOLS]
        body["toolConfig"] = {"tools": specs}
    return body | r.extra


BUILDERS = {
    "openai_chat": openai_chat,
    "openai_responses": openai_responses,
    "anthropic": anthropic,
    "gemini": gemini,
    "bedrock": bedrock,
}
