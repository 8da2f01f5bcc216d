#!/usr/bin/env python3
"""Synthetic LLM-response data for stoptriage benchmarks.

    python benchmarks/generate.py --rows 1000000 --format flat   --out benchmarks/out/flat.parquet
    python benchmarks/generate.py --rows 1000000 --format bodies --out benchmarks/out/bodies.jsonl

``flat``   Parquet with the canonical columns (trace_id, span_id, timestamp, route, provider,
           model, provider_stop_reason, output_text, output_tokens, max_tokens, expects_json,
           after_tool_result).
``bodies`` JSONL, one wrapped raw exchange per line:
           ``{"route", "timestamp", "trace_id", "request": {...}, "response": {...}}`` with the
           response in Anthropic Messages or OpenAI Chat Completions shape, 50/50.

Everything per row is vectorized (numpy + Polars); only the JSONL writer builds one dict
per row (orjson). Same ``--seed`` and ``--rows`` give the same data.

Rates (of all rows, approximate; ``--stats`` prints the realized ones):
  tool calls 8% (tool_use / tool_calls / Gemini STOP; the next span of the trace then has
  after_tool_result=True), truncations 3% (half under the length reason with
  output_tokens == max_tokens, half under a clean stop reason: cut mid-word, after a
  continuation word such as "and"/"the", or mid-JSON), soft refusals 2%, empty outputs 1%
  (4x likelier right after a tool result), provider content filter 0.3% (OpenAI / Gemini,
  empty text), expects_json 5.5% (those rows answer with JSON unless another case applies;
  ~10% of them inside a ```json fence, ~3% with a trailing comma), one-word/label answers on
  the label-like routes, the rest complete multi-sentence answers with markdown lists,
  headings and short code fences. Output lengths are log-normal per route.

``--with-truth`` adds the generator's own label (column ``gen_case`` / key ``gen_case``):
complete, short, json, json_invalid, tool_use, empty, refusal, truncated_length,
truncated_silent, content_filter. Off by default so the benchmark input carries only the
canonical columns.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fragments as F  # noqa: E402

#: Bump when the generated data changes, so cached benchmark inputs are regenerated.
GEN_VERSION = 1

# ---- target rates (fractions of all rows) ----------------------------------------------
RATE_TOOL = 0.08
RATE_TRUNC = 0.03
RATE_REFUSAL = 0.02
RATE_EMPTY = 0.01
RATE_FILTER = 0.003
RATE_EXPECTS_JSON = 0.055
TRUNC_LENGTH_SHARE = 0.5  # share of truncations that carry the provider's length reason
TRUNC_MIDWORD_SHARE = 0.6  # prose truncations cut mid-word; the rest end on a continuation word
JSON_FENCE_SHARE = 0.10
JSON_INVALID_SHARE = 0.03
EMPTY_AFTER_TOOL_WEIGHT = 4.0
OPENAI_NO_MAX_TOKENS = 0.10  # OpenAI requests that set no max_tokens (null)

CASES = (
    "complete",
    "short",
    "json",
    "json_invalid",
    "tool_use",
    "empty",
    "refusal",
    "truncated_length",
    "truncated_silent",
    "content_filter",
)
C = {name: i for i, name in enumerate(CASES)}

# route, median units (fragments) per answer, JSON weight, tool weight, short-answer rate.
# Listed in popularity order: the Zipf skew puts ~25% of rows on the first route.
ROUTES: tuple[tuple[str, float, float, float, float], ...] = (
    ("support-chat", 4, 0.0, 1.0, 0.02),
    ("search-answer", 5, 0.0, 0.5, 0.02),
    ("summarize-doc", 7, 0.0, 0.0, 0.0),
    ("agent-executor", 3, 0.0, 2.5, 0.02),
    ("extract-invoice", 3, 1.0, 0.0, 0.0),
    ("classify-ticket", 1, 0.5, 0.0, 0.85),
    ("code-review", 9, 0.0, 0.0, 0.0),
    ("email-draft", 5, 0.0, 0.0, 0.0),
    ("faq-bot", 3, 0.0, 0.3, 0.05),
    ("agent-planner", 6, 0.1, 2.0, 0.0),
    ("sql-assistant", 4, 0.2, 1.0, 0.0),
    ("translate", 3, 0.0, 0.0, 0.05),
    ("product-qa", 3, 0.0, 0.5, 0.05),
    ("json-extract", 3, 1.0, 0.0, 0.0),
    ("meeting-notes", 8, 0.0, 0.0, 0.0),
    ("sentiment", 1, 0.5, 0.0, 0.9),
    ("title-generator", 1, 0.0, 0.0, 0.95),
    ("kb-rewrite", 8, 0.0, 0.0, 0.0),
    ("bug-triage", 4, 0.3, 0.5, 0.1),
    ("release-notes", 7, 0.0, 0.0, 0.0),
    ("tag-suggest", 2, 1.0, 0.0, 0.0),
    ("contract-review", 12, 0.0, 0.0, 0.0),
    ("travel-agent", 4, 0.0, 2.0, 0.0),
    ("tutor-math", 6, 0.0, 0.0, 0.02),
    ("legal-intake", 4, 0.0, 0.3, 0.0),
    ("hr-policy", 4, 0.0, 0.3, 0.02),
    ("sales-outreach", 5, 0.0, 0.0, 0.0),
    ("data-cleaner", 3, 1.0, 0.0, 0.0),
    ("recipe-helper", 6, 0.0, 0.0, 0.0),
    ("onboarding-guide", 7, 0.0, 0.2, 0.0),
)
ZIPF_S = 1.0
UNITS_SIGMA = 0.9
MAX_UNITS = 400

MODELS = {
    "anthropic": ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"),
    "openai": ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro"),
}
#: Stop value per provider and outcome (clean, length, tool, filter). Anthropic's clean
#: outcome is end_turn, or stop_sequence for a few rows.
STOP = {
    "anthropic": ("end_turn", "max_tokens", "tool_use", "end_turn"),
    "openai": ("stop", "length", "tool_calls", "content_filter"),
    "gemini": ("STOP", "MAX_TOKENS", "STOP", "SAFETY"),
}
ANTHROPIC_STOP_SEQUENCE_SHARE = 0.04
PROVIDER_MIX_FLAT = {"anthropic": 0.45, "openai": 0.40, "gemini": 0.15}
PROVIDER_MIX_BODIES = {"anthropic": 0.5, "openai": 0.5}

LENGTH_CAPS = np.array([64, 128, 256, 512, 1024, 2048])
LENGTH_CAP_P = np.array([0.1, 0.15, 0.25, 0.25, 0.15, 0.10])
JSON_LENGTH_CAPS = np.array([256, 512, 1024])
CHARS_PER_TOKEN = 4.0
START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
SPAN_DAYS = 14


# ---- small vectorized helpers -------------------------------------------------------------
def _offsets(counts: np.ndarray) -> np.ndarray:
    off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def ragged_join(pieces: pl.Series, counts: np.ndarray, sep: str = "") -> pl.Series:
    """Join consecutive runs of ``pieces`` (run lengths ``counts``) into one string each."""
    values = pieces.rechunk().to_arrow()
    arr = pa.LargeListArray.from_arrays(pa.array(_offsets(counts)), values)
    return pl.Series(arr).list.join(sep)


def fixed_hex(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    """n random lowercase hex strings of ``width`` characters, built without a Python loop."""
    digits = rng.integers(0, 16, size=n * width, dtype=np.uint8)
    data = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[digits]
    off = np.arange(0, n * width + 1, width, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(off), pa.py_buffer(data)])
    return pl.Series(arr)


def pick(pool: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(list(pool), dtype=pl.String).gather(idx)


def numbers(rng: np.random.Generator, n: int, dec: np.ndarray | None = None) -> pl.Series:
    """Random number strings of varied size; where ``dec`` (default: 40% at random), a price
    with two decimals."""
    mag = np.exp(rng.uniform(0, np.log(200_000), n)).astype(np.int64)
    cents = rng.integers(0, 100, n)
    if dec is None:
        dec = rng.random(n) < 0.4
    df = pl.DataFrame({"m": mag, "c": cents, "d": dec})
    return df.select(
        pl.when(pl.col("d"))
        .then(pl.format("{}.{}", pl.col("m") // 10, pl.col("c").cast(pl.String).str.zfill(2)))
        .otherwise(pl.col("m").cast(pl.String))
    ).to_series()


def choice_idx(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, k, n)


# ---- prose answers ---------------------------------------------------------------------
def _unit_pool() -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    """All body fragments as one pool: text, numeric suffix, is-numeric, sampling p, end p."""
    texts: list[str] = []
    suffix: list[str] = []
    weights: list[float] = []
    end_w: list[float] = []
    groups = (
        (F.PROSE, 0.66, 0.80),
        (F.PARAGRAPH_ENDS, 0.04, 0.0),
        (F.LIST_LINES, 0.12, 0.12),
        (F.HEADINGS, 0.03, 0.0),
        (F.CODE, 0.05, 0.08),
    )
    for pool, w, ew in groups:
        for s in pool:
            texts.append(s)
            suffix.append("")
            weights.append(w / len(pool))
            end_w.append(ew / len(pool))
    for pre, suf in F.NUMERIC:
        texts.append(pre)
        suffix.append(suf)
        weights.append(0.10 / len(F.NUMERIC))
        end_w.append(0.0)
    is_num = np.array([s != "" for s in suffix])
    p = np.array(weights)
    e = np.array(end_w)
    return texts, suffix, is_num, p / p.sum(), e / e.sum()


UNIT_TEXT, UNIT_SUFFIX, UNIT_IS_NUM, UNIT_P, UNIT_END_P = _unit_pool()
#: numeric units whose number is an amount of money (written with two decimals)
UNIT_MONEY = np.array([t.endswith(("$", "EUR ")) for t in UNIT_TEXT])
_unit_len = np.array([len(t) + len(s) for t, s in zip(UNIT_TEXT, UNIT_SUFFIX)]) + UNIT_IS_NUM * 4
AVG_UNIT_CHARS = float((_unit_len * UNIT_P).sum())


def prose(rng: np.random.Generator, units: np.ndarray) -> pl.Series:
    """One answer per entry of ``units`` (number of fragments), stripped of outer whitespace."""
    m = int(units.sum())
    uidx = rng.choice(len(UNIT_TEXT), size=m, p=UNIT_P)
    ends = _offsets(units)[1:] - 1
    uidx[ends] = rng.choice(len(UNIT_TEXT), size=len(ends), p=UNIT_END_P)
    is_num = UNIT_IS_NUM[uidx]
    k = int(is_num.sum())
    frag = pl.Series(UNIT_TEXT, dtype=pl.String).gather(uidx)
    nums = numbers(rng, k, UNIT_MONEY[uidx[is_num]])
    suff = pl.Series(UNIT_SUFFIX, dtype=pl.String).gather(uidx[is_num])
    width = 1 + 2 * is_num.astype(np.int64)
    start = np.cumsum(width) - width
    order = np.empty(m + 2 * k, dtype=np.int64)
    order[start] = np.arange(m)
    order[start[is_num] + 1] = m + np.arange(k)
    order[start[is_num] + 2] = m + k + np.arange(k)
    pieces = pl.concat([frag, nums, suff]).gather(order)
    row_pieces = np.add.reduceat(width, _offsets(units)[:-1])
    return ragged_join(pieces, row_pieces).str.strip_chars()


# ---- JSON answers ----------------------------------------------------------------------
def json_answers(rng: np.random.Generator, n: int, min_chars: np.ndarray) -> pl.Series:
    """n compact JSON objects from four templates; each at least ``min_chars`` long (roughly)."""
    tmpl = rng.choice(4, size=n, p=[0.4, 0.2, 0.15, 0.25])
    long_ = min_chars > 0
    tmpl[long_ & ((tmpl == 1) | (tmpl == 2))] = 0
    item_chars = np.array([95.0, 22.0, 9.0, 58.0])
    items = np.clip(np.round(np.exp(rng.normal(np.log(3), 0.8, n))), 1, 200).astype(np.int64)
    need = np.ceil(min_chars / item_chars[tmpl]).astype(np.int64) + 1
    items = np.where(long_, np.maximum(items, need), items)
    items[tmpl == 1] = np.minimum(items[tmpl == 1], 3)
    out = pl.Series([""] * n, dtype=pl.String)
    for t in range(4):
        rows = np.flatnonzero(tmpl == t)
        if len(rows) == 0:
            continue
        cnt = items[rows]
        m = int(cnt.sum())
        if t == 0:
            it = pl.DataFrame(
                {
                    "sku": rng.integers(10000, 99999, m),
                    "desc": pick(F.ITEM_DESC, choice_idx(rng, m, len(F.ITEM_DESC))),
                    "qty": rng.integers(1, 20, m),
                    "price": numbers(rng, m),
                }
            ).select(
                pl.format(
                    '{{"sku": "SKU-{}", "description": "{}", "qty": {}, "unit_price": {}}}',
                    "sku",
                    "desc",
                    "qty",
                    "price",
                )
            ).to_series()
            body = ragged_join(it, cnt, ", ")
            head = pl.DataFrame(
                {
                    "inv": rng.integers(100000, 999999, len(rows)),
                    "vendor": pick(F.VENDORS, choice_idx(rng, len(rows), len(F.VENDORS))),
                    "total": numbers(rng, len(rows)),
                    "body": body,
                }
            )
            s = head.select(
                pl.format(
                    '{{"invoice_id": "INV-{}", "vendor": "{}", "currency": "USD", "total": {}, "line_items": [{}]}}',
                    "inv",
                    "vendor",
                    "total",
                    "body",
                )
            ).to_series()
        elif t == 1:
            it = pl.format('"{}"', pl.lit(pick(F.REASONS, choice_idx(rng, m, len(F.REASONS)))))
            reasons = ragged_join(pl.select(it).to_series(), cnt, ", ")
            s = pl.DataFrame(
                {
                    "label": pick(F.LABELS, choice_idx(rng, len(rows), len(F.LABELS))),
                    "conf": rng.integers(50, 100, len(rows)),
                    "reasons": reasons,
                }
            ).select(pl.format('{{"label": "{}", "confidence": 0.{}, "reasons": [{}]}}', "label", "conf", "reasons")).to_series()
        elif t == 2:
            it = pl.select(pl.format('"{}"', pl.lit(pick(F.TAGS, choice_idx(rng, m, len(F.TAGS)))))).to_series()
            s = pl.DataFrame({"tags": ragged_join(it, cnt, ", ")}).select(pl.format('{{"tags": [{}]}}', "tags")).to_series()
        else:
            start = rng.integers(0, 5000, m)
            it = pl.DataFrame(
                {
                    "type": pick(F.ENTITY_TYPES, choice_idx(rng, m, len(F.ENTITY_TYPES))),
                    "text": pick(F.ENTITY_TEXT, choice_idx(rng, m, len(F.ENTITY_TEXT))),
                    "start": start,
                    "end": start + rng.integers(3, 20, m),
                }
            ).select(pl.format('{{"type": "{}", "text": "{}", "start": {}, "end": {}}}', "type", "text", "start", "end")).to_series()
            s = pl.DataFrame({"e": ragged_join(it, cnt, ", ")}).select(pl.format('{{"entities": [{}]}}', "e")).to_series()
        out = out.scatter(rows, s)
    return out


# ---- truncation ------------------------------------------------------------------------
_NOT_LETTER = " \t\n.,;:!?`*-#()[]{}<>|/\\\"'0123456789$%&+=_~>"


def cut_prose(rng: np.random.Generator, text: pl.Series, at: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Cut each text near character ``at``: mid-word, or right after a continuation word.

    Returns the cut texts and the style used (0 = mid-word, 1 = continuation word).
    """
    n = len(text)
    style = (rng.random(n) >= TRUNC_MIDWORD_SHARE).astype(np.int8)
    word = pick(F.CUT_WORDS, choice_idx(rng, n, len(F.CUT_WORDS)))
    df = pl.DataFrame({"t": text, "at": at.astype(np.int64), "style": style, "w": word})
    head = pl.col("t").str.slice(0, pl.col("at")).str.strip_chars_end(_NOT_LETTER)
    # continuation: drop the partial last word, then append the continuation word
    cont = pl.concat_str(
        pl.col("head").str.replace(r"[A-Za-z\u00C0-\u024F']+$", "").str.strip_chars_end(_NOT_LETTER),
        pl.lit(" "),
        pl.col("w"),
    )
    res = (
        df.with_columns(head=head)
        # mid-word: drop the last letter, so the text ends inside a word
        .with_columns(mid=pl.col("head").str.slice(0, pl.max_horizontal(pl.col("head").str.len_chars() - 1, 1)))
        # a one-letter last word would end on a space: use a continuation cut instead
        .with_columns(use_mid=(pl.col("style") == 0) & pl.col("mid").str.contains(r"[A-Za-z]$"))
        .select(
            pl.when(pl.col("use_mid")).then(pl.col("mid")).otherwise(cont).str.strip_chars_start().alias("out"),
            "use_mid",
        )
    )
    out = res.get_column("out")
    style = np.where(res.get_column("use_mid").to_numpy(), 0, 1).astype(np.int8)
    return out, style


def cut_at(text: pl.Series, at: np.ndarray) -> pl.Series:
    return pl.DataFrame({"t": text, "at": at.astype(np.int64)}).select(pl.col("t").str.slice(0, pl.col("at"))).to_series()


# ---- the row generator -----------------------------------------------------------------
def generate(n: int, seed: int = 0, provider_mix: dict[str, float] | None = None) -> pl.DataFrame:
    """All rows, canonical columns plus internal ``_``-prefixed ones used by the writers."""
    rng = np.random.default_rng(seed)
    mix = provider_mix or PROVIDER_MIX_FLAT
    providers = list(mix)
    prov_p = np.array([mix[p] for p in providers], dtype=float)
    prov_p /= prov_p.sum()

    route_names = [r[0] for r in ROUTES]
    r_units = np.array([r[1] for r in ROUTES], dtype=float)
    r_json = np.array([r[2] for r in ROUTES])
    r_tool = np.array([r[3] for r in ROUTES])
    r_short = np.array([r[4] for r in ROUTES])
    rp = 1.0 / np.arange(1, len(ROUTES) + 1) ** ZIPF_S
    rp /= rp.sum()

    # traces: a route, a provider and a model per trace; 1 + Poisson spans, longer on agent routes
    tr_route = rng.choice(len(ROUTES), size=n, p=rp)
    tr_len = 1 + rng.poisson(0.3 + 0.8 * r_tool[tr_route])
    cum = np.cumsum(tr_len)
    n_tr = int(np.searchsorted(cum, n)) + 1
    tr_len = tr_len[:n_tr].copy()
    tr_len[-1] -= int(cum[n_tr - 1]) - n
    tr_start = _offsets(tr_len)[:-1]
    trace = np.repeat(np.arange(n_tr), tr_len)
    pos = np.arange(n) - tr_start[trace]
    is_last = pos == (tr_len[trace] - 1)
    route = tr_route[:n_tr][trace]
    tr_prov = rng.choice(len(providers), size=n_tr, p=prov_p)
    prov = tr_prov[trace]
    model_names: list[str] = []
    model_base = []
    for p in providers:
        model_base.append(len(model_names))
        model_names.extend(MODELS[p])
    n_models = np.array([len(MODELS[p]) for p in providers])
    tr_model = np.array(model_base)[tr_prov] + (rng.random(n_tr) * n_models[tr_prov]).astype(np.int64)
    model = tr_model[trace]

    span_us = SPAN_DAYS * 86_400 * 1_000_000
    tr_ts = np.sort(rng.integers(0, span_us, n_tr))
    ts_us = tr_ts[trace] + pos * 3_000_000 + rng.integers(0, 2_000_000, n)

    # cases ------------------------------------------------------------------------------
    tool_w = r_tool[route] * ~is_last
    is_tool = rng.random(n) < np.clip(RATE_TOOL * n * tool_w / max(tool_w.sum(), 1e-9), 0, 0.9)
    after_tool = np.zeros(n, dtype=bool)
    after_tool[1:] = is_tool[:-1] & (trace[1:] == trace[:-1])

    non_tool = ~is_tool
    m = max(int(non_tool.sum()), 1)
    w_empty = np.where(after_tool, EMPTY_AFTER_TOOL_WEIGHT, 1.0) * non_tool
    p_empty = RATE_EMPTY * n * w_empty / max(w_empty.sum(), 1e-9)
    p_ref = RATE_REFUSAL * n / m * non_tool
    p_trunc = RATE_TRUNC * n / m * non_tool
    can_filter = non_tool & (np.array([p != "anthropic" for p in providers])[prov])
    p_filter = RATE_FILTER * n / max(int(can_filter.sum()), 1) * can_filter
    u = rng.random(n)
    case = np.full(n, C["complete"], dtype=np.int8)
    t1 = p_empty
    t2 = t1 + p_ref
    t3 = t2 + p_trunc
    t4 = t3 + p_filter
    case[u < t4] = C["content_filter"]
    case[u < t3] = C["truncated_silent"]
    case[u < t2] = C["refusal"]
    case[u < t1] = C["empty"]
    case[is_tool] = C["tool_use"]
    trunc = case == C["truncated_silent"]
    case[trunc & (rng.random(n) < TRUNC_LENGTH_SHARE)] = C["truncated_length"]
    short = (case == C["complete"]) & (rng.random(n) < r_short[route])
    case[short] = C["short"]

    jw = r_json[route] * non_tool
    expects_json = rng.random(n) < np.clip(RATE_EXPECTS_JSON * n * jw / max(jw.sum(), 1e-9), 0, 0.97)
    as_json = expects_json & np.isin(case, [C["complete"], C["short"]])
    case[as_json] = C["json"]
    case[as_json & (rng.random(n) < JSON_INVALID_SHARE)] = C["json_invalid"]
    trunc_len = case == C["truncated_length"]
    trunc_any = trunc_len | (case == C["truncated_silent"])
    json_trunc = trunc_any & expects_json

    # length caps for rows stopped by the provider's token limit
    cap = np.zeros(n, dtype=np.int64)
    cap[trunc_len] = rng.choice(LENGTH_CAPS, size=int(trunc_len.sum()), p=LENGTH_CAP_P)
    jl = trunc_len & expects_json
    cap[jl] = rng.choice(JSON_LENGTH_CAPS, size=int(jl.sum()))

    # text ---------------------------------------------------------------------------------
    text = pl.Series([""], dtype=pl.String).gather(np.zeros(n, dtype=np.int64))
    prose_rows = np.flatnonzero((case == C["complete"]) | (trunc_any & ~expects_json))
    units = np.clip(np.round(np.exp(rng.normal(np.log(r_units[route[prose_rows]]), UNITS_SIGMA))), 1, MAX_UNITS)
    need = np.ceil(cap[prose_rows] * CHARS_PER_TOKEN * 1.3 / AVG_UNIT_CHARS) + 1
    units = np.maximum(units, np.where(cap[prose_rows] > 0, need, 1)).astype(np.int64)
    # a truncated answer needs something to cut
    units = np.where(trunc_any[prose_rows], np.maximum(units, 2), units)
    text = text.scatter(prose_rows, prose(rng, units))

    json_rows = np.flatnonzero(np.isin(case, [C["json"], C["json_invalid"]]) | json_trunc)
    jtext = json_answers(rng, len(json_rows), cap[json_rows] * CHARS_PER_TOKEN * 1.3)
    jdf = pl.DataFrame(
        {
            "j": jtext,
            "bad": case[json_rows] == C["json_invalid"],
            "fence": (rng.random(len(json_rows)) < JSON_FENCE_SHARE) & ~json_trunc[json_rows],
        }
    )
    jtext = jdf.select(
        pl.when(pl.col("bad"))
        .then(pl.concat_str(pl.col("j").str.slice(0, pl.col("j").str.len_chars() - 1), pl.lit(", }")))
        .otherwise(pl.col("j"))
        .pipe(lambda e: pl.when(pl.col("fence")).then(pl.concat_str(pl.lit("```json\n"), e, pl.lit("\n```"))).otherwise(e))
    ).to_series()
    text = text.scatter(json_rows, jtext)

    rows = np.flatnonzero(case == C["short"])
    text = text.scatter(rows, pick(F.SHORT, choice_idx(rng, len(rows), len(F.SHORT))))
    rows = np.flatnonzero(case == C["refusal"])
    text = text.scatter(rows, pick(F.REFUSALS, choice_idx(rng, len(rows), len(F.REFUSALS))))
    rows = np.flatnonzero(case == C["tool_use"])
    tool_name = np.full(n, -1, dtype=np.int64)
    tool_name[rows] = (rng.random(len(rows)) * len(F.TOOL_NAMES)).astype(np.int64)
    text = text.scatter(rows, pick(F.TOOL_PREFACE, tool_name[rows] % len(F.TOOL_PREFACE)))
    rows = np.flatnonzero(case == C["empty"])
    ws = rng.random(len(rows)) < 0.1
    text = text.scatter(rows, pick(("", " ", "\n"), np.where(ws, rng.integers(1, 3, len(rows)), 0)))

    # truncations: cut texts that are already in place
    rows = np.flatnonzero(trunc_any)
    cut_style = np.full(n, -1, dtype=np.int8)
    if len(rows):
        cur = text.gather(rows)
        clen = cur.str.len_chars().to_numpy().astype(np.int64)
        frac_at = (clen * rng.uniform(0.3, 0.9, len(rows))).astype(np.int64)
        cap_at = (cap[rows] * rng.uniform(3.6, 4.2, len(rows))).astype(np.int64)
        at = np.where(cap[rows] > 0, np.minimum(cap_at, clen - 2), frac_at)
        at = np.maximum(at, np.minimum(8, clen - 1))
        is_j = json_trunc[rows]
        new = pl.Series([""] * len(rows), dtype=pl.String)
        pr = np.flatnonzero(~is_j)
        if len(pr):
            cut, style = cut_prose(rng, cur.gather(pr), at[pr])
            new = new.scatter(pr, cut)
            cut_style[rows[pr]] = style
        jr = np.flatnonzero(is_j)
        if len(jr):
            new = new.scatter(jr, cut_at(cur.gather(jr), at[jr]))
            cut_style[rows[jr]] = 2
        text = text.scatter(rows, new)

    # tokens -------------------------------------------------------------------------------
    chars = text.str.len_chars().to_numpy().astype(np.int64)
    est = np.ceil(chars / CHARS_PER_TOKEN * rng.uniform(0.85, 1.2, n)).astype(np.int64)
    out_tok = np.where(chars > 0, np.maximum(est, 1), 0)
    out_tok = np.where(case == C["empty"], rng.integers(0, 3, n), out_tok)
    out_tok = np.where(case == C["content_filter"], 0, out_tok)
    base = np.maximum(256, 2 ** np.ceil(np.log2(np.maximum(out_tok * 1.1, 1)))).astype(np.int64)
    mult = rng.choice(np.array([1, 2, 4]), size=n, p=[0.5, 0.3, 0.2])
    max_tok = np.maximum(np.minimum(base * mult, 16384), out_tok + 1)
    out_tok = np.where(trunc_len, cap, out_tok)
    max_tok = np.where(trunc_len, cap, max_tok)
    openai_i = providers.index("openai") if "openai" in providers else -1
    no_cap = (prov == openai_i) & ~trunc_len & (rng.random(n) < OPENAI_NO_MAX_TOKENS)

    # stop reasons -------------------------------------------------------------------------
    outcome = np.zeros(n, dtype=np.int64)  # clean
    outcome[trunc_len] = 1
    outcome[case == C["tool_use"]] = 2
    outcome[case == C["content_filter"]] = 3
    stop_table: list[str] = []
    for p in providers:
        stop_table.extend(STOP[p])
    stop_table.append("stop_sequence")
    stop_idx = prov * 4 + outcome
    if "anthropic" in providers:
        ai = providers.index("anthropic")
        seq = (prov == ai) & (outcome == 0) & (rng.random(n) < ANTHROPIC_STOP_SEQUENCE_SHARE)
        stop_idx[seq] = len(stop_table) - 1

    df = pl.DataFrame(
        {
            "trace_id": fixed_hex(rng, n_tr, 32).gather(trace),
            "span_id": fixed_hex(rng, n, 16),
            "timestamp": pl.Series(ts_us + int(START.timestamp() * 1_000_000), dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
            "route": pick(route_names, route),
            "provider": pick(providers, prov),
            "model": pick(model_names, model),
            "provider_stop_reason": pick(stop_table, stop_idx),
            "output_text": text,
            "output_tokens": out_tok.astype(np.int64),
            "max_tokens": pl.Series(max_tok.astype(np.int64)).scatter(np.flatnonzero(no_cap), None),
            "expects_json": expects_json & ~is_tool,
            "after_tool_result": after_tool,
            "_case": pick(CASES, case),
            "_cut": pl.Series(cut_style).replace_strict({-1: None, 0: "mid_word", 1: "continuation", 2: "json"}, return_dtype=pl.String),
            "_tool": tool_name,
            "_arg": rng.integers(10000, 999999, n),
            "_prompt": rng.integers(0, len(F.PROMPTS), n),
            "_in_tok": rng.integers(20, 4000, n),
        }
    )
    return df


FLAT_COLUMNS = (
    "trace_id",
    "span_id",
    "timestamp",
    "route",
    "provider",
    "model",
    "provider_stop_reason",
    "output_text",
    "output_tokens",
    "max_tokens",
    "expects_json",
    "after_tool_result",
)


def write_flat(df: pl.DataFrame, out: Path, with_truth: bool = False) -> None:
    cols = [pl.col(c) for c in FLAT_COLUMNS]
    if with_truth:
        cols.append(pl.col("_case").alias("gen_case"))
    df.select(cols).write_parquet(out)


# ---- raw bodies ------------------------------------------------------------------------
def _anthropic(model, stop, text, out_tok, max_tok, ej, atr, tool, arg, span, prompt, in_tok):
    content = [{"type": "text", "text": text}] if text else []
    if tool >= 0:
        content.append(
            {"type": "tool_use", "id": "toolu_" + span, "name": F.TOOL_NAMES[tool], "input": {"id": str(arg)}}
        )
    messages = [{"role": "user", "content": F.PROMPTS[prompt]}]
    if atr:
        tid = "toolu_" + span[::-1]
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": tid, "name": "lookup_order", "input": {"id": str(arg)}}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": '{"status": "shipped"}'}]})
    request = {"model": model, "max_tokens": max_tok, "messages": messages}
    if ej:
        request["output_config"] = {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    response = {
        "id": "msg_" + span,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": "</answer>" if stop == "stop_sequence" else None,
        "usage": {"input_tokens": in_tok, "output_tokens": out_tok},
    }
    return request, response


def _openai(model, stop, text, out_tok, max_tok, ej, atr, tool, arg, span, prompt, in_tok, created):
    message = {"role": "assistant", "content": text, "refusal": None}
    if tool >= 0:
        if arg % 2:  # half of OpenAI tool calls come without any text, as content null
            message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_" + span,
                "type": "function",
                "function": {"name": F.TOOL_NAMES[tool], "arguments": '{"id": "%d"}' % arg},
            }
        ]
    messages = [{"role": "user", "content": F.PROMPTS[prompt]}]
    if atr:
        cid = "call_" + span[::-1]
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": cid, "type": "function", "function": {"name": "lookup_order", "arguments": '{"id": "%d"}' % arg}}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": cid, "content": '{"status": "shipped"}'})
    request = {"model": model, "messages": messages}
    if max_tok is not None:
        request["max_tokens"] = max_tok
    if ej:
        request["response_format"] = {"type": "json_object"}
    response = {
        "id": "chatcmpl-" + span,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": stop}],
        "usage": {"prompt_tokens": in_tok, "completion_tokens": out_tok, "total_tokens": in_tok + out_tok},
    }
    return request, response


BODY_CHUNK = 100_000


def write_bodies(df: pl.DataFrame, out: Path, with_truth: bool = False, add_to_file: bool = False) -> None:
    """One JSON line per row, built with orjson in chunks of BODY_CHUNK rows (``add_to_file``:
    append to ``out`` instead of replacing it).

    The cyclic garbage collector is paused while the per-row dicts are built: they hold no
    cycles, and a million short-lived containers would otherwise trigger many full passes.
    """
    cols = df.select(
        "route",
        pl.col("timestamp").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ").alias("ts"),
        pl.col("timestamp").dt.epoch("s").alias("created"),
        "trace_id",
        "span_id",
        "provider",
        "model",
        "provider_stop_reason",
        "output_text",
        "output_tokens",
        "max_tokens",
        "expects_json",
        "after_tool_result",
        "_tool",
        "_arg",
        "_prompt",
        "_in_tok",
        "_case",
    )
    dumps = orjson.dumps
    nl = orjson.OPT_APPEND_NEWLINE
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(out, "ab" if add_to_file else "wb") as fh:
            for chunk in cols.iter_slices(BODY_CHUNK):
                lines = []
                append = lines.append
                for route, ts, created, trace_id, span, prov, model, stop, text, out_tok, max_tok, ej, atr, tool, arg, prompt, in_tok, gcase in zip(
                    *chunk.to_dict(as_series=False).values()
                ):
                    if prov == "anthropic":
                        req, resp = _anthropic(model, stop, text, out_tok, max_tok, ej, atr, tool, arg, span, prompt, in_tok)
                    else:
                        req, resp = _openai(model, stop, text, out_tok, max_tok, ej, atr, tool, arg, span, prompt, in_tok, created)
                    rec = {"route": route, "timestamp": ts, "trace_id": trace_id, "request": req, "response": resp}
                    if with_truth:
                        rec["gen_case"] = gcase
                    append(dumps(rec, option=nl))
                fh.write(b"".join(lines))
    finally:
        if gc_was_enabled:
            gc.enable()


# ---- chunked output (any N in bounded memory) --------------------------------------------
#: Rows per Parquet row group of the chunked writer (what Polars' write_parquet chose for the
#: unchunked 1M-row file, so both files read alike).
ROW_GROUP = 125_000


def chunk_seed(seed: int, k: int) -> int:
    """Seed of chunk ``k``: derived from (seed, k) by numpy's SeedSequence, so chunks are
    independent streams and the same (seed, rows, chunk) always gives the same file."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0])


def write_chunked(n: int, chunk: int, seed: int, fmt: str, out: Path, with_truth: bool = False) -> None:
    """Write ``n`` rows as ceil(n / chunk) independently generated chunks of at most
    ``chunk`` rows (chunk k uses :func:`chunk_seed` (seed, k)); memory is that of one chunk.

    flat: one Parquet file, each chunk appended as row groups of ROW_GROUP rows (pyarrow
    ParquetWriter, zstd, the schema of the first chunk). bodies: the JSON lines of each chunk appended.
    Each chunk is a complete sample (traces never span two chunks; its timestamps cover the
    same 14 days), so the file is time-ordered within a chunk only.
    """
    import pyarrow.parquet as pq

    mix = PROVIDER_MIX_FLAT if fmt == "flat" else PROVIDER_MIX_BODIES
    writer = None
    try:
        for k, start in enumerate(range(0, n, chunk)):
            df = generate(min(chunk, n - start), chunk_seed(seed, k), mix)
            if fmt == "bodies":
                write_bodies(df, out, with_truth, add_to_file=k > 0)
                continue
            cols = [pl.col(c) for c in FLAT_COLUMNS] + ([pl.col("_case").alias("gen_case")] if with_truth else [])
            table = df.select(cols).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema), row_group_size=ROW_GROUP)
            del df, table
            gc.collect()
    finally:
        if writer is not None:
            writer.close()


# ---- stats and CLI ---------------------------------------------------------------------
def stats(df: pl.DataFrame) -> str:
    n = df.height
    parts = [f"rows: {n:,}"]
    by_case = df.group_by("_case").len().sort("len", descending=True)
    parts.append("cases: " + ", ".join(f"{c} {k / n:.2%}" for c, k in by_case.iter_rows()))
    cuts = df.filter(pl.col("_cut").is_not_null()).group_by("_cut").len().sort("_cut")
    parts.append("cut styles: " + ", ".join(f"{c} {k:,}" for c, k in cuts.iter_rows()))
    s = df.select(
        pl.col("expects_json").mean().alias("expects_json"),
        pl.col("after_tool_result").mean().alias("after_tool_result"),
        pl.col("max_tokens").is_null().mean().alias("max_tokens_null"),
        pl.col("output_text").str.len_chars().median().alias("chars_median"),
        pl.col("output_text").str.len_chars().quantile(0.99).alias("chars_p99"),
        pl.col("output_text").str.len_chars().max().alias("chars_max"),
        pl.col("output_text").str.len_bytes().sum().alias("text_bytes"),
        pl.col("trace_id").n_unique().alias("traces"),
    ).row(0, named=True)
    parts.append(
        f"expects_json {s['expects_json']:.2%}, after_tool_result {s['after_tool_result']:.2%}, "
        f"max_tokens null {s['max_tokens_null']:.2%}, traces {s['traces']:,}"
    )
    parts.append(
        f"output_text chars: median {s['chars_median']:.0f}, p99 {s['chars_p99']:.0f}, max {s['chars_max']:,}, "
        f"total {s['text_bytes'] / 1e6:.1f} MB"
    )
    stops = df.group_by("provider", "provider_stop_reason").len().sort("provider", "len", descending=[False, True])
    parts.append("stop reasons: " + ", ".join(f"{p}/{r} {k / n:.2%}" for p, r, k in stops.iter_rows()))
    routes = df.group_by("route").len().sort("len", descending=True)
    top = routes.head(3).rows()
    parts.append(
        f"routes: {routes.height}, top {', '.join(f'{r} {k / n:.1%}' for r, k in top)}, smallest {routes.row(-1)[0]} {routes.row(-1)[1]:,} rows"
    )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, required=True, help="number of rows (responses) to write")
    ap.add_argument("--format", choices=("flat", "bodies"), required=True)
    ap.add_argument("--out", type=Path, required=True, help="output file (.parquet for flat, .jsonl for bodies)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--with-truth", action="store_true", help="add the generator's label as gen_case")
    ap.add_argument("--stats", action="store_true", help="print realized rates to stderr")
    ap.add_argument(
        "--chunk",
        type=int,
        help="generate and write CHUNK rows at a time (chunk k seeded from (seed, k)) so any --rows fits in "
        "memory; without it all rows come from one seed (a different file from the chunked one)",
    )
    args = ap.parse_args(argv)
    if args.rows < 1:
        ap.error("--rows must be >= 1")
    if args.chunk is not None and args.chunk < 1:
        ap.error("--chunk must be >= 1")
    if args.chunk is not None and args.stats:
        ap.error("--stats needs all rows in memory; it cannot be combined with --chunk")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.chunk is not None:
        tmp = args.out.with_name(args.out.name + ".tmp")
        write_chunked(args.rows, args.chunk, args.seed, args.format, tmp, args.with_truth)
        tmp.replace(args.out)
        size = args.out.stat().st_size
        print(f"wrote {args.rows:,} rows ({args.format}, chunks of {args.chunk:,}) to {args.out}: {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        return 0
    mix = PROVIDER_MIX_FLAT if args.format == "flat" else PROVIDER_MIX_BODIES
    df = generate(args.rows, args.seed, mix)
    t1 = time.perf_counter()
    tmp = args.out.with_name(args.out.name + ".tmp")
    if args.format == "flat":
        write_flat(df, tmp, args.with_truth)
    else:
        write_bodies(df, tmp, args.with_truth)
    tmp.replace(args.out)
    t2 = time.perf_counter()
    size = args.out.stat().st_size
    print(
        f"wrote {args.rows:,} rows ({args.format}) to {args.out}: {size / 1e6:.1f} MB "
        f"in {t2 - t0:.1f} s (generate {t1 - t0:.1f} s, write {t2 - t1:.1f} s)",
        file=sys.stderr,
    )
    if args.stats:
        print(stats(df), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
