#!/usr/bin/env python3
"""The plain Python peer of ``stoptriage.classify``: the per-row loop a competent engineer
writes with orjson, ``re``, dicts and ``statistics`` (pyarrow only reads Parquet and writes
the output). Benchmark only (issue 6): it is a loop over rows on purpose.

    python benchmarks/peers/python_peer.py INPUT --kind flat|bodies --out DIR

Interface used by benchmarks/bench_classify.py (the module is imported untimed, then
:func:`run` is timed)::

    run(path: str, kind: str, out_dir: str) -> int   # rows written

``kind``: ``flat`` (a Parquet table with stoptriage's canonical column names, as written by
benchmarks/generate.py --format flat) or ``bodies`` (JSON lines ``{"route", "timestamp",
"trace_id", "request", "response"}`` holding Anthropic Messages or OpenAI Chat Completions
bodies; other body shapes are counted and skipped). Writes:

* ``out_dir/rows.parquet``: one row per response, input order: the identity columns
  (source_line, trace_id, span_id, timestamp, route, provider, model, provider_stop_reason,
  output_tokens, max_tokens, expects_json, after_tool_result) then every column of
  ``stoptriage.taxonomy.SIGNAL_COLUMNS`` with the same meaning (enums as str, ``alerts`` a
  list of rule names in rules.py order; ``json_error`` / ``tool_args_error`` carry orjson's
  message, null exactly where stoptriage's are).
* ``out_dir/summary.parquet``: route, stop_reason, derived_stop, count (int64).

The spec is stoptriage at commit edabd53: signals.py, taxonomy.py, normalize.py, rules.py
(constants and rules are restated here; the phrase lists and the stop-reason table are read
from the same data files). Python's ``re`` has no ``\\p{..}`` classes: they are built once
from ``unicodedata`` at import. Polars' ``$`` (no multi-line flag) is the end of the text:
``\\Z`` here (Python's ``$`` also matches before a final newline). One quirk kept on
purpose: stoptriage's refusal ``pos`` is Polars ``str.find``, a BYTE offset into the
lower-cased head, so ``pos < REFUSAL_OPENING`` compares UTF-8 bytes, not characters.
Two passes: pass 1 computes every per-row signal and keeps the rows (without the text);
pass 2 needs the per-route length distribution (mean, stdev, linear 5th percentile).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import re
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parents[2] / "stoptriage" / "data"

# ---- constants (stoptriage/signals.py, rules.py, normalize.py, taxonomy.py at edabd53) ----
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
GEMINI_PROVIDERS = {"gemini", "google", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "vertexai", "vertex_ai"}
DETAIL_KEYS = {"stream_incomplete", "stream_error", "guardrail_intervened", "call_error", "span_error"}
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
EXPECTED_SETS = {k: set(v.split("|")) for k, v in EXPECTED.items()}


# ---- data files -------------------------------------------------------------------------
def _expand(line: str) -> list[str]:
    """``{a|b}`` groups -> one phrase per alternative (signals.expand)."""
    m = re.search(r"\{([^{}]*)\}", line)
    if m is None:
        return [line]
    head, tail = line[: m.start()], line[m.end():]
    return [p for alt in m.group(1).split("|") for p in _expand(head + alt + tail)]


def load_list(name: str) -> tuple[str, ...]:
    """A shipped phrase list as signals.load_list reads it: lower-cased, ’ -> ', expanded, deduplicated."""
    out: list[str] = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.extend(_expand(line.replace("’", "'").lower()))
    return tuple(dict.fromkeys(out))


def load_stop_table() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """data/stop_reasons.csv -> ({(provider, raw): stop_reason}, {raw: stop_reason} for provider ``*``)."""
    exact: dict[tuple[str, str], str] = {}
    generic: dict[str, str] = {}
    with open(DATA / "stop_reasons.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["provider"] == "*":
                generic.setdefault(row["raw"], row["stop_reason"])
            else:
                exact.setdefault((row["provider"], row["raw"]), row["stop_reason"])
    return exact, generic


PHRASES = load_list("refusal_phrases.txt")
CONTINUATION = frozenset(load_list("continuation_words.txt"))
STOP_EXACT, STOP_ANY = load_stop_table()


# ---- regular expressions ----------------------------------------------------------------
def _category_class(*prefixes: str) -> str:
    """Body of a character class holding every code point whose Unicode category starts
    with one of ``prefixes`` (``\\p{L}`` -> ``_category_class("L")``)."""
    parts, start, prev = [], None, None
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith(prefixes):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            parts.append(re.escape(chr(start)) if start == prev else f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = None
    if start is not None:
        parts.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
    return "".join(parts)


L = _category_class("L")  # \p{L}
N = _category_class("N")  # \p{N}
LU = _category_class("Lu")  # \p{Lu}


def _trie_regex(phrases: tuple[str, ...]) -> str:
    """An alternation of ``phrases`` factored into a character trie: at every position the
    regex engine follows one branch instead of trying each phrase (a 215-phrase plain
    alternation costs ~85 us per 600-char head in ``re``). All phrases that match at one
    position lie on one trie path and the greedy branches try the longer one first, so the
    match is the longest phrase, as signals.refusal_match's length-sorted alternation gives."""
    trie: dict = {}
    for p in phrases:
        node = trie
        for ch in p:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in node.items() if ch]
        if not branches:
            return ""
        if end:  # the phrase may stop here: the longer branches are optional (greedy)
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return walk(trie)


_POSITIVE = tuple(p for p in PHRASES if p[:1] not in ("!", "~"))
_NEGATIVE = tuple(p[1:] for p in PHRASES if p.startswith("!"))
_ANSWER = tuple(p[1:] for p in PHRASES if p.startswith("~"))
REFUSAL_RE = re.compile(rf"\b(?:{_trie_regex(_POSITIVE)})") if _POSITIVE else None
NOT_REFUSAL_RE = re.compile(rf"\b(?:{_trie_regex(_NEGATIVE)})") if _NEGATIVE else None
ANSWER_RE = re.compile(rf"\b(?:{_trie_regex(_ANSWER)})") if _ANSWER else None
QUOTED_RE = re.compile(r'["“][^"“”\n]{0,300}["”]')

CLOSERS = frozenset('.!?…。！？"\'”’»)]}>*_~`|')
OPEN_PUNCT = frozenset(",;:([{-–—/\\&+=")
SENTENCE_END = frozenset(".!?…。！？")
MARKER = r"(?:[-*+•]|\d{1,3}[.)])"
LIST_ITEM = rf"^\s*{MARKER}\s"
LIST_ITEM_RE = re.compile(LIST_ITEM)
STRUCTURED_LINE_RE = re.compile(r"^\s*(?:#|>|\|)|^(?:    |\t)\s*(?:[^-*+•\d\s]|\d+[^.)\d])")
PROSE_ITEM_RE = re.compile(rf"{LIST_ITEM}.*[.!?]\s+\S|^.{{100,}}\Z")
SIGN_OFF_RE = re.compile(rf"(?m)^[^\n]{{1,30}},[ \t]*\n[ \t]*[{LU}]\S*(?:[ \t]+[{LU}]\S*){{0,2}}\Z")
LABEL_VALUE_RE = re.compile(rf"^\s*[{L}{N} _*-]{{1,40}}:\**\s*\S+(?:\s+\S+)?\Z")
LINK_END_RE = re.compile(r"(?:^|\s)(?:\S*://|www\.|[^\s<]*/[^\s/]*/)\S*\Z")
LETTER_APOSTROPHE_END_RE = re.compile(rf"(?:^|[^\s'])[^\s']*[{L}]'\Z")
WORD_AFTER_OPEN_LINE_RE = re.compile(rf"(?m)^(?:[^#\n][^\n]*)?[{L},][ \t]*\n(?:[ \t]*\n)*[ \t]*[{L}'’-]+\Z")
WORD_RE = re.compile(rf"\S*[{L}]\S*")
SOME_PUNCT_RE = re.compile(r"[.!?:;,…。！？]")
PUNCT_ITEM_RE = re.compile(rf"(?m){LIST_ITEM}[^\n]*[.!?][)\]\"'”’*_]*[ \t]*$")
BARE_ITEM_RE = re.compile(rf"(?m){LIST_ITEM}[^\n]*[{L}{N}][ \t]*$")
EMPHASIS_OPEN_RE = re.compile(r"(?:^|\s)\*[^\s*][^*]*\Z")
HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s|\Z)")
BOLD_LABEL_RE = re.compile(r":\s*[*_]{1,2}\Z")
BARE_MARKER_RE = re.compile(rf"^\s*{MARKER}\s*\Z")
TABLE_ROW_RE = re.compile(r"^\s*\|")
TABLE_ROW_CLOSED_RE = re.compile(r"\|\s*\Z")
TABLE_RULE_RE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*\Z")
LINK_TEXT_RE = re.compile(r"\[[^\]\d][^\]]*\]\Z")
JSON_START_RE = re.compile(r'^(?:\{\s*(?:"|\})|\[\s*(?:[\[{"\]]|-?\d+(?:\.\d+)?\s*,|true\b|false\b|null\b))')
FENCE_CLOSED_RE = re.compile(r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)```")
FENCE_OPEN_RE = re.compile(r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*)\Z")


# ---- per-row signals (signals.py) -------------------------------------------------------
def _ends_with_letter(s: str) -> bool:
    return bool(s) and unicodedata.category(s[-1])[0] == "L"


def ending_signals(tail: str) -> tuple[bool, bool, bool, bool]:
    """(ends_terminal, ends_mid_word, ends_open_punctuation, ends_continuation_word) of the trimmed tail."""
    if not tail:
        return False, False, False, False
    last = tail[-1]
    cat = unicodedata.category(last)
    terminal = last in CLOSERS or cat in ("So", "Sk")
    mid_word = cat[0] in "LN"
    open_punct = last in OPEN_PUNCT
    continuation = False
    if cat[0] == "L" or last in "'’":
        # The trailing run of letters and apostrophes (signals.last_word), read backwards.
        start = len(tail)
        while start and (tail[start - 1] in "'’" or unicodedata.category(tail[start - 1])[0] == "L"):
            start -= 1
        continuation = tail[start:].replace("’", "'").lower() in CONTINUATION
    return terminal, mid_word, open_punct, continuation


def open_markup(tail: str, line: str, chars: int) -> bool:
    """signals.open_markup: the last line opened a span it did not close."""
    if (tail and tail[-1] in SENTENCE_END) or not ("\n" in tail or chars <= TAIL_WINDOW):
        return False
    return (
        line.count("**") % 2 == 1
        or (line.count("`") - 3 * line.count("```")) % 2 == 1
        or line.count("(") > line.count(")")
        or line.count("[") > line.count("]")
        or line.count("“") > line.count("”")
        or line.count('"') % 2 == 1
        or EMPHASIS_OPEN_RE.search(line) is not None
    )


def dangling_structure(text: str, tail: str, line: str) -> bool:
    """signals.dangling_structure: a heading, bold label, bare marker, open table row, ... at the end."""
    return bool(
        HEADING_RE.search(line)
        or BOLD_LABEL_RE.search(line)
        or BARE_MARKER_RE.search(line)
        or (TABLE_ROW_RE.search(line) and not TABLE_ROW_CLOSED_RE.search(line))
        or TABLE_RULE_RE.search(line)
        or tail.endswith("</thinking>")
        or (LINK_TEXT_RE.search(line) and "](" in text)
    )


def cut_list_item(tail: str, line: str) -> bool:
    """signals.cut_list_item: a list whose items end in . ! ? stops on an item ending in a letter/digit."""
    if not tail or unicodedata.category(tail[-1])[0] not in "LN" or not LIST_ITEM_RE.search(line):
        return False
    punct = len(PUNCT_ITEM_RE.findall(tail))
    bare = len(BARE_ITEM_RE.findall(tail)) - 1
    return punct >= 1 and punct >= bare


def cut_mid_sentence(tail: str, line: str) -> bool:
    """signals.cut_mid_sentence: running text that stops on a letter."""
    # _LETTER_END: a letter at the end, or a letter + apostrophe with no opening quote.
    if not (_ends_with_letter(tail) or (tail.endswith("'") and LETTER_APOSTROPHE_END_RE.search(tail))):
        return False
    item = LIST_ITEM_RE.search(line) is not None
    words = len(WORD_RE.findall(line))
    if words == 1:
        hit = WORD_AFTER_OPEN_LINE_RE.search(tail) is not None
    else:
        hit = (
            words >= 2
            and not STRUCTURED_LINE_RE.search(line)
            and (not item or PROSE_ITEM_RE.search(line) is not None)
            and (words >= 6 or SOME_PUNCT_RE.search(tail[:-1]) is not None)
            and not LABEL_VALUE_RE.search(line)
            and not LINK_END_RE.search(line)
        )
    return hit and not SIGN_OFF_RE.search(tail)


def json_candidate(text: str, expects_json: bool | None) -> str | None:
    """signals.json_candidate: the text to parse as JSON, or None when JSON does not apply."""
    stripped = text.strip()
    fenced = stripped.startswith(("```json", "```JSON"))
    if not (expects_json or fenced or JSON_START_RE.search(stripped)):
        return None
    if not fenced:
        return stripped
    m = FENCE_CLOSED_RE.search(stripped) or FENCE_OPEN_RE.search(stripped)
    return m.group(1) if m else None


def refusal(text: str) -> tuple[str | None, float]:
    """signals.refusal_match + refusal_score: (refusal_phrase, refusal_score)."""
    head = text.lstrip()[:REFUSAL_HEAD].lower().replace("’", "'")
    head = QUOTED_RE.sub("~", head)
    if NOT_REFUSAL_RE is not None:
        head = NOT_REFUSAL_RE.sub("~", head)
    m = REFUSAL_RE.search(head) if REFUSAL_RE is not None else None
    if m is None:
        return None, 0.0
    if ANSWER_RE is not None and ANSWER_RE.search(head[:ANSWER_OPENING]):
        return None, 0.0
    pos = len(head[: m.start()].encode("utf-8"))  # Polars str.find: a byte offset
    return m.group(0), (1.0 if pos < REFUSAL_OPENING else 0.5)


def check_tool_calls(calls: list[tuple[str | None, object]], schemas: dict[str, object]) -> tuple[bool | None, str | None]:
    """signals.tool_args_check: (tool_args_valid, tool_args_error); (None, None) without calls.

    ``calls``: (name, arguments) with arguments as JSON text, or an already decoded value
    (Anthropic ``input``), or None. ``schemas``: tool name -> JSON Schema (decoded)."""
    if not calls:
        return None, None
    errors = []
    for name, args in calls:
        name = name or "?"
        if args is None:
            errors.append(f"{name}: no arguments")
            continue
        if isinstance(args, str):
            try:
                args = orjson.loads(args)
            except orjson.JSONDecodeError as exc:
                errors.append(f"{name}: arguments are not valid JSON ({exc})")
                continue
        schema = schemas.get(name)
        if schema:
            err = _schema_error(schema, args)
            if err:
                errors.append(f"{name}: {err}")
    return not errors, "; ".join(errors) or None


_VALIDATORS: dict[bytes, object] = {}


def _schema_error(schema: object, value: object) -> str | None:
    import jsonschema  # only when a request defines tools with schemas

    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    if key not in _VALIDATORS:
        try:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            _VALIDATORS[key] = cls(schema)
        except Exception:  # noqa: BLE001 - not a usable JSON Schema: only parsing is checked
            _VALIDATORS[key] = None
    validator = _VALIDATORS[key]
    if validator is None:
        return None
    err = next(iter(validator.iter_errors(value)), None)
    return err.message if err is not None else None


def normalize_stop(raw: str | None, detail: str | None, provider: str | None, has_calls: bool) -> str:
    """normalize.stop_key + add_stop_reason: the normalized stop_reason."""
    if has_calls and (
        raw in ("completed", "STOP", "1")
        or (raw == "stop" and (provider in GEMINI_PROVIDERS or provider == "ollama"))
        or (raw == "COMPLETE" and provider == "cohere")
    ):
        key = raw + "+tool_calls"
    elif raw == "incomplete" and detail is not None:
        key = f"{raw}:{detail}"
    elif raw is None and detail in DETAIL_KEYS:
        key = detail
    elif raw is None and detail is not None and provider in GEMINI_PROVIDERS:
        key = "prompt_blocked"
    else:
        key = raw
    if key is None:
        return "unknown"
    return STOP_EXACT.get((provider, key)) or STOP_ANY.get(key) or "other"


# ---- one row: pass 1 ---------------------------------------------------------------------
IDENTITY = (
    "source_line", "trace_id", "span_id", "timestamp", "route", "provider", "model",
    "provider_stop_reason", "output_tokens", "max_tokens", "expects_json", "after_tool_result",
)  # fmt: skip


def classify_row(row: dict) -> dict:
    """Every signal of taxonomy.classify_frame that needs no other row.

    Input: a canonical row (dict): the IDENTITY keys plus output_text (str), tool_calls
    (list of (name, arguments)), tool_schemas ({name: schema}), stop_detail,
    provider_refusal. Output: the same dict without the text, plus the signal keys and the
    internal ``_loglen`` (float), ``_eligible`` (bool), ``_provider_refusal``."""
    text = row.pop("output_text") or ""
    calls = row.pop("tool_calls")
    schemas = row.pop("tool_schemas")
    row["_provider_refusal"] = row.pop("provider_refusal")
    out_tok, max_tok = row["output_tokens"], row["max_tokens"]
    n_calls = len(calls)
    stop_reason = normalize_stop(row["provider_stop_reason"], row.pop("stop_detail"), row["provider"], n_calls > 0)
    chars = len(text)
    tail = text[-TAIL_WINDOW:].rstrip()
    line = tail[tail.rfind("\n") + 1:]
    terminal, mid_word, open_punct, continuation = ending_signals(tail)
    if terminal:
        ending = "closer"
    elif continuation:
        ending = "continuation_word"
    elif open_punct:
        ending = "open_punctuation"
    elif mid_word:
        ending = "mid_word"
    else:
        ending = "none"
    fence_open = text.count("```") % 2 == 1
    imbalance = text.count("[") + text.count("{") != text.count("]") + text.count("}")
    candidate = json_candidate(text, row["expects_json"])
    json_valid = json_error = None
    if candidate is not None:
        try:
            orjson.loads(candidate)
            json_valid = True
        except orjson.JSONDecodeError as exc:
            json_valid, json_error = False, str(exc)
    tool_valid, tool_error = check_tool_calls(calls, schemas)
    phrase, score = refusal(text)
    at_cap = out_tok >= max_tok if out_tok is not None and max_tok is not None else None

    cue = None
    if chars > 0:
        if at_cap:
            cue = "token_cap"
        elif fence_open:
            cue = "unclosed_code_fence"
        elif candidate is not None and imbalance:
            cue = "json_unbalanced"
        elif open_punct:
            cue = "open_punctuation"
        elif continuation:
            cue = "continuation_word"
        elif open_markup(tail, line, chars):
            cue = "open_markup"
        elif dangling_structure(text, tail, line):
            cue = "dangling_structure"
        elif cut_list_item(tail, line):
            cue = "cut_list_item"
        elif cut_mid_sentence(tail, line):
            cue = "cut_mid_sentence"

    row["route"] = row["route"] if row["route"] is not None else "unknown"
    row.update(
        stop_reason=stop_reason,
        output_chars=chars,
        tool_call_count=n_calls,
        output_tail=tail[-TAIL_CHARS:],
        ends_terminal=terminal,
        ends_mid_word=mid_word,
        ends_continuation_word=continuation,
        ends_open_punctuation=open_punct,
        ending_class=ending,
        unclosed_code_fence=fence_open,
        bracket_imbalance=imbalance,
        json_valid=json_valid,
        json_error=json_error,
        tool_args_valid=tool_valid,
        tool_args_error=tool_error,
        refusal_phrase=phrase,
        refusal_score=score,
        at_token_cap=at_cap,
        empty=n_calls == 0 and (not text or text.isspace()),
        near_empty=out_tok <= NEAR_EMPTY_TOKENS if out_tok is not None else None,
        tool_calls_present=n_calls > 0,
        phantom_tool_use=stop_reason == "tool_call" and n_calls == 0,
        truncation_cue=cue,
        truncated=cue is not None,
        refusal_hit=score >= 1.0,
        _loglen=math.log1p(out_tok if out_tok is not None else math.ceil(chars / CHARS_PER_TOKEN)),
        _eligible=chars > 0 and n_calls == 0,
    )
    return row


# ---- one row: pass 2 ---------------------------------------------------------------------
def finish_row(row: dict, stats: dict[str, tuple[float, float, float]]) -> None:
    """length_z, below_p5, derived_stop, expected_derived, disagrees, alerts (in place).

    ``stats``: route -> (mean, stdev, p5) of the log length, for routes with at least
    MIN_ROUTE_ROWS eligible rows (signals.add_length_signals)."""
    loglen = row.pop("_loglen")
    route_stats = stats.get(row["route"]) if row.pop("_eligible") else None
    z = below = None
    if route_stats is not None:
        mean, std, p5 = route_stats
        if std > 0:
            z = (loglen - mean) / std
        below = loglen < p5
    provider_refusal = row.pop("_provider_refusal")
    sr = row["stop_reason"]
    if row["empty"]:
        derived = "empty"
    elif row["tool_calls_present"] and row["tool_args_valid"] is False:
        derived = "tool_call_malformed"
    elif row["tool_calls_present"]:
        derived = "tool_call"
    elif row["truncated"]:
        derived = "truncated"
    elif row["json_valid"] is False:
        derived = "invalid_json"
    elif row["refusal_hit"] or provider_refusal is not None:
        derived = "refusal"
    elif below and z is not None and z <= SHORT_OUTLIER_Z:
        derived = "short_outlier"
    else:
        derived = "complete"
    expected = EXPECTED.get(sr)

    alerts = []
    if sr in ("length", "context_window") and row["json_valid"] is False:
        alerts.append("truncated_json")
    if sr == "stop" and row["truncated"]:
        alerts.append("silent_truncation")
    if sr == "stop" and row["refusal_hit"] and (below if below is not None else row["output_chars"] < SHORT_REFUSAL_CHARS):
        alerts.append("soft_refusal")
    if sr in ("stop", "stop_sequence") and row["tool_call_count"] > 0:
        alerts.append("hidden_tool_call")
    if sr == "tool_call" and row["tool_args_valid"] is False:
        alerts.append("malformed_tool_args")
    if sr == "stop" and row["after_tool_result"] and (row["near_empty"] if row["near_empty"] is not None else row["empty"]):
        alerts.append("empty_after_tool_result")
    if sr == "pause":
        alerts.append("unhandled_pause_turn")
    if sr in ("refusal", "content_filter") or provider_refusal is not None:
        alerts.append("refusal_flagged")

    row.update(
        length_z=z,
        below_p5=below,
        derived_stop=derived,
        expected_derived=expected,
        disagrees=expected is not None and expected != "any" and derived not in EXPECTED_SETS[sr],
        alerts=alerts,
    )


# ---- readers -----------------------------------------------------------------------------
FLAT_COLUMNS = (
    "trace_id", "span_id", "timestamp", "route", "provider", "model", "provider_stop_reason", "stop_detail",
    "provider_refusal", "output_text", "tool_calls", "tool_schemas", "output_tokens", "max_tokens",
    "expects_json", "after_tool_result",
)  # fmt: skip


def _schema_map(defs: list | None) -> dict[str, object]:
    """Tool definitions [{name, schema (JSON text)}] -> {name: decoded schema} (undecodable ones skipped)."""
    out = {}
    for d in defs or []:
        if d and d.get("name") and d.get("schema"):
            try:
                out[d["name"]] = orjson.loads(d["schema"])
            except orjson.JSONDecodeError:
                pass
    return out


def read_flat(path: str):
    """Canonical rows of a flat Parquet table; source_line is the 0-based row index."""
    pf = pq.ParquetFile(path)
    present = set(pf.schema_arrow.names)
    columns = [c for c in FLAT_COLUMNS if c in present]
    index = 0
    for batch in pf.iter_batches(batch_size=65_536, columns=columns):
        for row in batch.to_pylist():
            calls = row.get("tool_calls") or []
            yield {
                "source_line": index,
                "trace_id": row.get("trace_id"),
                "span_id": row.get("span_id"),
                "timestamp": row.get("timestamp"),
                "route": row.get("route"),
                "provider": row.get("provider"),
                "model": row.get("model"),
                "provider_stop_reason": row.get("provider_stop_reason"),
                "output_tokens": row.get("output_tokens"),
                "max_tokens": row.get("max_tokens"),
                "expects_json": row.get("expects_json"),
                "after_tool_result": row.get("after_tool_result"),
                "output_text": row["output_text"],
                "tool_calls": [(c["name"], c["arguments"]) for c in calls],
                "tool_schemas": _schema_map(row.get("tool_schemas")),
                "stop_detail": row.get("stop_detail"),
                "provider_refusal": row.get("provider_refusal"),
            }
            index += 1


def _int(v) -> int | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _cap(*values) -> int | None:
    """First present token cap; a cap <= 0 is no cap (bodies.extract_api)."""
    for v in values:
        n = _int(v)
        if n is not None:
            return n if n > 0 else None
    return None


def _parse_time(value) -> dt.datetime | None:
    """Wrapper timestamp (ISO 8601, ``Z`` or an offset, or naive = UTC) -> aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def _stop_text(v) -> str | None:
    return v if isinstance(v, str) or v is None else orjson.dumps(v).decode()


def _anthropic(body: dict, req: dict | None) -> dict:
    """Anthropic Messages body (+ request) -> canonical fields (bodies.SPECS anthropic_messages)."""
    content = body.get("content") or []
    text = "".join(b.get("text") or "" for b in content if b.get("type") == "text")
    calls = [(b.get("name"), b.get("input")) for b in content if b.get("type") == "tool_use"]
    usage = body.get("usage") or {}
    out = {
        "provider": "anthropic",
        "model": body.get("model") or (req or {}).get("model"),
        "provider_stop_reason": _stop_text(body.get("stop_reason")),
        "stop_detail": (body.get("stop_details") or {}).get("category"),
        "provider_refusal": None,
        "output_text": text,
        "tool_calls": calls,
        "output_tokens": _int(usage.get("output_tokens")),
        "timestamp": None,
        "max_tokens": None,
        "expects_json": None,
        "after_tool_result": None,
        "tool_schemas": {},
    }
    if req is not None:
        last = (req.get("messages") or [None])[-1] or {}
        blocks = last.get("content")
        out["max_tokens"] = _cap(req.get("max_tokens"))
        out["expects_json"] = (req.get("output_config") or {}).get("format") is not None or req.get("output_format") is not None
        out["after_tool_result"] = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks)
        out["tool_schemas"] = {t["name"]: t.get("input_schema") for t in req.get("tools") or [] if t.get("name")}
    return out


def _openai(body: dict, req: dict | None) -> dict:
    """OpenAI Chat Completions body (+ request) -> canonical fields (bodies.SPECS openai_chat)."""
    choice = (body.get("choices") or [{}])[0]
    msg = choice.get("message") or {}
    content = msg.get("content")
    calls = [((c.get("function") or {}).get("name"), (c.get("function") or {}).get("arguments")) for c in msg.get("tool_calls") or []]
    if (msg.get("function_call") or {}).get("name"):
        calls.append((msg["function_call"]["name"], msg["function_call"].get("arguments")))
    created = _int(body.get("created"))
    if created is not None and created > 10**11:
        created //= 1000
    out = {
        "provider": "openai",
        "model": body.get("model") or (req or {}).get("model"),
        "provider_stop_reason": _stop_text(choice.get("finish_reason")),
        "stop_detail": None,
        "provider_refusal": msg.get("refusal"),
        "output_text": content if isinstance(content, str) else ("" if content is None else orjson.dumps(content).decode()),
        "tool_calls": calls,
        "output_tokens": _int((body.get("usage") or {}).get("completion_tokens")),
        "timestamp": dt.datetime.fromtimestamp(created, dt.timezone.utc) if created is not None else None,
        "max_tokens": None,
        "expects_json": None,
        "after_tool_result": None,
        "tool_schemas": {},
    }
    if req is not None:
        last = (req.get("messages") or [None])[-1] or {}
        out["max_tokens"] = _cap(req.get("max_completion_tokens"), req.get("max_tokens"))
        out["expects_json"] = (req.get("response_format") or {}).get("type") in ("json_object", "json_schema")
        out["after_tool_result"] = last.get("role") in ("tool", "function")
        schemas = {}
        for t in req.get("tools") or []:
            f = t.get("function") or {}
            if f.get("name"):
                schemas[f["name"]] = f.get("parameters")
        out["tool_schemas"] = schemas
    return out


def read_bodies(path: str, skipped: Counter):
    """Canonical rows of wrapped (or bare) Anthropic Messages / OpenAI Chat bodies, one per
    JSON line; source_line is the 1-based line. Other lines are counted in ``skipped``."""
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                skipped["malformed JSON"] += 1
                continue
            wrapped = isinstance(rec.get("response"), dict)
            body = rec["response"] if wrapped else rec
            req = rec.get("request") if wrapped and isinstance(rec.get("request"), dict) else None
            if body.get("object") == "chat.completion" or (body.get("object") is None and isinstance((body.get("choices") or [None])[0], dict) and "message" in body["choices"][0]):
                row = _openai(body, req)
            elif body.get("type") == "message":
                row = _anthropic(body, req)
            else:
                skipped["body shape not read by this peer"] += 1
                continue
            w = rec if wrapped else {}
            row["source_line"] = lineno
            row["route"] = w.get("route")
            row["trace_id"] = w.get("trace_id")
            row["span_id"] = w.get("span_id")
            if row["timestamp"] is None:
                row["timestamp"] = _parse_time(w.get("timestamp"))
            yield row


# ---- the job -----------------------------------------------------------------------------
S, B, F = pa.string(), pa.bool_(), pa.float64()
ROWS_SCHEMA = pa.schema(
    [
        ("source_line", pa.int64()), ("trace_id", S), ("span_id", S), ("timestamp", pa.timestamp("us", tz="UTC")),
        ("route", S), ("provider", S), ("model", S), ("provider_stop_reason", S), ("output_tokens", pa.int64()),
        ("max_tokens", pa.int64()), ("expects_json", B), ("after_tool_result", B),
        ("stop_reason", S), ("output_chars", pa.uint32()), ("tool_call_count", pa.uint32()), ("output_tail", S),
        ("ends_terminal", B), ("ends_mid_word", B), ("ends_continuation_word", B), ("ends_open_punctuation", B),
        ("ending_class", S), ("unclosed_code_fence", B), ("bracket_imbalance", B), ("json_valid", B), ("json_error", S),
        ("tool_args_valid", B), ("tool_args_error", S), ("refusal_phrase", S), ("refusal_score", F), ("length_z", F),
        ("below_p5", B), ("at_token_cap", B), ("empty", B), ("near_empty", B), ("tool_calls_present", B),
        ("phantom_tool_use", B), ("truncation_cue", S), ("truncated", B), ("refusal_hit", B), ("derived_stop", S),
        ("expected_derived", S), ("disagrees", B), ("alerts", pa.list_(S)),
    ]
)  # fmt: skip
SUMMARY_SCHEMA = pa.schema([("route", S), ("stop_reason", S), ("derived_stop", S), ("count", pa.int64())])
WRITE_CHUNK = 100_000


def quantile_linear(values: list[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between the two closest ranks (Polars
    ``quantile(q, interpolation="linear")``, numpy's default), computed as Polars does:
    index (n - 1) * q, then lower + (upper - lower) * fraction.

    ``statistics.quantiles(values, n=20, method="inclusive")[0]`` is the same quantity but
    computed as (lower * (n - d) + upper * d) / n, which is an ulp off when the two ranks
    hold the same value; log lengths of integer token counts tie all the time, and
    ``below_p5`` (log length < p5) then flips for every row sitting exactly on p5."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lower = math.floor(pos)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (pos - lower)


def route_stats(loglens: dict[str, list[float]]) -> dict[str, tuple[float, float, float]]:
    """route -> (mean, stdev, linear 5th percentile) of the log length, for routes with at
    least MIN_ROUTE_ROWS eligible rows (the others get no length signals)."""
    stats = {}
    for route, values in loglens.items():
        if len(values) >= MIN_ROUTE_ROWS:
            stats[route] = (statistics.fmean(values), statistics.stdev(values), quantile_linear(values, 0.05))
    return stats


def run(path: str, kind: str, out_dir: str) -> int:
    """Classify ``path`` (``kind`` flat | bodies) into out_dir/rows.parquet and
    out_dir/summary.parquet; return the number of rows written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    skipped: Counter = Counter()
    reader = read_flat(path) if kind == "flat" else read_bodies(path, skipped)

    # Pass 1: per-row signals; the log length of eligible rows collected per route.
    rows: list[dict] = []
    loglens: dict[str, list[float]] = defaultdict(list)
    for raw in reader:
        row = classify_row(raw)
        if row["_eligible"]:
            loglens[row["route"]].append(row["_loglen"])
        rows.append(row)
    stats = route_stats(loglens)

    # Pass 2: length signals, labels, alerts; written in chunks.
    summary: Counter = Counter()
    with pq.ParquetWriter(out / "rows.parquet", ROWS_SCHEMA) as writer:
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            for row in chunk:
                finish_row(row, stats)
                summary[(row["route"], row["stop_reason"], row["derived_stop"])] += 1
            writer.write_table(pa.Table.from_pylist(chunk, schema=ROWS_SCHEMA))
            rows[start : start + WRITE_CHUNK] = [None] * len(chunk)  # let the written rows go
    keys = sorted(summary)
    pq.write_table(
        pa.table(
            {
                "route": [k[0] for k in keys],
                "stop_reason": [k[1] for k in keys],
                "derived_stop": [k[2] for k in keys],
                "count": [summary[k] for k in keys],
            },
            schema=SUMMARY_SCHEMA,
        ),
        out / "summary.parquet",
    )
    if skipped:
        print(f"python_peer: skipped lines: {dict(skipped)}", file=sys.stderr)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("--kind", choices=("flat", "bodies"), required=True)
    ap.add_argument("--out", required=True, help="output directory (rows.parquet, summary.parquet)")
    args = ap.parse_args(argv)
    import time

    t0 = time.perf_counter()
    n = run(args.input, args.kind, args.out)
    print(f"{n:,} rows in {time.perf_counter() - t0:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
