"""Batch result files (trace-formats.md §7, §8) with invented content.

openai_batch_output.jsonl: 20 lines (17 chat.completion + 1 Responses body, 1 errored, 1 status 500).
anthropic_batch_results.jsonl: 20 lines (16 succeeded, 2 errored, 1 expired, 1 canceled).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson

import _text as T
from _responses import MODELS, Resp, anthropic, openai_chat, openai_responses

CREATED = 1772600000


def _dump(path: Path, recs: list[dict]) -> int:
    path.write_text("".join(orjson.dumps(r).decode() + "\n" for r in recs), encoding="utf-8")
    return len(recs)


def _tok(rng: random.Random, text: str) -> int:
    return max(1, round(len(text) / 4 * rng.uniform(0.9, 1.1)))


def openai_lines(rng: random.Random) -> list[dict]:
    recs = []
    for n in range(1, 21):
        cid = f"invoice-extract-{n:03d}" if n <= 14 else f"summarize-{n:03d}"
        route = "invoice-extract" if n <= 14 else "summarize"
        head = {"id": f"batch_req_{rng.getrandbits(64):016x}", "custom_id": cid}
        if n == 9:
            recs.append(head | {"response": None, "error": {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion window expired."}})
            continue
        if n == 16:
            body = {"error": {"message": "The server had an error while processing your request.",
                              "type": "server_error", "param": None, "code": None}}
            recs.append(head | {"response": {"status_code": 500, "request_id": f"req_{n:04d}", "body": body},
                                "error": None})
            continue
        r = Resp(rid=f"{rng.getrandbits(48):012x}", model=rng.choice(MODELS["openai_chat"]),
                 created=CREATED + n * 37, stop="stop", text=None, out_tokens=0, in_tokens=rng.randint(120, 900))
        if route == "invoice-extract":
            r.text = json.dumps(T.invoice(rng))
            if n in (4, 11):  # cut JSON at max_tokens
                r.text, r.stop, r.out_tokens = json.dumps(T.invoice(rng), indent=2)[:150], "length", 50
        elif n == 18:
            r.text = T.SOFT_REFUSALS[0]
        elif n == 19:
            r.text = T.cut_mid(rng, T.long_text(rng, route, 300), "of")
        else:
            r.text = T.clean_answer(rng, route)
        r.out_tokens = r.out_tokens or _tok(rng, r.text)
        body = openai_chat(r)
        if n == 20:  # a Responses API body in the same batch
            r.model, r.stop, r.max_output = rng.choice(MODELS["openai_responses"]), "completed", 1024
            body = openai_responses(r)
        recs.append(head | {"response": {"status_code": 200, "request_id": f"req_{n:04d}", "body": body},
                            "error": None})
    return recs


def anthropic_lines(rng: random.Random) -> list[dict]:
    recs = []
    for n in range(1, 21):
        route = "summarize" if n <= 12 else "support-chat"
        cid = f"{route}-{n:03d}"
        if n in (5, 14):
            err = {"type": "error", "error": {"type": "invalid_request_error",
                                              "message": "messages.0.content: text content blocks must be non-empty"}}
            recs.append({"custom_id": cid, "result": {"type": "errored", "error": err}})
            continue
        if n in (9, 17):
            recs.append({"custom_id": cid, "result": {"type": "expired" if n == 9 else "canceled"}})
            continue
        r = Resp(rid=f"{rng.getrandbits(48):012x}", model=rng.choice(MODELS["anthropic"]), created=0,
                 stop="end_turn", text=T.clean_answer(rng, route), out_tokens=0, in_tokens=rng.randint(300, 4000))
        if n in (3, 11):
            r.stop, r.out_tokens = "max_tokens", 256
            base = T.long_text(rng, route, 1200)
            r.text = base[: base.rfind(" ", 0, 1024)].rstrip(" .,")
        elif n == 7:
            r.text = T.cut_mid(rng, T.long_text(rng, route, 400), "the")
        elif n == 15:
            r.text = T.SOFT_REFUSALS[1]
        elif n == 19:
            r.text, r.stop, r.out_tokens = None, "refusal", 0
            r.stop_details = {"type": "refusal", "category": "cyber",
                              "explanation": "The request asked how to bypass another user's login."}
        if r.stop != "refusal":
            r.out_tokens = r.out_tokens or _tok(rng, r.text)
        recs.append({"custom_id": cid, "result": {"type": "succeeded", "message": anthropic(r)}})
    return recs


def write(rng: random.Random, here: Path) -> tuple[int, int]:
    a = _dump(here / "openai_batch_output.jsonl", openai_lines(rng))
    b = _dump(here / "anthropic_batch_results.jsonl", anthropic_lines(rng))
    return a, b
