#!/usr/bin/env python3
"""Self-check of benchmarks/generate.py: generate both formats with the truth label and
verify shape, vocabularies and rates from the written files themselves.

    python benchmarks/check_generated.py [--rows 200000] [--seed 0] [--keep DIR]

Prints what it measured and exits 1 if any check fails. Not part of the test run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fragments as F  # noqa: E402
import generate as G  # noqa: E402

VOCAB = {
    "anthropic": {"end_turn", "max_tokens", "tool_use", "stop_sequence"},
    "openai": {"stop", "length", "tool_calls", "content_filter"},
    "gemini": {"STOP", "MAX_TOKENS", "SAFETY"},
}
LENGTH = {"max_tokens", "length", "MAX_TOKENS"}
CLEAN = {"end_turn", "stop_sequence", "stop", "STOP"}
TERMINAL = (".", "!", "?", "```", ")", "\"", "|")

failures: list[str] = []


def check(cond: bool, what: str) -> None:
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def near(value: float, target: float, rel: float = 0.2) -> bool:
    return abs(value - target) <= rel * target


def _json_ok(s: str) -> bool:
    s = s.strip()
    if s.startswith("```json\n") and s.endswith("\n```"):
        s = s[len("```json\n") : -len("\n```")]
    try:
        orjson.loads(s)
        return True
    except orjson.JSONDecodeError:
        return False


def check_flat(path: Path, n: int) -> None:
    df = pl.read_parquet(path)
    print(f"\n== flat: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    check(df.height == n, f"row count {df.height:,} == {n:,}")
    expected = {
        "trace_id": pl.String,
        "span_id": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "route": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "provider_stop_reason": pl.String,
        "output_text": pl.String,
        "output_tokens": pl.Int64,
        "max_tokens": pl.Int64,
        "expects_json": pl.Boolean,
        "after_tool_result": pl.Boolean,
        "gen_case": pl.String,
    }
    check(dict(df.schema) == expected, f"schema {dict(df.schema)}")
    nulls = {c: k for c, k in df.null_count().row(0, named=True).items() if k}
    check(set(nulls) <= {"max_tokens"}, f"nulls only in max_tokens: {nulls}")
    check(df["span_id"].n_unique() == n, "span_id unique")
    check(df["trace_id"].str.contains(r"^[0-9a-f]{32}$").all(), "trace_id 32 lowercase hex")
    check(df["span_id"].str.contains(r"^[0-9a-f]{16}$").all(), "span_id 16 lowercase hex")
    routes = df.group_by("route").len().sort("len", descending=True)
    check(routes.height == 30, f"30 routes ({routes.height})")
    top, bottom = routes["len"][0] / n, routes["len"][-1] / n
    check(top > 10 * bottom, f"route skew: top {top:.1%} vs smallest {bottom:.2%}")
    check(set(df["provider"].unique()) == set(VOCAB), f"providers {sorted(df['provider'].unique())}")
    for prov, vocab in VOCAB.items():
        seen = set(df.filter(pl.col("provider") == prov)["provider_stop_reason"].unique())
        check(seen <= vocab, f"{prov} stop values {sorted(seen)} within {sorted(vocab)}")
        models = set(df.filter(pl.col("provider") == prov)["model"].unique())
        check(models <= set(G.MODELS[prov]), f"{prov} models consistent")
    t_ok = df.select(
        (pl.col("timestamp").min() >= pl.lit(G.START)) & (pl.col("timestamp").max() < pl.lit(G.START) + pl.duration(days=G.SPAN_DAYS + 1))
    ).item()
    check(t_ok, f"timestamps within {G.SPAN_DAYS} days from {G.START:%Y-%m-%d}")

    rates = dict(df.group_by("gen_case").len().with_columns(pl.col("len") / n).iter_rows())
    print("      cases: " + ", ".join(f"{k} {v:.2%}" for k, v in sorted(rates.items(), key=lambda kv: -kv[1])))
    check(near(rates.get("tool_use", 0), G.RATE_TOOL), f"tool_use {rates.get('tool_use', 0):.2%} ~ {G.RATE_TOOL:.0%}")
    trunc = rates.get("truncated_length", 0) + rates.get("truncated_silent", 0)
    check(near(trunc, G.RATE_TRUNC), f"truncations {trunc:.2%} ~ {G.RATE_TRUNC:.0%}")
    check(near(rates.get("refusal", 0), G.RATE_REFUSAL), f"refusals {rates.get('refusal', 0):.2%} ~ {G.RATE_REFUSAL:.0%}")
    check(near(rates.get("empty", 0), G.RATE_EMPTY), f"empty {rates.get('empty', 0):.2%} ~ {G.RATE_EMPTY:.0%}")
    js = rates.get("json", 0) + rates.get("json_invalid", 0)
    check(0.04 <= js <= 0.06, f"JSON outputs {js:.2%} ~ 5%")
    ej = df["expects_json"].mean()
    check(near(ej, G.RATE_EXPECTS_JSON), f"expects_json {ej:.2%} ~ {G.RATE_EXPECTS_JSON:.1%}")

    # text-level checks, measured from the text itself
    text = pl.col("output_text")
    got = df.select(
        empty=(text.str.strip_chars() == "").mean(),
        refusal=text.is_in(list(F.REFUSALS)).mean(),
    ).row(0, named=True)
    want_empty = rates.get("empty", 0) + rates.get("content_filter", 0)
    check(abs(got["empty"] - want_empty) < 1e-9, f"blank texts {got['empty']:.2%} == empty + content_filter rows")
    check(abs(got["refusal"] - rates.get("refusal", 0)) < 1e-9, f"refusal texts {got['refusal']:.2%} == refusal rows")
    lens = df.select(text.str.len_chars().alias("c")).to_series()
    nz = lens.filter(lens > 0)
    print(f"      chars: min {nz.min()}, p5 {nz.quantile(0.05):.0f}, median {nz.median():.0f}, p95 {nz.quantile(0.95):.0f}, max {nz.max():,}")
    check(nz.quantile(0.05) < 40 and nz.max() > 5000, "lengths span a few tokens to thousands of characters")
    lr = df.group_by("route").agg(text.str.len_chars().median().alias("m")).sort("m")
    check(lr["m"][-1] > 5 * lr["m"][0], f"route medians differ ({lr['m'][0]:.0f} .. {lr['m'][-1]:.0f} chars)")

    by = {c: df.filter(pl.col("gen_case") == c) for c in rates}
    comp = by["complete"]["output_text"]
    ends_terminal = comp.str.strip_chars_end().str.contains(r"(\.|!|\?|```|\)|\"|\||:)$")
    ends_list = comp.str.contains(r"(^|\n)(- |\* |\d\. |> )[^\n]*$")
    check((ends_terminal | ends_list).all(), f"complete prose ends on a closer or a list line ({(~ends_terminal).mean():.1%} end on a list item without a closer)")
    for c in ("truncated_length", "truncated_silent"):
        t = by[c]
        prose = t.filter(~pl.col("expects_json"))["output_text"]
        mid = prose.str.contains(r"[A-Za-z]$")
        cont = prose.str.contains(r"\b(and|the|to|of|with|because)$")
        check(mid.all(), f"{c}: prose ends on a letter ({cont.mean():.0%} on a continuation word)")
        jt = t.filter(pl.col("expects_json"))["output_text"]
        check(not any(_json_ok(s) for s in jt), f"{c}: {len(jt)} truncated JSON texts fail to parse")
        stops = set(t["provider_stop_reason"])
        if c == "truncated_length":
            check(stops <= LENGTH, f"{c}: stop values {sorted(stops)}")
            check((t["output_tokens"] == t["max_tokens"]).all(), f"{c}: output_tokens == max_tokens")
        else:
            check(stops <= CLEAN, f"{c}: stop values {sorted(stops)}")
    jv = by["json"]["output_text"]
    check(all(_json_ok(s) for s in jv), f"json: all {len(jv):,} parse ({jv.str.starts_with('```json').mean():.0%} fenced)")
    check(by["json"]["expects_json"].all(), "json rows expect JSON")
    ji = by["json_invalid"]["output_text"]
    check(not any(_json_ok(s) for s in ji), f"json_invalid: all {len(ji)} fail to parse")
    rest = df.filter(pl.col("gen_case") != "truncated_length", pl.col("max_tokens").is_not_null())
    check((rest["output_tokens"] < rest["max_tokens"]).all(), "output_tokens < max_tokens outside length truncations")
    cpt = df.filter(pl.col("output_tokens") > 20).select((text.str.len_chars() / pl.col("output_tokens")).median()).item()
    check(3.0 < cpt < 5.0, f"chars per output token {cpt:.2f}")
    tool = df.filter(pl.col("gen_case") == "tool_use")
    check(set(tool["provider_stop_reason"]) <= {"tool_use", "tool_calls", "STOP"}, "tool rows carry the tool stop value")
    # the span after a tool call, in the same trace, carries after_tool_result
    nxt = df.select(
        pl.col("after_tool_result"),
        ((pl.col("gen_case").shift(1) == "tool_use") & (pl.col("trace_id").shift(1) == pl.col("trace_id"))).fill_null(False).alias("x"),
    )
    check((nxt["after_tool_result"] == nxt["x"]).all(), f"after_tool_result follows tool calls ({df['after_tool_result'].mean():.2%})")
    emp_after = df.filter(pl.col("after_tool_result"))["gen_case"].eq("empty").mean()
    emp_other = df.filter(~pl.col("after_tool_result"))["gen_case"].eq("empty").mean()
    check(emp_after > 2 * emp_other, f"empty more likely after a tool result ({emp_after:.2%} vs {emp_other:.2%})")
    cf = by.get("content_filter")
    check(cf is not None and set(cf["provider"]) <= {"openai", "gemini"}, "content_filter only for OpenAI/Gemini")


def check_bodies(path: Path, n: int) -> None:
    print(f"\n== bodies: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    lines = path.read_bytes().splitlines()
    check(len(lines) == n, f"line count {len(lines):,} == {n:,}")
    counts = {"anthropic": 0, "openai": 0}
    bad: list[str] = []
    cases: dict[str, int] = {}
    for i, line in enumerate(lines):
        r = orjson.loads(line)
        cases[r["gen_case"]] = cases.get(r["gen_case"], 0) + 1
        if set(r) != {"route", "timestamp", "trace_id", "request", "response", "gen_case"}:
            bad.append(f"{i}: keys {sorted(r)}")
            continue
        resp, req = r["response"], r["request"]
        if resp.get("type") == "message":
            counts["anthropic"] += 1
            ok = (
                resp["stop_reason"] in VOCAB["anthropic"]
                and isinstance(resp["content"], list)
                and all(b["type"] in ("text", "tool_use") for b in resp["content"])
                and isinstance(resp["usage"]["output_tokens"], int)
                and isinstance(req["max_tokens"], int)
                and (resp["stop_reason"] == "tool_use") == any(b["type"] == "tool_use" for b in resp["content"])
            )
        elif resp.get("object") == "chat.completion":
            counts["openai"] += 1
            ch = resp["choices"]
            ok = (
                len(ch) == 1
                and ch[0]["index"] == 0
                and ch[0]["finish_reason"] in VOCAB["openai"]
                and ch[0]["message"]["role"] == "assistant"
                and isinstance(resp["usage"]["completion_tokens"], int)
                and (ch[0]["finish_reason"] == "tool_calls") == ("tool_calls" in ch[0]["message"])
                and ("max_tokens" not in req or isinstance(req["max_tokens"], int))
            )
        else:
            ok = False
        if not ok:
            bad.append(f"{i}: {line[:200]!r}")
    check(not bad, f"every line is a wrapped Anthropic or OpenAI body ({len(bad)} bad) {bad[:3]}")
    share = counts["anthropic"] / max(n, 1)
    check(abs(share - 0.5) < 0.02, f"anthropic/openai split {counts}")
    print("      cases: " + ", ".join(f"{k} {v / n:.2%}" for k, v in sorted(cases.items(), key=lambda kv: -kv[1])))
    check(near((cases.get("truncated_length", 0) + cases.get("truncated_silent", 0)) / n, G.RATE_TRUNC), "truncation rate")
    lf = pl.scan_lines(path).select(pl.len()).collect().item()
    check(lf == n, f"pl.scan_lines counts {lf:,} lines")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        flat, bodies = out / "check_flat.parquet", out / "check_bodies.jsonl"
        for fmt, path in (("flat", flat), ("bodies", bodies)):
            cmd = [sys.executable, str(HERE / "generate.py"), "--rows", str(args.rows), "--format", fmt, "--out", str(path)]
            subprocess.run(cmd + ["--seed", str(args.seed), "--with-truth"], check=True)
        check_flat(flat, args.rows)
        check_bodies(bodies, args.rows)
        # determinism: same seed, same bytes
        again = out / "check_flat_again.parquet"
        cmd = [sys.executable, str(HERE / "generate.py"), "--rows", str(args.rows), "--format", "flat", "--out", str(again)]
        subprocess.run(cmd + ["--seed", str(args.seed), "--with-truth"], check=True)
        check(pl.read_parquet(again).equals(pl.read_parquet(flat)), "same seed gives the same data")
    print(f"\n{'all checks passed' if not failures else f'{len(failures)} check(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
