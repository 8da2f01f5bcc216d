"""Regenerate the synthetic sample data: ``python sample_data/generate.py``.

Deterministic (``random.Random(7)``); stdlib + orjson + polars only. Writes, next to this file:
responses.jsonl, flat.parquet, flat.csv, openai_batch_output.jsonl, anthropic_batch_results.jsonl.
All text and bodies are invented for stoptriage; nothing is copied from real traffic.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import orjson  # noqa: E402

import _batch  # noqa: E402
import _cases  # noqa: E402
import _flat  # noqa: E402
import _requests  # noqa: E402
import _responses  # noqa: E402
from _plan import BAD_LINES, cases  # noqa: E402

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def dumps(obj) -> str:
    return orjson.dumps(obj).decode()


def bad_line(kind: str, ts: str) -> str:
    """The deliberately unreadable lines (fixed content, fixed positions)."""
    if kind == "malformed_json":
        return ('{"route":"support-chat","timestamp":"' + ts + '","trace_id":"tr-bad-malformed","request":'
                '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Where is my order?"}]},'
                '"response":{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"mess')
    if kind == "blank_line":
        return ""
    if kind == "error_body":
        rec = {"route": "summarize", "timestamp": ts, "trace_id": "tr-bad-error-body",
               "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024,
                           "messages": [{"role": "user", "content": "Summarize the attached memo."}]},
               "response": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}
        return dumps(rec)
    # An embeddings response logged by the same proxy: not a model answer, so
    # it is reported as a body of a shape stoptriage does not read.
    rec = {"route": "support-chat", "timestamp": ts, "trace_id": "tr-bad-embedding",
           "request": {"model": "text-embedding-3-small", "input": "Greet a returning customer."},
           "response": {"object": "list", "model": "text-embedding-3-small",
                        "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456, 0.0789]}],
                        "usage": {"prompt_tokens": 5, "total_tokens": 5}}}
    return dumps(rec)


def write_responses(rng: random.Random) -> list[tuple]:
    """Write responses.jsonl; return the manifest [(line, route, kind, api, stop)]."""
    plan = cases(rng)
    lines: list[str] = []
    manifest: list[tuple] = []
    t = START
    for i, (route, kind, api) in enumerate(plan):
        while len(lines) + 1 in BAD_LINES:
            t += dt.timedelta(seconds=rng.randint(20, 600))
            lines.append(bad_line(BAD_LINES[len(lines) + 1], t.strftime("%Y-%m-%dT%H:%M:%SZ")))
            manifest.append((len(lines), "-", BAD_LINES[len(lines)], "-", "-"))
        t += dt.timedelta(seconds=rng.randint(20, 600))
        req, resp = _cases.build(rng, route, kind, api, i, int(t.timestamp()))
        resp.in_tokens = len(dumps(req)) // 4
        rec = {"route": route, "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "trace_id": f"{rng.getrandbits(128):032x}",
               "request": _requests.BUILDERS[api](req), "response": _responses.BUILDERS[api](resp)}
        lines.append(dumps(rec))
        manifest.append((len(lines), route, kind, api, resp.stop))
    (HERE / "responses.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    rng = random.Random(7)
    manifest = write_responses(rng)
    n_flat = _flat.write(rng, HERE)
    n_oa, n_an = _batch.write(rng, HERE)
    print(f"responses.jsonl: {len(manifest)} lines")
    print(f"flat.parquet / flat.csv: {n_flat} rows")
    print(f"openai_batch_output.jsonl: {n_oa} lines; anthropic_batch_results.jsonl: {n_an} lines")
    if "-v" in sys.argv:
        for line, route, kind, api, stop in manifest:
            if kind not in ("clean", "invoice", "tool_call", "answer"):
                print(f"  line {line:>3}  {route:<16} {kind:<20} {api:<17} {stop}")


if __name__ == "__main__":
    main()
