#!/usr/bin/env python3
"""The DuckDB SQL peer of ``stoptriage.classify``: the same per-row work and per-route
summary, written as DuckDB SQL. Benchmark only (issue 6); DuckDB is not a dependency of
the package (``pip install duckdb``).

    python benchmarks/peers/duckdb_peer.py INPUT --kind flat|bodies --out DIR

Interface used by benchmarks/bench_classify.py (the module is imported untimed, then
:func:`run` is timed)::

    run(path: str, kind: str, out_dir: str) -> int   # rows written

``kind``: ``flat`` (Parquet with stoptriage's canonical column names, as written by
benchmarks/generate.py --format flat) or ``bodies`` (JSON lines ``{"route", "timestamp",
"trace_id", "request", "response"}`` holding Anthropic Messages or OpenAI Chat Completions
bodies, benchmarks/generate.py --format bodies; other body shapes are skipped). Writes:

* ``out_dir/rows.parquet``: one row per response, input order: the identity columns
  (source_line, trace_id, span_id, timestamp, route, provider, model, provider_stop_reason,
  for bodies also stop_detail and provider_refusal read from the body, output_tokens,
  max_tokens, expects_json, after_tool_result) then every column of
  ``stoptriage.taxonomy.SIGNAL_COLUMNS`` with the same meaning (enums as VARCHAR, ``alerts``
  a list of rule names in rules.py order). ``json_error`` / ``tool_args_error`` carry this
  peer's own message (DuckDB's JSON functions give none), null exactly where stoptriage's are.
* ``out_dir/summary.parquet``: route, stop_reason, derived_stop, count (BIGINT), computed by
  DuckDB from rows.parquet.

The spec is stoptriage at commit edabd53 (signals.py, taxonomy.py, normalize.py, rules.py):
constants, patterns and rules are restated here in DuckDB's dialect; the phrase lists come
from ``stoptriage.signals.load_list`` and the stop-reason table from data/stop_reasons.csv.

How it is written for speed (each choice measured on the 1M-row inputs, 2 cores):

* No joins anywhere: DuckDB guarantees the input order for single-table SELECT / COPY
  pipelines, not for joins. The per-route length distribution (count, mean, sample std,
  quantile_cont 0.05) is aggregated into a MAP held in a variable and read per row with
  ``getvariable``; stop-reason normalization is a MAP lookup. DuckDB rewrites an IN list
  of 5+ constants (and list_contains on a constant list) into a MARK join, so those are OR
  chains or one RE2 match here; :func:`run` refuses any plan with a join (EXPLAIN first).
* flat (``stream``): a cheap pre-pass reads route, output_tokens and the text length for
  the statistics, then ONE parallel pipeline reads the Parquet file, computes everything
  and writes rows.parquet. bodies (``table``): JSON parsing dominates and must not happen
  twice, so pass 1 keeps every signal (without the text) in a temporary table in input
  order, the statistics come from it, pass 2 writes from it; ``source_line`` is the table's
  rowid + 1 (``row_number() OVER ()`` runs the JSON read on one thread).
* The text is walked as few times as possible: ``length`` once, one ``right(t, 400)`` (the
  tail window) and every trailing signal on that window only; whitespace trimmed only when
  the window really ends in whitespace (``rtrim`` with a character set walks every
  character: 7.8 s vs 1.3 s on 1M tails); ``contains`` gates the counts over the whole
  text; start-anchored regexes on the whole text (RE2 stops at the first mismatch),
  end-anchored ones on the tail (RE2 reads them backwards from the end).
* Everything rare and expensive is behind a CASE (DuckDB evaluates a CASE branch only on
  the rows that take it; AND / OR in a projection evaluate every operand): the JSON
  candidate and its strict check, the refusal matching (a case-insensitive RE2 prefilter
  on the opening, 2% of rows pass, then the exact lower-case / blank-out / word-start steps
  on those), and the cue tests in truncation_cue order, each only on the rows no earlier
  cue claimed. Tool-call lists and multi-block texts are built only for bodies that have
  them.
* Both cores (``threads`` = core count), ``preserve_insertion_order`` on, Parquet written by
  ``COPY ... TO`` with DuckDB's default codec (snappy) and format V2 (~20% less CPU to
  write than V1 here; Polars and pyarrow read it). DuckDB's default memory limit (80% of
  RAM): ``memory_limit`` (e.g. "300MB") bounds its buffers at no measured time cost.

Dialect differences handled here (RE2 vs Polars' Rust regex): ``\\s`` / ``\\d`` are ASCII in
RE2 and Unicode in Rust, so every ``\\s`` is the explicit White_Space class and ``\\d`` is
``\\p{Nd}``; RE2 has no Unicode ``\\b``, so "a phrase at a word start" is ``(?:^|[^<word>])``
with <word> = letters, marks, decimal digits, connector punctuation, letter numbers (Rust's
``\\w`` also counts Join_Control and a few Other_Alphabetic symbols). DuckDB's ``json_valid``
(yyjson) accepts trailing commas and NaN / Infinity, which orjson rejects: the strict check
adds a regex over the body with its strings blanked (and orjson's "number is infinity"
for literals like 1e999, which yyjson keeps as inf). Not reproduced: jsonschema validation
of tool arguments (the benchmark bodies declare no tool schemas; only parsing is checked).
One quirk kept on purpose: stoptriage's refusal ``pos`` is Polars ``str.find``, a BYTE
offset into the lower-cased head, so ``pos < 250`` compares UTF-8 bytes (``strlen`` here).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from stoptriage import signals  # noqa: E402  (phrase lists only: load_list / split_phrases)

DATA = REPO / "stoptriage" / "data"

# ---- constants (stoptriage/signals.py, rules.py, taxonomy.py at edabd53) -------------------
TAIL_CHARS = 32
TAIL_WINDOW = 400
REFUSAL_HEAD = 600
REFUSAL_OPENING = 250
ANSWER_OPENING = 250
MIN_ROUTE_ROWS = 20
NEAR_EMPTY_TOKENS = 3
CHARS_PER_TOKEN = 4.0
SHORT_OUTLIER_Z = -2.0
SHORT_REFUSAL_CHARS = 400

#: Unicode White_Space (what Rust's ``\s`` and ``str::trim`` use), as an RE2 class body
#: and as the character set for DuckDB's trim functions.
WS_CLASS = r"\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
WS_CHARS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
#: Word characters for the word-start test: Rust's Unicode ``\w`` (Alphabetic, marks,
#: decimal digits, connector punctuation, Join_Control); the listed ranges are the
#: Other_Alphabetic symbols (circled / squared letters) and the joiners, which RE2 has no
#: property for. Compared over every code point with Polars' ``\w``: equal except letters
#: newer than RE2's Unicode tables (Unicode 15-16 scripts), which no \p{L} here matches.
WORD_CLASS = (
    r"\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\x{200C}\x{200D}\x{24B6}-\x{24E9}"
    r"\x{1F130}-\x{1F149}\x{1F150}-\x{1F169}\x{1F170}-\x{1F189}"
)


def re2(pattern: str) -> str:
    """A Polars (Rust regex) pattern in RE2 terms: ``\\s`` -> the Unicode White_Space
    class, ``\\S`` -> its complement, ``\\d`` -> ``\\p{Nd}`` (inside or outside a class).
    ``\\b`` is refused: it has no Unicode meaning in RE2 (write the word-start test out)."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(WS_CLASS if in_class else f"[{WS_CLASS}]")
            elif nxt == "S":
                if in_class:
                    raise ValueError(f"\\S inside a class: {pattern}")
                out.append(f"[^{WS_CLASS}]")
            elif nxt == "d":
                out.append(r"\p{Nd}")
            elif nxt == "b":
                raise ValueError(f"\\b has no Unicode meaning in RE2: {pattern}")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            if pattern[i + 1] == "^":
                out.append("^")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# ---- patterns: signals.py at edabd53, in RE2 terms -------------------------------------------
_MARKER = r"(?:[-*+•]|\d{1,3}[.)])"
_LIST_ITEM = rf"^\s*{_MARKER}\s"
P = {
    "closer_end": re2(r"""(?:[.!?…。！？"'”’»)\]}>*_~`|]|\p{So}|\p{Sk})$"""),
    "mid_word_end": re2(r"[\p{L}\p{N}]$"),
    "open_punct_end": re2(r"[,;:(\[{\-–—/\\&+=]$"),
    "letter_apos_end": re2(r"[\p{L}']$"),
    "ws_end": re2(r"\s$"),
    "ws_start": re2(r"^\s"),
    "last_word": re2(r"[\p{L}'’]+$"),
    "json_start": re2(
        r'^\s*(?:\{\s*(?:"|\})|\[\s*(?:[\[{"\]]|-?\d+(?:\.\d+)?\s*,|(?:true|false|null)(?:[^' + WORD_CLASS + r"]|$)))"
    ),
    "fenced": re2(r"^\s*```(?:json|JSON)"),
    "fence_open": r"^```[A-Za-z0-9_-]*[ \t]*\r?\n",
    "fence_body": r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)(?:```|$)",
    # JSON strings (to blank them before the strictness test) and what orjson rejects
    # but yyjson (DuckDB) accepts: a trailing comma, NaN / Infinity literals.
    "json_string": r'"(?:[^"\\]|\\.)*"',
    "json_lenient": r"(?i)nan|inf|,[ \t\n\r]*[\]}]",
    # a number that may overflow a double (orjson: "number is infinity"; yyjson keeps inf)
    "json_big_number": r"[0-9][eE]\+?[0-9]{3}|[0-9]{309}",
    "json_number": r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?",
    "list_item": re2(_LIST_ITEM),
    "structured_line": re2(r"^\s*(?:#|>|\|)|^(?:    |\t)\s*(?:[^-*+•\d\s]|\d+[^.)\d])"),
    "prose_item": re2(rf"{_LIST_ITEM}.*[.!?]\s+\S"),
    "sign_off": re2(r"(?m)^[^\n]{1,30},[ \t]*\n[ \t]*\p{Lu}\S*(?:[ \t]+\p{Lu}\S*){0,2}\z"),
    "label_value": re2(r"^\s*[\p{L}\p{N} _*-]{1,40}:\**\s*\S+(?:\s+\S+)?$"),
    "link_end": re2(r"(?:^|\s)(?:\S*://|www\.|[^\s<]*/[^\s/]*/)\S*$"),
    "letter_end": re2(r"\p{L}$|(?:^|[^\s'])[^\s']*\p{L}'$"),
    "word_after_open_line": re2(r"(?m)^(?:[^#\n][^\n]*)?[\p{L},][ \t]*\n(?:[ \t]*\n)*[ \t]*[\p{L}'’-]+\z"),
    # words (tokens holding a letter) >= 1, >= 2, >= 6, as existence tests: a letter in
    # each of n different tokens (counting the tokens would build a list per row)
    "words_1": r"\p{L}",
    "words_2": re2(r"\p{L}\S*\s.*?\p{L}"),
    "words_6": re2(r"(?:\p{L}\S*\s.*?){5}\p{L}"),
    # punctuation anywhere but the last character (tail.str.head(-1) in the spec)
    "punct_not_last": r"(?s)[.!?:;,…。！？].",
    "punct_item": re2(rf"(?m){_LIST_ITEM}[^\n]*[.!?][)\]\"'”’*_]*[ \t]*$"),
    "bare_item": re2(rf"(?m){_LIST_ITEM}[^\n]*[\p{{L}}\p{{N}}][ \t]*$"),
    "sentence_end": r"[.!?…。！？]$",
    "open_emphasis": re2(r"(?:^|\s)\*[^\s*][^*]*$"),
    # dangling_structure: heading, bare marker, table separator in one start-anchored RE2
    # pass (it stops at the first character that rules them out), the bold label with a
    # colon end-anchored (RE2 reads it backwards from the end); pipe row, </thinking> and
    # link text are separate tests
    "dangling_start": re2(
        r"^(?:\s{0,3}#{1,6}(?:\s|$)|\s*" + _MARKER + r"\s*$"
        r"|\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*$)"
    ),
    "dangling_label": re2(r":\s*[*_]{1,2}$"),
    "pipe_start": re2(r"^\s*\|"),
    "pipe_end": re2(r"\|\s*$"),
    "link_text_end": re2(r"\[[^\]\d][^\]]*\]$"),
    "quoted": r'["“][^"“”\n]{0,300}["”]',
}


def lit(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def _re_phrase(p: str) -> str:
    """A phrase as an RE2 literal (metacharacters escaped)."""
    return "".join("\\" + c if c in r"\.+*?()|[]{}^$" else c for c in p)


def _alternation(phrases: tuple[str, ...], fold_apostrophe: bool = False) -> str:
    """Phrases longest first (as signals._alternation orders them), RE2-escaped;
    ``fold_apostrophe``: ' also matches ’ (for the prefilter on the raw text)."""
    alts = [_re_phrase(p) for p in sorted(phrases, key=len, reverse=True)]
    if fold_apostrophe:
        alts = [a.replace("'", "['’]") for a in alts]
    return "|".join(alts)


def stop_reason_maps() -> tuple[str, str]:
    """(exact, generic) MAP literals from data/stop_reasons.csv: 'provider<US>raw' -> stop_reason
    for provider-specific rows, raw -> stop_reason for ``*`` rows."""
    exact, generic = {}, {}
    with open(DATA / "stop_reasons.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["provider"] == "*":
                generic.setdefault(row["raw"], row["stop_reason"])
            else:
                exact.setdefault(row["provider"] + "\x1f" + row["raw"], row["stop_reason"])

    def as_map(d: dict[str, str]) -> str:
        return "MAP {" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in d.items()) + "}"

    return as_map(exact), as_map(generic)


#: Gemini provider spellings and stream detail keys (normalize.py at edabd53).
GEMINI_PROVIDERS = ("gemini", "google", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "vertexai", "vertex_ai")
DETAIL_KEYS = ("stream_incomplete", "stream_error", "guardrail_intervened", "call_error", "span_error")
#: Expected derived class(es) per stop_reason (taxonomy.EXPECTED at edabd53).
EXPECTED = {
    "stop": "complete",
    "stop_sequence": "complete",
    "length": "truncated",
    "context_window": "truncated",
    "tool_call": "tool_call",
    "refusal": "refusal|empty",
    "content_filter": "refusal|empty",
    "pause": "any",
    "malformed_output": "tool_call_malformed|invalid_json",
}
IDENTITY = (
    "source_line", "trace_id", "span_id", "timestamp", "route", "provider", "model", "provider_stop_reason",
    "stop_detail", "provider_refusal", "output_tokens", "max_tokens", "expects_json", "after_tool_result",
)  # fmt: skip


def _one_of(expr: str, values) -> str:
    """``expr`` equals one of ``values``, as an OR chain: DuckDB rewrites an IN list of five
    or more constants (and list_contains on a constant list) into a MARK join, which costs
    a hash probe per row and, being a join, gives up the guaranteed row order."""
    return "(" + " OR ".join(f"{expr} = {lit(v)}" for v in values) + ")"


# ---- sources: canonical columns + the text as ``t`` ---------------------------------------
def source_flat(con: duckdb.DuckDBPyConnection, path: str) -> str:
    """SELECT over a flat Parquet file: canonical columns (absent ones as NULL), ``t``
    (output_text, null -> ''), ``calls`` (always empty: a flat table has no tool calls)."""
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(path)})").fetchall()}

    def col(name: str, typ: str) -> str:
        return f'"{name}"::{typ}' if name in have else f"NULL::{typ}"

    return f"""
    SELECT file_row_number::BIGINT AS source_line,
           {col('trace_id', 'VARCHAR')} AS trace_id, {col('span_id', 'VARCHAR')} AS span_id,
           {col('timestamp', 'TIMESTAMPTZ')} AS "timestamp",
           coalesce({col('route', 'VARCHAR')}, 'unknown') AS route,
           {col('provider', 'VARCHAR')} AS provider, {col('model', 'VARCHAR')} AS model,
           {col('provider_stop_reason', 'VARCHAR')} AS provider_stop_reason,
           {col('stop_detail', 'VARCHAR')} AS stop_detail, {col('provider_refusal', 'VARCHAR')} AS provider_refusal,
           {col('output_tokens', 'BIGINT')} AS output_tokens, {col('max_tokens', 'BIGINT')} AS max_tokens,
           {col('expects_json', 'BOOLEAN')} AS expects_json, {col('after_tool_result', 'BOOLEAN')} AS after_tool_result,
           coalesce({col('output_text', 'VARCHAR')}, '') AS t,
           {NO_CALLS} AS calls,
           true AS _keep
    FROM read_parquet({lit(path)}, file_row_number = true)"""


#: The parts of a wrapped exchange this peer reads (everything else is skipped by the
#: JSON reader). ``content`` of request messages is a string or a list of blocks: JSON.
BODY_COLUMNS = {
    "route": "VARCHAR",
    "timestamp": "VARCHAR",
    "trace_id": "VARCHAR",
    "span_id": "VARCHAR",
    "request": """STRUCT(model VARCHAR, max_tokens BIGINT, max_completion_tokens BIGINT,
        messages STRUCT(role VARCHAR, content JSON)[], output_config STRUCT(format JSON),
        output_format JSON, response_format STRUCT("type" VARCHAR))""",
    "response": """STRUCT("type" VARCHAR, object VARCHAR, model VARCHAR, created BIGINT,
        stop_reason VARCHAR, stop_details STRUCT(category VARCHAR),
        content STRUCT("type" VARCHAR, "text" VARCHAR, name VARCHAR, input JSON)[],
        choices STRUCT(message STRUCT(content VARCHAR, refusal VARCHAR,
            tool_calls STRUCT("function" STRUCT(name VARCHAR, arguments VARCHAR))[],
            function_call STRUCT(name VARCHAR, arguments VARCHAR)), finish_reason VARCHAR)[],
        usage STRUCT(output_tokens BIGINT, completion_tokens BIGINT))""",
}


NO_CALLS = "[]::STRUCT(name VARCHAR, arguments VARCHAR)[]"


def source_bodies(path: str, line_numbers: bool = False) -> str:
    """SELECT over raw-body JSON lines (Anthropic Messages / OpenAI Chat Completions),
    the same canonical columns as :func:`source_flat` (ingest/bodies.py SPECS at edabd53).
    Every line gives a row (``_keep`` false for a body of another shape: filter it after
    numbering). ``source_line``: ``row_number() OVER ()`` with ``line_numbers``, else NULL
    for the caller to fill from the rowid of a table (``row_number() OVER ()`` is a
    streaming window that runs the whole read on ONE thread: measured, it blocked the
    other core for the entire JSON read). Blank lines are not counted (DuckDB's reader
    skips them; stoptriage counts them)."""
    cols = ", ".join(f"{k}: {lit(' '.join(v.split()))}" for k, v in BODY_COLUMNS.items())
    return f"""
    SELECT source_line, trace_id, span_id,
           CASE WHEN api = 'openai_chat' AND response.created IS NOT NULL
                THEN to_timestamp(CASE WHEN response.created > 100000000000 THEN response.created // 1000
                                       ELSE response.created END)
                ELSE try_cast("timestamp" AS TIMESTAMPTZ) END AS "timestamp",
           coalesce(route, 'unknown') AS route,
           CASE api WHEN 'openai_chat' THEN 'openai' ELSE 'anthropic' END AS provider,
           coalesce(response.model, request.model) AS model,
           CASE api WHEN 'openai_chat' THEN msg.finish_reason ELSE response.stop_reason END AS provider_stop_reason,
           CASE api WHEN 'openai_chat' THEN NULL ELSE response.stop_details.category END AS stop_detail,
           CASE api WHEN 'openai_chat' THEN msg.message.refusal END AS provider_refusal,
           CASE api WHEN 'openai_chat' THEN response.usage.completion_tokens ELSE response.usage.output_tokens END AS output_tokens,
           CASE WHEN max_cap > 0 THEN max_cap END AS max_tokens,
           CASE WHEN request IS NULL THEN NULL
                WHEN api = 'openai_chat' THEN coalesce(request.response_format.type IN ('json_object', 'json_schema'), false)
                ELSE request.output_config.format IS NOT NULL OR request.output_format IS NOT NULL END AS expects_json,
           CASE WHEN request IS NULL THEN NULL
                WHEN api = 'openai_chat' THEN coalesce(request.messages[-1].role IN ('tool', 'function'), false)
                ELSE coalesce(list_contains(json_extract_string(request.messages[-1].content, '$[*].type'), 'tool_result'), false)
           END AS after_tool_result,
           -- fast paths for the common shapes (one text block; no tool calls): the list
           -- lambdas below allocate per row
           CASE WHEN api = 'openai_chat' THEN coalesce(msg.message.content, '')
                WHEN one_text THEN coalesce(response.content[1].text, '')
                ELSE coalesce(array_to_string(list_transform(list_filter(response.content, lambda b: b.type = 'text'),
                                                             lambda b: b.text), ''), '')
           END AS t,
           CASE WHEN api = 'openai_chat' THEN
                    CASE WHEN msg.message.tool_calls IS NULL AND msg.message.function_call IS NULL THEN {NO_CALLS}
                         ELSE list_concat(
                            coalesce(list_transform(msg.message.tool_calls, lambda c: {{'name': c.function.name, 'arguments': c.function.arguments}}), []),
                            CASE WHEN msg.message.function_call.name IS NOT NULL
                                 THEN [{{'name': msg.message.function_call.name, 'arguments': msg.message.function_call.arguments}}] ELSE [] END) END
                WHEN one_text THEN {NO_CALLS}
                ELSE list_transform(list_filter(response.content, lambda b: b.type = 'tool_use'),
                                    lambda b: {{'name': b.name, 'arguments': b.input::VARCHAR}})
           END AS calls,
           api IS NOT NULL AS _keep
    FROM (
        SELECT {"row_number() OVER ()" if line_numbers else "NULL::BIGINT"} AS source_line, *,
               CASE WHEN response.object = 'chat.completion' THEN 'openai_chat'
                    WHEN response.type = 'message' THEN 'anthropic_messages' END AS api,
               response.choices[1] AS msg,
               len(response.content) = 1 AND response.content[1].type = 'text' AS one_text,
               CASE WHEN response.object = 'chat.completion'
                    THEN coalesce(request.max_completion_tokens, request.max_tokens)
                    ELSE request.max_tokens END AS max_cap
        FROM read_ndjson({lit(path)}, columns = {{{cols}}})
    )"""


# ---- the per-row pipeline (pass 1: everything that needs no per-route statistics) ---------
def loglen(chars: str) -> str:
    """log1p of the length in tokens: output_tokens, else ceil(chars / 4) (signals.log_length).
    DuckDB has no log1p: ln(1 + x), x an integer (exact), differs from log1p in the last bit
    for some x; both orders agree, so below_p5 and length_z agree (measured: 0 mismatches)."""
    return f"ln(1 + coalesce(output_tokens::DOUBLE, ceil({chars}::UINTEGER / {CHARS_PER_TOKEN})))"


def macros() -> list[str]:
    """Helper macros (inlined by DuckDB at bind time)."""
    return [
        # non-overlapping occurrences of x in s (count_matches of a literal); string_split
        # measured ~1/3 cheaper than strlen(s) - strlen(replace(s, x, '')) on long texts
        "CREATE OR REPLACE TEMP MACRO cnt(s, x) AS len(string_split(s, x)) - 1",
        # orjson's verdict: yyjson's, minus what it lets through and orjson rejects: trailing
        # commas, NaN / Infinity, numbers beyond a double. Tested on the body with its strings
        # blanked, and only when the raw body has such a spot at all (a match after blanking
        # is a match before it).
        f"""CREATE OR REPLACE TEMP MACRO json_outside_strings(x) AS
            NOT regexp_matches(x, {lit(P['json_lenient'])})
            AND NOT CASE WHEN regexp_matches(x, {lit(P['json_big_number'])})
                         THEN list_bool_or(list_transform(regexp_extract_all(x, {lit(P['json_number'])}),
                                                          lambda n: isinf(TRY_CAST(n AS DOUBLE))))
                         ELSE false END""",
        f"""CREATE OR REPLACE TEMP MACRO json_strict(b) AS
            CASE WHEN b IS NULL THEN NULL WHEN NOT json_valid(b) THEN false
                 WHEN NOT regexp_matches(b, {lit(P['json_lenient'] + '|' + P['json_big_number'])}) THEN true
                 ELSE json_outside_strings(regexp_replace(b, {lit(P['json_string'])}, '""', 'g')) END""",
    ]


def pass1_sql(source: str, phrases: tuple[str, ...], words: tuple[str, ...]) -> str:
    """SELECT of every per-row signal from ``source`` (a :func:`source_flat` /
    :func:`source_bodies` query), plus ``_loglen`` and ``_eligible`` for the length pass."""
    positive, negative, answer = signals.split_phrases(phrases)
    exact_map, generic_map = stop_reason_maps()
    ws = lit(WS_CHARS)
    nl = "chr(10)"
    pos_alt = _alternation(positive)
    start = f"(?:^|[^{WORD_CLASS}])"
    # refusal: the exact head steps, only for rows whose opening passes the prefilter
    blank_neg = (
        f"regexp_replace(h2, {lit(start.replace('(?:', '(', 1) + '(?:' + _alternation(negative) + ')')}, '\\1~', 'g')"
        if negative else "h2"
    )
    prefilter = lit("(?i)(?:" + _alternation(positive, fold_apostrophe=True) + ")") if positive else None
    answered = (
        f"regexp_matches(left(rhead, {ANSWER_OPENING}), {lit(start + '(?:' + _alternation(answer) + ')')})"
        if answer else "false"
    )
    # the common case first: a stop value, no tool calls, not a Responses "incomplete"
    stop_key = f"""CASE
        WHEN tool_call_count = 0 AND provider_stop_reason IS NOT NULL AND provider_stop_reason <> 'incomplete'
            THEN provider_stop_reason
        WHEN tool_call_count > 0 AND ({_one_of('provider_stop_reason', ('completed', 'STOP', '1'))}
             OR (provider_stop_reason = 'stop' AND {_one_of('provider', GEMINI_PROVIDERS + ('ollama',))})
             OR (provider_stop_reason = 'COMPLETE' AND provider = 'cohere'))
            THEN provider_stop_reason || '+tool_calls'
        WHEN provider_stop_reason = 'incomplete' AND stop_detail IS NOT NULL THEN provider_stop_reason || ':' || stop_detail
        WHEN provider_stop_reason IS NULL AND {_one_of('stop_detail', DETAIL_KEYS)} THEN stop_detail
        WHEN provider_stop_reason IS NULL AND stop_detail IS NOT NULL AND {_one_of('provider', GEMINI_PROVIDERS)} THEN 'prompt_blocked'
        ELSE provider_stop_reason END"""
    # membership by one RE2 match (a constant list would become a MARK join, see _one_of)
    cont_words = lit("(?:" + "|".join(_re_phrase(w) for w in words) + ")")
    return f"""
    WITH l1 AS (  -- whole-text work: one length, one tail window, memchr-speed gates
        SELECT *,
            length(t)::UINTEGER AS output_chars,
            len(calls)::UINTEGER AS tool_call_count,
            right(t, {TAIL_WINDOW}) AS w,
            contains(t, '```') AS has_fence,
            contains(t, '[') OR contains(t, '{{') OR contains(t, ']') OR contains(t, '}}') AS has_bracket,
            regexp_matches(t, {lit(P['ws_start'])}) AS lead_ws,
            regexp_matches(t, {lit(P['json_start'])}) AS looks_json,
            regexp_matches(t, {lit(P['fenced'])}) AS fenced
        FROM ({source})
    ), l2 AS (
        SELECT *,
            regexp_matches(w, {lit(P['ws_end'])}) AS trail_ws,
            CASE WHEN has_fence THEN cnt(t, '```') % 2 = 1 ELSE false END AS unclosed_code_fence,
            CASE WHEN has_bracket
                 THEN cnt(t, '[') + cnt(t, '{{') <> cnt(t, ']') + cnt(t, '}}')
                 ELSE false END AS bracket_imbalance,
            -- the refusal head: first {REFUSAL_HEAD} chars after leading whitespace
            CASE WHEN lead_ws THEN left(ltrim(t, {ws}), {REFUSAL_HEAD})
                 WHEN strlen(t) <= {REFUSAL_HEAD} THEN t ELSE left(t, {REFUSAL_HEAD}) END AS h0
        FROM l1
    ), l3 AS (
        SELECT *,
            CASE WHEN trail_ws THEN rtrim(w, {ws}) ELSE w END AS tail,
            CASE WHEN coalesce(expects_json, false) OR looks_json OR fenced
                 THEN CASE WHEN lead_ws OR trail_ws THEN trim(t, {ws}) ELSE t END END AS st,
            {f"CASE WHEN regexp_matches(h0, {prefilter})" if prefilter else "CASE WHEN false"}
                 THEN replace(lower(h0), '’', '''') END AS h1
        FROM l2
    ), l4 AS (
        SELECT *,
            CASE WHEN NOT fenced THEN st
                 WHEN regexp_matches(st, {lit(P['fence_open'])}) THEN regexp_extract(st, {lit(P['fence_body'])}, 1) END AS cand,
            right(tail, {TAIL_CHARS}) AS output_tail,
            regexp_matches(tail, {lit(P['closer_end'])}) AS ends_terminal,
            regexp_matches(tail, {lit(P['mid_word_end'])}) AS ends_mid_word,
            regexp_matches(tail, {lit(P['open_punct_end'])}) AS ends_open_punctuation,
            CASE WHEN regexp_matches(tail, {lit(P['last_word'])})
                 THEN regexp_full_match(lower(replace(regexp_extract(tail, {lit(P['last_word'])}), '’', '''')), {cont_words})
                 ELSE false END AS ends_continuation_word,
            CASE WHEN contains(tail, {nl}) THEN split_part(tail, {nl}, -1) ELSE tail END AS last_line,
            contains(tail, {nl}) OR output_chars <= {TAIL_WINDOW} AS whole_last_line,
            CASE WHEN h1 IS NOT NULL THEN {blank_neg.replace('h2', f"regexp_replace(h1, {lit(P['quoted'])}, '~', 'g')")} END AS rhead,
            {stop_key} AS stop_key
        FROM l3
    ), l5 AS (
        SELECT *,
            CASE WHEN rhead IS NOT NULL AND regexp_matches(rhead, {lit(start + '(?:' + pos_alt + ')')})
                 THEN regexp_extract(rhead, {lit('(?s)^((?:.*?[^' + WORD_CLASS + '])??)(' + pos_alt + ')')}, ['pre', 'phrase'])
            END AS rm,
            CASE WHEN stop_key IS NULL THEN 'unknown'
                 ELSE coalesce({exact_map}[coalesce(provider, '') || chr(31) || stop_key], {generic_map}[stop_key], 'other')
            END AS stop_reason,
            json_strict(cand) AS json_valid,
            CASE WHEN tool_call_count > 0 THEN list_bool_and(list_transform(calls,
                 lambda c: c.arguments IS NOT NULL AND coalesce(json_strict(c.arguments), false))) END AS tool_args_valid,
            CASE WHEN ends_terminal THEN 'closer' WHEN ends_continuation_word THEN 'continuation_word'
                 WHEN ends_open_punctuation THEN 'open_punctuation' WHEN ends_mid_word THEN 'mid_word'
                 ELSE 'none' END AS ending_class,
            -- empty: no text after trimming (the tail is empty and so is the rest) and no tool calls
            CASE WHEN tail <> '' THEN false
                 WHEN output_chars <= {TAIL_WINDOW} THEN true
                 ELSE regexp_full_match(t, {lit('[' + WS_CLASS + ']*')}) END AND tool_call_count = 0 AS empty,
            output_tokens >= max_tokens AS at_token_cap,
            output_tokens <= {NEAR_EMPTY_TOKENS} AS near_empty,
            tool_call_count > 0 AS tool_calls_present,
            {loglen('output_chars')} AS _loglen,
            output_chars > 0 AND tool_call_count = 0 AS _eligible
        FROM l4
    )""" + pass1_tail_sql(answered)


def pass1_tail_sql(answered: str) -> str:
    """The rest of pass 1 (continues the WITH of :func:`pass1_sql`): the text cues in
    truncation_cue order, each evaluated only on the rows no earlier cue claimed (a CASE
    tries its WHENs in order on the remaining rows), and the refusal verdict."""
    line = "last_line"
    # (AND / OR evaluate every operand in a projection; CASE is what skips work)
    open_markup = f"""CASE WHEN whole_last_line AND NOT regexp_matches(tail, {lit(P['sentence_end'])}) THEN
                cnt({line}, '**') % 2 = 1 OR (cnt({line}, '`') - 3 * cnt({line}, '```')) % 2 = 1
                OR cnt({line}, '(') > cnt({line}, ')') OR cnt({line}, '[') > cnt({line}, ']')
                OR cnt({line}, '“') > cnt({line}, '”') OR cnt({line}, '"') % 2 = 1
                OR regexp_matches({line}, {lit(P['open_emphasis'])}) ELSE false END"""
    dangling = f"""(regexp_matches({line}, {lit(P['dangling_start'])})
                OR regexp_matches({line}, {lit(P['dangling_label'])})
                OR CASE WHEN regexp_matches({line}, {lit(P['pipe_start'])}) THEN NOT regexp_matches({line}, {lit(P['pipe_end'])}) ELSE false END
                OR ends_with(tail, '</thinking>')
                OR CASE WHEN regexp_matches({line}, {lit(P['link_text_end'])}) THEN contains(t, '](') ELSE false END)"""
    cut_list_item = f"""CASE WHEN ends_mid_word AND regexp_matches({line}, {lit(P['list_item'])}) THEN
                len(regexp_extract_all(tail, {lit(P['punct_item'])})) >= greatest(1, len(regexp_extract_all(tail, {lit(P['bare_item'])})) - 1)
                ELSE false END"""
    return f""", l6 AS (
        SELECT *,
            CASE WHEN output_chars = 0 THEN NULL
                 WHEN coalesce(at_token_cap, false) THEN 'token_cap'
                 WHEN unclosed_code_fence THEN 'unclosed_code_fence'
                 WHEN cand IS NOT NULL AND bracket_imbalance THEN 'json_unbalanced'
                 WHEN ends_open_punctuation THEN 'open_punctuation'
                 WHEN ends_continuation_word THEN 'continuation_word'
                 WHEN {open_markup} THEN 'open_markup'
                 WHEN {dangling} THEN 'dangling_structure'
                 WHEN {cut_list_item} THEN 'cut_list_item'
            END AS cue_a,
            CASE WHEN NOT json_valid THEN CASE WHEN json_valid(cand) THEN 'not JSON: trailing comma, NaN/Infinity or a number beyond a double'
                                               ELSE 'not valid JSON' END END AS json_error,
            CASE WHEN NOT tool_args_valid THEN array_to_string(list_transform(
                 list_filter(calls, lambda c: NOT (c.arguments IS NOT NULL AND coalesce(json_strict(c.arguments), false))),
                 lambda c: coalesce(nullif(c.name, ''), '?') || CASE WHEN c.arguments IS NULL THEN ': no arguments'
                                                                 ELSE ': arguments are not valid JSON' END), '; ') END AS tool_args_error,
            CASE WHEN rm IS NOT NULL THEN {answered} ELSE false END AS answered,
            stop_reason = 'tool_call' AND tool_call_count = 0 AS phantom_tool_use
        FROM l5
    ), l7 AS (
        SELECT *,
            -- cut_mid_sentence: texts ending in a letter (or ') that no other cue claimed;
            -- each test runs only on the rows the earlier ones left undecided
            CASE WHEN output_chars = 0 OR cue_a IS NOT NULL OR NOT regexp_matches(tail, {lit(P['letter_apos_end'])}) THEN false
                 WHEN NOT regexp_matches(tail, {lit(P['letter_end'])}) THEN false
                 WHEN regexp_matches({line}, {lit(P['words_2'])}) THEN CASE
                      WHEN regexp_matches({line}, {lit(P['structured_line'])}) THEN false
                      WHEN regexp_matches({line}, {lit(P['list_item'])}) AND length({line}) < 100
                           AND NOT regexp_matches({line}, {lit(P['prose_item'])}) THEN false
                      WHEN NOT regexp_matches(tail, {lit(P['punct_not_last'])})
                           AND NOT regexp_matches({line}, {lit(P['words_6'])}) THEN false
                      WHEN regexp_matches({line}, {lit(P['label_value'])}) THEN false
                      WHEN regexp_matches({line}, {lit(P['link_end'])}) THEN false
                      ELSE NOT regexp_matches(tail, {lit(P['sign_off'])}) END
                 WHEN regexp_matches({line}, {lit(P['words_1'])}) AND regexp_matches(tail, {lit(P['word_after_open_line'])})
                      THEN NOT regexp_matches(tail, {lit(P['sign_off'])})
                 ELSE false END AS cut_mid_sentence,
            CASE WHEN answered THEN NULL ELSE rm.phrase END AS refusal_phrase,
            CASE WHEN rm IS NULL OR answered THEN 0.0::DOUBLE
                 WHEN strlen(rm.pre) < {REFUSAL_OPENING} THEN 1.0::DOUBLE ELSE 0.5::DOUBLE END AS refusal_score
        FROM l6
    )
    SELECT {', '.join(f'"{c}"' for c in IDENTITY)},
        stop_reason, output_chars, tool_call_count, output_tail, ends_terminal, ends_mid_word,
        ends_continuation_word, ends_open_punctuation, ending_class, unclosed_code_fence, bracket_imbalance,
        json_valid, json_error, tool_args_valid, tool_args_error, refusal_phrase, refusal_score,
        at_token_cap, empty, near_empty, tool_calls_present, phantom_tool_use,
        coalesce(cue_a, CASE WHEN cut_mid_sentence THEN 'cut_mid_sentence' END) AS truncation_cue,
        truncation_cue IS NOT NULL AS truncated,
        refusal_score >= 1.0 AS refusal_hit,
        _loglen, _eligible, _keep
    FROM l7"""


# ---- pass 2: per-route length distribution, verdicts, alerts -------------------------------
def stats_sql(relation: str) -> str:
    """Set the variable ``route_stats``: MAP route -> {n, mean, std, p5} of ``_loglen`` over
    the ``_eligible`` rows of ``relation`` (signals.add_length_signals: count, mean, sample
    std, linear 5th percentile = quantile_cont)."""
    return f"""
    SET VARIABLE route_stats = (
        SELECT map_from_entries(list((route, {{'n': n, 'mean': m, 'std': s, 'p5': p5}})))
        FROM (SELECT route, count(*) AS n, avg(_loglen) AS m, stddev_samp(_loglen) AS s,
                     quantile_cont(_loglen, 0.05) AS p5
              FROM {relation} WHERE _eligible AND _keep GROUP BY route))"""


def light_sql(source: str) -> str:
    """Only what the length statistics need from ``source``, for a cheap pre-pass: route,
    _loglen, _eligible (text present, no tool calls). DuckDB reads just these columns."""
    return f"""(SELECT route, {loglen('length(t)')} AS _loglen, t <> '' AND len(calls) = 0 AS _eligible, _keep
               FROM ({source}))"""


def pass2_sql(relation: str, line: str = "source_line") -> str:
    """SELECT over the pass-1 rows ``relation`` (a table name or a parenthesized query):
    length_z, below_p5, derived_stop, expected_derived, disagrees and alerts; the output
    columns in contract order, the ``_keep`` rows only. ``line``: the source_line
    expression (``rowid + 1`` over a table filled in input order from JSON lines)."""
    sr = "stop_reason"
    rules = [  # rules.py at edabd53, in table order
        ("truncated_json", f"{sr} IN ('length', 'context_window') AND coalesce(NOT json_valid, false)"),
        ("silent_truncation", f"{sr} = 'stop' AND truncated"),
        ("soft_refusal", f"{sr} = 'stop' AND refusal_hit AND coalesce(below_p5, output_chars < {SHORT_REFUSAL_CHARS})"),
        ("hidden_tool_call", f"{sr} IN ('stop', 'stop_sequence') AND tool_call_count > 0"),
        ("malformed_tool_args", f"{sr} = 'tool_call' AND coalesce(NOT tool_args_valid, false)"),
        ("empty_after_tool_result", f"{sr} = 'stop' AND coalesce(after_tool_result, false) AND coalesce(near_empty, empty)"),
        ("unhandled_pause_turn", f"{sr} = 'pause'"),
        ("refusal_flagged", f"{sr} IN ('refusal', 'content_filter') OR provider_refusal IS NOT NULL"),
    ]
    # the list is built only for the rows where some rule fires (most rows: [])
    any_rule = " OR ".join(f"coalesce({cond}, false)" for _, cond in rules)
    alerts = (
        f"CASE WHEN {any_rule} THEN list_filter(["
        + ", ".join(f"CASE WHEN {cond} THEN '{name}' END" for name, cond in rules)
        + "], lambda x: x IS NOT NULL) ELSE []::VARCHAR[] END"
    )
    expected = "CASE stop_reason " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in EXPECTED.items()) + " END"
    ident = ", ".join(f'"{c}"' for c in IDENTITY)
    return f"""
    SELECT {ident},
        stop_reason, output_chars, tool_call_count, output_tail, ends_terminal, ends_mid_word,
        ends_continuation_word, ends_open_punctuation, ending_class, unclosed_code_fence, bracket_imbalance,
        json_valid, json_error, tool_args_valid, tool_args_error, refusal_phrase, refusal_score,
        length_z, below_p5, at_token_cap, empty, near_empty, tool_calls_present, phantom_tool_use,
        truncation_cue, truncated, refusal_hit, derived_stop, expected_derived,
        CASE WHEN expected_derived IS NULL OR expected_derived = 'any' THEN false
             ELSE NOT list_contains(string_split(expected_derived, '|'), derived_stop) END AS disagrees,
        {alerts} AS alerts
    FROM (
        SELECT *,
            CASE WHEN empty THEN 'empty'
                 WHEN tool_calls_present AND coalesce(NOT tool_args_valid, false) THEN 'tool_call_malformed'
                 WHEN tool_calls_present THEN 'tool_call'
                 WHEN truncated THEN 'truncated'
                 WHEN coalesce(NOT json_valid, false) THEN 'invalid_json'
                 WHEN refusal_hit OR provider_refusal IS NOT NULL THEN 'refusal'
                 WHEN coalesce(below_p5, false) AND coalesce(length_z <= {SHORT_OUTLIER_Z}, false) THEN 'short_outlier'
                 ELSE 'complete' END AS derived_stop,
            {expected} AS expected_derived
        FROM (
            SELECT *,
                CASE WHEN ok AND st.std > 0 THEN (_loglen - st.mean) / st.std END AS length_z,
                CASE WHEN ok THEN _loglen < st.p5 END AS below_p5
            FROM (SELECT *, _eligible AND st.n >= {MIN_ROUTE_ROWS} AS ok
                  FROM (SELECT * REPLACE ({line} AS source_line), getvariable('route_stats')[route] AS st
                        FROM {relation} WHERE _keep))))"""


def _no_join(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise if the plan of ``sql`` has a join: DuckDB keeps the input order only for
    plans without one (the rows must come out in input order). Planning only, no data."""
    plan = "\n".join(r[1] for r in con.execute("EXPLAIN " + sql).fetchall())
    if "JOIN" in plan.upper():
        raise RuntimeError("the plan has a join, so DuckDB would not keep the row order:\n" + plan)


#: How each input kind is run (measured on the 1M-row inputs, see the module doc):
#: ``stream``: a pre-pass reads route / output_tokens / the text length for the length
#: statistics, then ONE pipeline reads the input, computes everything and writes Parquet
#: (no materialization; a Parquet re-read of three columns costs less than keeping ~40
#: columns of a million rows in a table). ``table``: pass 1 into a temporary table without
#: the text, statistics from it, pass 2 from it (for JSON lines, where parsing the input is
#: the dominant cost and must not happen twice).
STRATEGY = {"flat": "stream", "bodies": "table"}


def run(
    path: str,
    kind: str,
    out_dir: str,
    threads: int | None = None,
    verbose: bool = False,
    strategy: str | None = None,
    compression: str = "snappy",
    parquet_version: str = "V2",
    memory_limit: str | None = None,
) -> int:
    """Classify ``path`` (``kind`` "flat" or "bodies") with DuckDB; write
    ``out_dir/rows.parquet`` and ``out_dir/summary.parquet``; return the row count.
    ``threads``: DuckDB threads (default: every core). ``strategy``: "stream" or "table"
    (default :data:`STRATEGY` of the kind). ``compression`` / ``parquet_version``: of
    rows.parquet (DuckDB's default codec, snappy; format V2, whose encodings cost ~20% less
    CPU to write than V1 here and which Polars and pyarrow read). Raises ValueError for another kind or strategy, and
    whatever DuckDB raises for an unreadable input."""
    if kind not in STRATEGY:
        raise ValueError(f"kind must be 'flat' or 'bodies', not {kind!r}")
    strategy = strategy or STRATEGY[kind]
    if strategy not in ("stream", "table"):
        raise ValueError(f"strategy must be 'stream' or 'table', not {strategy!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows_path, summary_path = lit(str(out / "rows.parquet")), lit(str(out / "summary.parquet"))
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET TimeZone = 'UTC'")
        if memory_limit:
            con.execute(f"SET memory_limit = {lit(memory_limit)}")
        for m in macros():
            con.execute(m)
        phrases = signals.load_list("refusal_phrases.txt")
        words = signals.load_list("continuation_words.txt")
        # JSON lines are numbered by the pass-1 table's rowid (see source_bodies)
        number_rows = kind == "bodies" and strategy == "stream"
        source = source_flat(con, path) if kind == "flat" else source_bodies(path, line_numbers=number_rows)
        line = "rowid + 1" if kind == "bodies" and strategy == "table" else "source_line"
        pass1 = pass1_sql(source, phrases, words)
        copy_opts = f"(FORMAT parquet, COMPRESSION {compression}, PARQUET_VERSION {parquet_version})"
        if strategy == "stream":
            steps = [
                ("length stats pre-pass", stats_sql(light_sql(source))),
                ("signals + verdicts -> rows.parquet", f"COPY ({pass2_sql(f'({pass1})')}) TO {rows_path} {copy_opts}"),
            ]
        else:
            steps = [
                ("pass 1 (signals -> temp table)", "CREATE TEMP TABLE sig AS " + pass1),
                ("length stats", stats_sql("sig")),
                ("pass 2 (verdicts -> rows.parquet)", f"COPY ({pass2_sql('sig', line)}) TO {rows_path} {copy_opts}"),
            ]
        steps.append(
            ("summary", f"""COPY (SELECT route, stop_reason, derived_stop, count(*) AS count
                                  FROM read_parquet({rows_path}) GROUP BY ALL ORDER BY ALL)
                            TO {summary_path} (FORMAT parquet)""")
        )
        for name, sql in steps:
            if sql.lstrip().startswith(("COPY (", "CREATE")) and name != "summary":
                _no_join(con, sql)
            t0, c0 = time.perf_counter(), time.process_time()
            con.execute(sql)
            if verbose:
                print(f"  {name}: {time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU", file=sys.stderr)
        return con.execute(f"SELECT count(*) FROM read_parquet({rows_path})").fetchone()[0]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="flat Parquet or raw-body JSONL")
    ap.add_argument("--kind", choices=("flat", "bodies"), required=True)
    ap.add_argument("--out", required=True, help="output directory (rows.parquet, summary.parquet)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: every core)")
    ap.add_argument("--verbose", action="store_true", help="time each statement (stderr)")
    ap.add_argument("--strategy", choices=("stream", "table"), default=None, help="default: per kind (STRATEGY)")
    ap.add_argument("--compression", default="snappy", help="Parquet codec of rows.parquet (default snappy)")
    ap.add_argument("--parquet-version", default="V2", choices=("V1", "V2"), help="Parquet format of rows.parquet (default V2)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    n = run(args.input, args.kind, args.out, args.threads, args.verbose, args.strategy, args.compression, args.parquet_version)
    print(f"{n} rows in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
