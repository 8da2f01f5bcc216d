"""One wrapped record (request + response) per case kind. All content is invented.

``build(rng, route, kind, api, n)`` -> (request dict, Resp) for the API named ``api``.
"""

from __future__ import annotations

import json
import random

import _text as T
from _requests import Req
from _responses import CLEAN_STOP, LENGTH_STOP, MODELS, TOOL_STOP, Resp

SYSTEM = {
    "support-chat": "You are a friendly support agent for Brightcart, an online home-goods store.",
    "invoice-extract": "Extract the invoice as JSON with keys invoice_number, vendor, issue_date, currency, "
    "line_items and total. Reply with JSON only.",
    "weather-agent": "You are a weather assistant. Use the tools to look up live data before answering.",
    "summarize": "Summarize the document for the internal newsletter. Keep it factual.",
}
QUESTIONS = [
    "Where is my order?", "How do I return a lamp that arrived broken?", "Can I change my delivery address?",
    "When will my refund arrive?", "How do I turn on two-factor login?", "Do gift cards expire?",
    "Why was I charged twice this month?", "Can I get an invoice for my company?", "What are your opening hours?",
]
SOFT_I = 0  # cycles through T.SOFT_REFUSALS so every phrasing appears


def tokens(rng: random.Random, text: str | None) -> int:
    return max(1, round(len(text or "") / 4 * rng.uniform(0.9, 1.1)))


def user_msg(rng: random.Random, route: str, inv: dict | None, city: str) -> str:
    if route == "support-chat":
        return rng.choice(QUESTIONS)
    if route == "invoice-extract":
        lines = "\n".join(f"{i['quantity']} x {i['description']} @ {i['unit_price']}" for i in inv["line_items"])
        return (f"Invoice {inv['invoice_number']} from {inv['vendor']}, dated {inv['issue_date']}, "
                f"currency {inv['currency']}.\n{lines}\nTotal due: {inv['total']}")
    if route == "weather-agent":
        return rng.choice([f"What's the weather in {city} right now?", f"Will it rain in {city} this week?",
                           f"Should I bring a jacket to {city} tomorrow?"])
    return "Document:\n\n" + T.long_text(rng, "summarize", rng.randint(600, 2400))


def cut_to(rng: random.Random, text: str, n_chars: int) -> str:
    """Cut prose near ``n_chars`` inside a sentence (never right after a period)."""
    cut = text[:n_chars]
    sp = cut.rfind(" ")
    cut = cut[:sp] if sp > n_chars // 2 else cut
    return cut.rstrip(" .,") if not cut.endswith((" and", " the", " of")) else cut


def build(rng: random.Random, route: str, kind: str, api: str, n: int, created: int):
    global SOFT_I
    model = rng.choice(MODELS[api])
    city = rng.choice(T.CITIES)
    inv = T.invoice(rng) if route == "invoice-extract" else None
    req = Req(model=model, system=SYSTEM[route], user=user_msg(rng, route, inv, city),
              max_tokens=rng.choice([512, 1024, 1024, 2048, 4096]),
              max_key=rng.choice(["max_tokens", "max_completion_tokens"]),
              expects_json=route == "invoice-extract" and api != "bedrock", tools=route == "weather-agent")
    rid = f"{rng.getrandbits(48):012x}"
    r = Resp(rid=rid, model=model, created=created, stop=CLEAN_STOP[api], text=None, out_tokens=0, in_tokens=0)
    cid = {"openai_chat": "call_", "openai_responses": "call_", "anthropic": "toolu_",
           "bedrock": "tooluse_", "gemini": "fc_"}[api] + f"{rng.getrandbits(40):010x}"
    weather_result = {"condition": rng.choice(T.CONDITIONS), "temp_c": rng.randint(-5, 31),
                      "wind_kph": rng.randint(2, 45)}
    after_tool_kinds = ("answer", "empty_after_tool", "cut_stop", "soft_refusal", "trunc")
    if route == "weather-agent" and kind in after_tool_kinds:
        req.prior = ("call_prev" + rid[:6], "get_weather", {"city": city}, weather_result)

    if kind in ("clean", "sorry_ok", "soft_refusal", "gemini_num1"):
        if kind == "clean":
            r.text = T.clean_answer(rng, route)
        elif kind == "sorry_ok":
            r.text = T.NOT_REFUSAL
        elif kind == "soft_refusal":
            r.text = T.SOFT_REFUSALS[SOFT_I % len(T.SOFT_REFUSALS)]
            SOFT_I += 1
        else:
            r.text, r.stop = T.clean_answer(rng, route), 1
    elif kind == "answer":
        r.text = T.weather_answer(rng, city)
    elif kind == "invoice":
        doc = json.dumps(inv, indent=2) if rng.random() < 0.4 else json.dumps(inv)
        r.text = f"```json\n{doc}\n```" if rng.random() < 0.25 else doc
    elif kind == "invoice_bad":
        r.text = (f'{{"invoice_number": "{inv["invoice_number"]}", "vendor": "{inv["vendor"]}", '
                  f'"total": {inv["total"]},}}')
    elif kind in ("cut_stop", "cut_fence"):
        if kind == "cut_fence":
            r.text = ("You can pull the order list with a short script. For example:\n\n```python\nimport requests"
                      "\n\nresp = requests.get(url, timeout=10)\nresp.raise_")
        elif route == "weather-agent":
            r.text = T.cut_mid(rng, T.weather_answer(rng, city) + " " + T.weather_line(rng, city), "the")
        else:
            mode = ["and", "the", "of", "word"][n % 4]
            r.text = T.cut_mid(rng, T.long_text(rng, route, rng.randint(120, 700)), mode)
    elif kind in ("trunc", "gemini_num2", "ctx_exceeded"):
        req.max_tokens = rng.choice([64, 96, 128, 200, 256]) if kind != "ctx_exceeded" else 4096
        size = req.max_tokens * 4 if kind != "ctx_exceeded" else rng.randint(2400, 3600)
        base = (" ".join(T.weather_line(rng, city) for _ in range(size // 40 + 4)) if route == "weather-agent"
                else T.long_text(rng, route, size + 200))
        r.text = cut_to(rng, base, size)
        r.stop = {"trunc": LENGTH_STOP[api], "gemini_num2": 2, "ctx_exceeded": "model_context_window_exceeded"}[kind]
        r.incomplete = "max_output_tokens" if r.stop == "incomplete" else None
        r.out_tokens = req.max_tokens if kind != "ctx_exceeded" else tokens(rng, r.text)
    elif kind == "trunc_json":
        req.max_tokens = rng.choice([40, 48, 56])
        r.text, r.stop = json.dumps(inv, indent=2)[: req.max_tokens * 3], LENGTH_STOP[api]
        r.out_tokens = req.max_tokens
    elif kind in ("tool_call", "stop_with_tools", "tool_bad_json", "tool_bad_schema", "trunc_tool"):
        name, args = rng.choice([("get_weather", {"city": city}), ("get_forecast", {"city": city, "days": 3})])
        if kind == "tool_bad_json":
            args = f"{{city: '{city}', unit: 'celsius'}}"
        elif kind == "tool_bad_schema":
            name, args = "get_weather", {"location": city}
        elif kind == "trunc_tool":
            req.max_tokens, name, args = 16, "get_forecast", f'{{"city": "{city}", "da'
        r.calls = [(cid, name, args)]
        r.stop = {"stop_with_tools": "stop", "trunc_tool": "length"}.get(kind, TOOL_STOP[api])
        if api == "anthropic" and rng.random() < 0.5:
            r.text = f"Let me check the current conditions in {city}."
        r.out_tokens = req.max_tokens if kind == "trunc_tool" else rng.randint(14, 60)
    elif kind == "empty_after_tool":
        r.out_tokens = rng.choice([2, 3])
    elif kind == "msg_refusal":
        r.refusal = "I can't help with creating shipping labels for someone else's account."
    elif kind == "anth_refusal":
        r.stop = "refusal"
        r.stop_details = {"type": "refusal", "category": "cyber",
                          "explanation": "The request asked for code to take over other customers' sessions."}
        r.out_tokens = 0
    elif kind == "pause_turn":
        r.stop, r.text = "pause_turn", T.CONTEXT_PAUSE
        r.blocks_before = [{"type": "server_tool_use", "id": f"srvtoolu_{rid}", "name": "web_search",
                            "input": {"query": "Brightcart carrier delays this week"}}]
        req.extra = {"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]}
    elif kind == "guardrail":
        r.stop, r.text, r.guardrail = "guardrail_intervened", "Sorry, I can't respond to that request.", "Guardrail blocked."
        r.out_tokens = 0
    elif kind == "resp_content_filter":
        r.stop, r.incomplete = "incomplete", "content_filter"
        r.text = cut_to(rng, T.long_text(rng, route, 200), 90)
    elif kind == "chat_content_filter":
        r.stop, r.out_tokens = "content_filter", 0
    else:
        raise ValueError(kind)

    if not r.out_tokens and kind not in ("anth_refusal", "guardrail", "chat_content_filter"):
        r.out_tokens = tokens(rng, r.text or r.refusal)
    if api == "openai_responses":
        r.max_output = req.max_tokens
    return req, r
