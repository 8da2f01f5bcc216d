"""Which cases go into sample_data/responses.jsonl: (route, kind, api) triples.

A fixed API means the case only exists for that API; ``None`` = pick one at random.
"""

from __future__ import annotations

import random

APIS = ["openai_chat", "openai_responses", "anthropic", "gemini", "bedrock"]
CLEAN_WEIGHTS = [25, 15, 27, 18, 15]

# route -> list of (kind, api or None, count); the remainder of the route is filled with
# the route's normal kind(s).
SPECIAL = {
    "support-chat": [
        ("cut_stop", None, 3), ("cut_fence", "openai_chat", 1),
        ("trunc", "openai_chat", 1), ("trunc", "anthropic", 1), ("trunc", "bedrock", 1),
        ("soft_refusal", None, 6), ("sorry_ok", None, 1),
        ("msg_refusal", "openai_chat", 1), ("anth_refusal", "anthropic", 1),
        ("chat_content_filter", "openai_chat", 1), ("guardrail", "bedrock", 1),
        ("resp_content_filter", "openai_responses", 1), ("gemini_num1", "gemini", 1),
        ("pause_turn", "anthropic", 1),
    ],
    "invoice-extract": [
        ("trunc_json", "openai_chat", 1), ("trunc_json", "gemini", 1), ("invoice_bad", "openai_responses", 1),
    ],
    "weather-agent": [
        ("stop_with_tools", "openai_chat", 2), ("trunc_tool", "openai_chat", 1),
        ("tool_bad_json", "openai_chat", 1), ("tool_bad_schema", "anthropic", 1),
        ("empty_after_tool", "anthropic", 2), ("cut_stop", None, 2), ("soft_refusal", None, 1),
        ("trunc", "openai_responses", 1),
    ],
    "summarize": [
        ("cut_stop", None, 7),
        ("trunc", "gemini", 1), ("trunc", "openai_chat", 1), ("trunc", "bedrock", 1),
        ("trunc", "openai_responses", 1), ("gemini_num2", "gemini", 1),
        ("ctx_exceeded", "anthropic", 1), ("soft_refusal", None, 2),
    ],
}
SIZES = {"support-chat": 70, "invoice-extract": 55, "weather-agent": 60, "summarize": 55}
# normal kinds per route (cycled to fill the remainder)
NORMAL = {
    "support-chat": ["clean"],
    "invoice-extract": ["invoice"],
    "weather-agent": ["tool_call", "answer"],
    "summarize": ["clean"],
}

#: 1-based line numbers (in the written file) of the deliberately bad lines.
BAD_LINES = {38: "malformed_json", 97: "blank_line", 151: "error_body", 212: "embedding"}


def cases(rng: random.Random) -> list[tuple[str, str, str]]:
    """All (route, kind, api) triples, shuffled deterministically."""
    out: list[tuple[str, str, str]] = []
    for route, size in SIZES.items():
        rows = []
        for kind, api, count in SPECIAL[route]:
            for _ in range(count):
                rows.append((route, kind, api or rng.choices(APIS, CLEAN_WEIGHTS)[0]))
        normal = NORMAL[route]
        i = 0
        while len(rows) < size:
            rows.append((route, normal[i % len(normal)], rng.choices(APIS, CLEAN_WEIGHTS)[0]))
            i += 1
        out.extend(rows)
    rng.shuffle(out)
    return out
