#!/usr/bin/env python3
"""Synthetic OTLP JSON traces (collector ``fileexporter`` style) and the same rows as flat JSONL.

    python benchmarks/gen_otlp.py --mb 1000 --out-otlp benchmarks/out/otlp.jsonl --out-flat benchmarks/out/flat.jsonl

The LLM calls are the canonical rows of ``generate.generate`` (same routes, providers,
stop values, texts and rates as the other benchmark inputs). Each generated trace becomes a
tree of spans:

  ``POST /api/<route>``            SERVER, http.* attributes (the root)
  ``invoke_agent <route>``         INTERNAL, gen_ai.operation.name=invoke_agent, gen_ai.agent.name
                                   (traces with more than one LLM call)
  ``chat <model>``                 CLIENT, one per LLM call: OTel GenAI attributes (trace-formats.md
                                   §1a): gen_ai.operation.name, gen_ai.provider.name, request/response
                                   model, max_tokens, usage, finish_reasons (arrayValue),
                                   gen_ai.output.messages and gen_ai.input.messages (JSON strings)
  ``execute_tool <tool>``          INTERNAL, after each tool-calling LLM call that is not the last
  ``SELECT orders``                CLIENT, db.* attributes, on a third of the traces

Spans of consecutive traces are batched like the collector's batch processor does (200 to
800 spans a line), grouped per service (resourceSpans) and instrumentation scope
(scopeSpans): one ExportTraceServiceRequest per line. intValue is a string (proto3 JSON
int64), as exporters write it. About half of the spans are LLM calls (48%).

The flat file holds the canonical columns of the same rows (first the rows of the OTLP file,
in order, then further rows of the same generator until it reaches the same size), one
JSON object a line, timestamps as ISO 8601 text. Both files stop at the first chunk that
takes them past ``--mb`` megabytes. Per-span dicts are built in Python and serialized with
orjson (a benchmark input writer, not library code).
"""

from __future__ import annotations

import argparse
import gc
import sys
import zlib
from pathlib import Path

import numpy as np
import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fragments as F  # noqa: E402
import generate as G  # noqa: E402

#: Bump when the generated data changes, so cached benchmark inputs are regenerated.
OTLP_GEN_VERSION = 1
CHUNK_ROWS = 100_000

PROVIDER_NAME = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini"}
SCOPE = {
    "openai": "opentelemetry.instrumentation.openai_v2",
    "anthropic": "opentelemetry.instrumentation.anthropic",
    "gemini": "opentelemetry.instrumentation.google_genai",
}
SERVICES = ("support-bot", "agent-runtime", "batch-jobs")
HTTP_SCOPE = "opentelemetry.instrumentation.fastapi"
APP_SCOPE = "app.agents"
DB_SCOPE = "opentelemetry.instrumentation.psycopg"


def _s(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _i(key: str, value: int) -> dict:
    return {"key": key, "value": {"intValue": str(value)}}


def _resource(service: str) -> dict:
    return {
        "attributes": [
            _s("service.name", service),
            _s("service.version", "2.14.0"),
            _s("deployment.environment.name", "production"),
            _s("telemetry.sdk.language", "python"),
            _s("telemetry.sdk.name", "opentelemetry"),
            _s("telemetry.sdk.version", "1.38.0"),
            _s("host.name", "ip-10-0-3-17"),
        ],
        "droppedAttributesCount": 0,
    }


def _span(trace: str, span: str, parent: str, name: str, kind: int, t0: int, t1: int, attrs: list, error: bool = False) -> dict:
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "flags": 257,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(t0),
        "endTimeUnixNano": str(t1),
        "attributes": attrs,
        "droppedAttributesCount": 0,
        "events": [],
        "droppedEventsCount": 0,
        "links": [],
        "droppedLinksCount": 0,
        "status": {"code": 2, "message": "upstream timeout"} if error else {},
    }


def _llm_attrs(r: dict) -> list:
    prov = r["provider"]
    parts: list[dict] = []
    if r["output_text"]:
        parts.append({"type": "text", "content": r["output_text"]})
    if r["_tool"] >= 0:
        parts.append({"type": "tool_call", "id": "call_" + r["span_id"], "name": F.TOOL_NAMES[r["_tool"]], "arguments": {"id": str(r["_arg"])}})
    out = [{"role": "assistant", "parts": parts, "finish_reason": r["provider_stop_reason"]}]
    inp = [{"role": "user", "parts": [{"type": "text", "content": F.PROMPTS[r["_prompt"]]}]}]
    if r["after_tool_result"]:
        inp.append({"role": "assistant", "parts": [{"type": "tool_call", "id": "call_" + r["span_id"][::-1], "name": "lookup_order", "arguments": {"id": str(r["_arg"])}}]})
        inp.append({"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_" + r["span_id"][::-1], "response": '{"status": "shipped"}'}]})
    attrs = [
        _s("gen_ai.operation.name", "chat"),
        _s("gen_ai.provider.name", PROVIDER_NAME[prov]),
        _s("gen_ai.request.model", r["model"]),
        _s("gen_ai.response.model", r["model"]),
        _s("gen_ai.response.id", "resp_" + r["span_id"]),
        {"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": r["provider_stop_reason"]}]}}},
        _i("gen_ai.usage.input_tokens", r["_in_tok"]),
        _i("gen_ai.usage.output_tokens", r["output_tokens"]),
        _s("server.address", {"openai": "api.openai.com", "anthropic": "api.anthropic.com", "gemini": "generativelanguage.googleapis.com"}[prov]),
        _i("server.port", 443),
        _s("gen_ai.input.messages", orjson.dumps(inp).decode()),
        _s("gen_ai.output.messages", orjson.dumps(out).decode()),
    ]
    if r["max_tokens"] is not None:
        attrs.append(_i("gen_ai.request.max_tokens", r["max_tokens"]))
    if r["expects_json"]:
        attrs.append(_s("gen_ai.output.type", "json"))
    return attrs


def trace_spans(rows: list[dict], rng: np.random.Generator) -> list[tuple[str, str, dict]]:
    """(service, scope, span) for one trace given its LLM rows (in order)."""
    first = rows[0]
    trace, route = first["trace_id"], first["route"]
    service = SERVICES[zlib.crc32(route.encode()) % len(SERVICES)]
    t0 = first["_t_ns"]
    ids = iter(rng.integers(0, 2**63, size=4 + 2 * len(rows)).tolist())
    sid = lambda: format(next(ids), "016x")  # noqa: E731
    root = sid()
    out = []
    t = t0 + 2_000_000
    parent = root
    if len(rows) > 1:
        parent = sid()
        attrs = [_s("gen_ai.operation.name", "invoke_agent"), _s("gen_ai.agent.name", route), _s("gen_ai.provider.name", PROVIDER_NAME[first["provider"]])]
        agent = _span(trace, parent, root, "invoke_agent " + route, 1, t0 + 1_000_000, 0, attrs)
        out.append((service, APP_SCOPE, agent))
    for k, r in enumerate(rows):
        dur = int(rng.integers(300, 20_000)) * 1_000_000
        out.append((service, SCOPE[r["provider"]], _span(trace, r["span_id"], parent, "chat " + r["model"], 3, t, t + dur, _llm_attrs(r))))
        t += dur + 1_000_000
        if r["_tool"] >= 0 and k < len(rows) - 1:
            tool = F.TOOL_NAMES[r["_tool"]]
            attrs = [_s("gen_ai.operation.name", "execute_tool"), _s("gen_ai.tool.name", tool), _s("gen_ai.tool.call.id", "call_" + r["span_id"])]
            out.append((service, APP_SCOPE, _span(trace, sid(), parent, "execute_tool " + tool, 1, t, t + 40_000_000, attrs)))
            t += 41_000_000
    if rng.random() < 0.33:
        attrs = [_s("db.system.name", "postgresql"), _s("db.namespace", "orders"), _s("db.query.text", "SELECT id, status FROM orders WHERE id = $1"), _s("server.address", "db.internal")]
        out.append((service, DB_SCOPE, _span(trace, sid(), root, "SELECT orders", 3, t, t + 3_000_000, attrs)))
        t += 4_000_000
    if len(rows) > 1:
        out[0][2]["endTimeUnixNano"] = str(t)
    http = [_s("http.request.method", "POST"), _s("http.route", "/api/" + route), _s("url.path", "/api/" + route), _s("url.scheme", "https"), _i("http.response.status_code", 200)]
    out.insert(0, (service, HTTP_SCOPE, _span(trace, root, "", "POST /api/" + route, 2, t0, t + 1_000_000, http)))
    return out


def _request(batch: list[tuple[str, str, dict]]) -> dict:
    """One ExportTraceServiceRequest: spans grouped per service, then per scope."""
    by_service: dict[str, dict[str, list]] = {}
    for service, scope, span in batch:
        by_service.setdefault(service, {}).setdefault(scope, []).append(span)
    return {
        "resourceSpans": [
            {
                "resource": _resource(service),
                "scopeSpans": [{"scope": {"name": scope, "version": "0.52b0"}, "spans": spans} for scope, spans in scopes.items()],
                "schemaUrl": "https://opentelemetry.io/schemas/1.37.0",
            }
            for service, scopes in by_service.items()
        ]
    }


FLAT_COLUMNS = G.FLAT_COLUMNS


def _chunk_rows(seed: int, index: int) -> pl.DataFrame:
    """Chunk ``index`` of canonical rows (its own seed, so chunks are independent)."""
    df = G.generate(CHUNK_ROWS, seed=seed * 1000 + index)
    return df.with_columns(pl.col("timestamp").dt.epoch("ns").alias("_t_ns"))


def write(mb: float, out_otlp: Path, out_flat: Path, seed: int = 0) -> dict:
    """Write both files; return counts (llm rows, spans, lines, flat rows, sizes)."""
    target = int(mb * 1_000_000)
    rng = np.random.default_rng(seed)
    stats = {"llm_spans": 0, "spans": 0, "otlp_lines": 0, "flat_rows": 0}
    flat_bytes = 0
    dumps, nl = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    gc_was = gc.isenabled()
    gc.disable()  # per-span dicts hold no cycles; avoid full collector passes
    try:
        with open(out_otlp, "wb") as fo, open(out_flat, "wb") as ff:
            index = 0
            while fo.tell() < target or flat_bytes < target:
                df = _chunk_rows(seed, index)
                index += 1
                if flat_bytes < target:
                    flat = df.select(FLAT_COLUMNS).with_columns(pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"))
                    buf = flat.write_ndjson().encode()
                    ff.write(buf)
                    flat_bytes += len(buf)
                    stats["flat_rows"] += flat.height
                if fo.tell() >= target:
                    continue
                rows = df.select("trace_id", "span_id", "route", "provider", "model", "provider_stop_reason", "output_text", "output_tokens", "max_tokens", "expects_json", "after_tool_result", "_tool", "_arg", "_prompt", "_in_tok", "_t_ns").to_dicts()
                batch: list = []
                size = int(rng.integers(200, 800))
                start = 0
                for i in range(1, len(rows) + 1):
                    if i == len(rows) or rows[i]["trace_id"] != rows[start]["trace_id"]:
                        spans = trace_spans(rows[start:i], rng)
                        stats["llm_spans"] += i - start
                        stats["spans"] += len(spans)
                        batch.extend(spans)
                        start = i
                        if len(batch) >= size or i == len(rows):
                            fo.write(dumps(_request(batch), option=nl))
                            stats["otlp_lines"] += 1
                            batch = []
                            size = int(rng.integers(200, 800))
                print(f"  chunk {index}: otlp {fo.tell() / 1e6:,.0f} MB, flat {flat_bytes / 1e6:,.0f} MB", file=sys.stderr, flush=True)
            stats["otlp_bytes"] = fo.tell()
    finally:
        if gc_was:
            gc.enable()
    stats["flat_bytes"] = flat_bytes
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1000.0, help="target size of each file in MB (default 1000)")
    ap.add_argument("--out-otlp", type=Path, required=True)
    ap.add_argument("--out-flat", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out_otlp.parent.mkdir(parents=True, exist_ok=True)
    args.out_flat.parent.mkdir(parents=True, exist_ok=True)
    stats = write(args.mb, args.out_otlp, args.out_flat, args.seed)
    print(orjson.dumps(stats).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
