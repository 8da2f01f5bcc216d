"""sample_data/flat.parquet + flat.csv: a flat export with canonical column names (invented rows)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import polars as pl

import _text as T
from _responses import MODELS

PROVIDERS = {  # provider -> (api key for MODELS, clean, length, tool)
    "openai": ("openai_chat", "stop", "length", "tool_calls"),
    "anthropic": ("anthropic", "end_turn", "max_tokens", "tool_use"),
    "gemini": ("gemini", "STOP", "MAX_TOKENS", "STOP"),
    "bedrock": ("bedrock", "end_turn", "max_tokens", "tool_use"),
}
ROUTE_ROWS = {
    "support-chat": [("cut_stop", 2), ("trunc", 2), ("soft_refusal", 2), ("sorry_ok", 1), ("clean", 23)],
    "invoice-extract": [("trunc_json", 2), ("invoice_bad", 1), ("invoice", 27)],
    "weather-agent": [("tool", 10), ("answer", 14), ("cut_stop", 2), ("trunc", 1), ("soft_refusal", 1),
                      ("empty", 2)],
    "summarize": [("cut_stop", 3), ("trunc", 3), ("soft_refusal", 1), ("clean", 23)],
}


def row(rng: random.Random, route: str, kind: str, k: int) -> dict:
    provider = rng.choice(list(PROVIDERS))
    api, clean, length, tool = PROVIDERS[provider]
    city = rng.choice(T.CITIES)
    max_tokens = rng.choice([512, 1024, 2048])
    stop, text, out = clean, None, None
    if kind == "clean":
        text = T.clean_answer(rng, route)
    elif kind == "answer":
        text = T.weather_answer(rng, city)
    elif kind == "soft_refusal":
        text = T.SOFT_REFUSALS[k % len(T.SOFT_REFUSALS)]
    elif kind == "sorry_ok":
        text = T.NOT_REFUSAL
    elif kind == "invoice":
        text = json.dumps(T.invoice(rng))
        text = f"```json\n{text}\n```" if rng.random() < 0.2 else text
    elif kind == "invoice_bad":
        inv = T.invoice(rng)
        text = f"{{'invoice_number': '{inv['invoice_number']}', 'total': {inv['total']}}}"
    elif kind == "trunc_json":
        max_tokens = 48
        text, stop, out = json.dumps(T.invoice(rng), indent=2)[:140], length, 48
    elif kind == "trunc":
        max_tokens = rng.choice([64, 128, 256])
        base = T.long_text(rng, route, max_tokens * 4 + 100)
        text = base[: base.rfind(" ", 0, max_tokens * 4)].rstrip(" .,")
        stop, out = length, max_tokens
    elif kind == "cut_stop":
        mode = ["and", "the", "of", "word"][k % 4]
        src = T.weather_answer(rng, city) + " " + T.weather_line(rng, city) if route == "weather-agent" \
            else T.long_text(rng, route, rng.randint(150, 600))
        text = T.cut_mid(rng, src, mode)
    elif kind == "tool":
        stop, text, out = tool, "", rng.randint(15, 50)
    elif kind == "empty":
        provider, api, stop, text, out = "anthropic", "anthropic", "end_turn", "", rng.choice([2, 3])
    if out is None:
        out = max(1, round(len(text) / 4 * rng.uniform(0.9, 1.1)))
    return {"provider": provider, "model": rng.choice(MODELS[api]), "provider_stop_reason": stop,
            "output_text": text, "output_tokens": out, "max_tokens": max_tokens, "route": route}


def build(rng: random.Random) -> pl.DataFrame:
    rows = []
    for route, spec in ROUTE_ROWS.items():
        k = 0
        for kind, count in spec:
            for _ in range(count):
                rows.append(row(rng, route, kind, k))
                k += 1
    rng.shuffle(rows)
    t = dt.datetime(2026, 3, 3, 7, 30, tzinfo=dt.timezone.utc)
    for i, r in enumerate(rows):
        t += dt.timedelta(seconds=rng.randint(30, 900))
        r["timestamp"] = t
        r["trace_id"] = f"{rng.getrandbits(128):032x}"
        r["span_id"] = f"{rng.getrandbits(64):016x}"
        r["prompt_version"] = "v1" if i < len(rows) // 2 else "v2"
    cols = ["trace_id", "span_id", "timestamp", "route", "provider", "model", "provider_stop_reason",
            "output_text", "output_tokens", "max_tokens", "prompt_version"]
    schema = {c: pl.String for c in cols} | {"timestamp": pl.Datetime("us", "UTC"),
                                               "output_tokens": pl.Int64, "max_tokens": pl.Int64}
    return pl.DataFrame([{c: r[c] for c in cols} for r in rows], schema=schema)


def write(rng: random.Random, here: Path) -> int:
    df = build(rng)
    df.write_parquet(here / "flat.parquet")
    df.write_csv(here / "flat.csv")
    return df.height
