"""Derived signals: one small function per signal, each returning a ``pl.Expr``.

Every function reads canonical columns (schema.CANONICAL) or columns made by an
earlier signal, named in its docstring. Source of the ideas: taxonomy.md §2 and the
seed articles it summarises. Thresholds are module constants, named and sourced.

The trailing-text signals look at the end of the text only (performance-notes.md:
"look at the end of the text, not at all of it"): :data:`TAIL_WINDOW` characters
are cut first, then trimmed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import orjson
import polars as pl

from .errors import ConfigError

#: Characters of evidence kept in ``output_tail`` (taxonomy.md §2.1: "last 32 characters").
TAIL_CHARS = 32
#: Characters cut from the end before trimming whitespace; enough for any realistic
#: trailing whitespace and for the last line of a paragraph.
TAIL_WINDOW = 400
#: Characters from the start searched for refusal phrases ("weighted toward the opening").
REFUSAL_HEAD = 600
#: A phrase found in the first REFUSAL_OPENING characters scores 1.0; later in the head 0.5.
REFUSAL_OPENING = 160
#: A phrase later in the text counts only when the whole answer is short (chars).
REFUSAL_SHORT_ANSWER = 700
#: A last line at least this long (chars) that ends in a letter/digit reads as prose cut
#: mid-sentence. Shorter last lines (verdicts, numbers, list items, headings) are not
#: flagged: real complete answers end that way (taxonomy.md §2 "Real data, seen").
PROSE_LINE_CHARS = 60
#: Minimum rows (non-empty, no tool calls) a route needs for a length distribution.
MIN_ROUTE_ROWS = 20
#: Output tokens at or below this count as near-empty (taxonomy.md §2: 0–3 tokens).
NEAR_EMPTY_TOKENS = 3
#: Characters per token for the length estimate when token counts are missing.
CHARS_PER_TOKEN = 4.0
#: length_z at or below this (with below_p5) makes a short outlier: ~2.3% of a normal.
SHORT_OUTLIER_Z = -2.0

TEXT = pl.col("output_text")

_CLOSER = r"""(?:[.!?…。！？"'”’»)\]}>*_~`|]|\p{So}|\p{Sk})$"""
_OPEN_PUNCT = r"[,;:(\[{\-–—/\\&+=]$"
#: Text that opens like a JSON object or array (not "{ADDRESS} is ..." or "[1] Smith").
_JSON_START = r'^(?:\{\s*(?:"|\})|\[\s*(?:[\[{"\]]|-?\d+(?:\.\d+)?\s*,|true\b|false\b|null\b))'
#: Body of a leading code fence up to its first closing fence; else (unclosed) to the end.
_FENCE_CLOSED = r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)```"
_FENCE_OPEN = r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*)$"


def _data_lines(name: str) -> list[str]:
    text = resources.files("stoptriage").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return _parse_lines(text)


def _parse_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line.replace("’", "'").lower())
    return out


def load_list(name: str, extra: list[str | Path] | None = None) -> tuple[str, ...]:
    """Shipped list ``data/<name>`` plus the lines of user files.

    Lines are lower-cased, curly apostrophes made straight, comments (``#``) and
    blank lines dropped. Raises ConfigError for an unreadable user file.
    """
    lines = _data_lines(name)
    for path in extra or []:
        try:
            lines.extend(_parse_lines(Path(path).read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read phrase file ({exc.strerror})") from None
    return tuple(dict.fromkeys(lines))


# ---------------------------------------------------------------- 1. trailing text

def trimmed_tail(n: int = TAIL_WINDOW) -> pl.Expr:
    """The last ``n`` chars of output_text, trailing whitespace removed (str)."""
    return TEXT.str.tail(n).str.strip_chars_end()


def output_tail() -> pl.Expr:
    """``output_tail`` (str): last 32 characters after trimming whitespace (evidence).

    Needs ``_tail`` (:func:`trimmed_tail`)."""
    # The concat forces a copy, so the full text buffers are not kept alive by a view
    # (performance-notes.md item 4).
    return pl.concat_str([pl.lit(""), pl.col("_tail").str.tail(TAIL_CHARS)])


def ends_terminal() -> pl.Expr:
    """``ends_terminal`` (bool): ends with a sentence/structure closer.

    Closers: . ! ? … (and CJK forms), closing quotes, ) ] } >, markdown emphasis
    ``*`` ``_`` ``~``, a backtick (closing code span or fence), a table pipe, or a
    symbol/emoji. Empty text -> false.
    """
    return pl.col("_tail").str.contains(_CLOSER).fill_null(False)


def ends_mid_word() -> pl.Expr:
    """``ends_mid_word`` (bool): last character is a letter or digit with no closer."""
    return pl.col("_tail").str.contains(r"[\p{L}\p{N}]$").fill_null(False)


def ends_open_punctuation() -> pl.Expr:
    """``ends_open_punctuation`` (bool): ends on , ; : ( [ { - – — / & + = (something was owed)."""
    return pl.col("_tail").str.contains(_OPEN_PUNCT).fill_null(False)


def last_word() -> pl.Expr:
    """Trailing word, lower-cased (str, null when the text does not end in a letter)."""
    return pl.col("_tail").str.replace_all("’", "'").str.extract(r"([\p{L}']+)$").str.to_lowercase()


def ends_continuation_word(words: tuple[str, ...]) -> pl.Expr:
    """``ends_continuation_word`` (bool): the last word is a continuation word.

    ``words``: the continuation list (data/continuation_words.txt, extendable).
    """
    return last_word().is_in(list(words)).fill_null(False)


def ending_class() -> pl.Expr:
    """``ending_class`` (str): closer | continuation_word | open_punctuation | mid_word | none.

    The last-word continuation proxy of taxonomy.md §2.5, for tracking its rate.
    Needs ends_terminal, ends_continuation_word, ends_open_punctuation, ends_mid_word.
    """
    return (
        pl.when(pl.col("ends_terminal")).then(pl.lit("closer"))
        .when(pl.col("ends_continuation_word")).then(pl.lit("continuation_word"))
        .when(pl.col("ends_open_punctuation")).then(pl.lit("open_punctuation"))
        .when(pl.col("ends_mid_word")).then(pl.lit("mid_word"))
        .otherwise(pl.lit("none"))
    )


def unclosed_code_fence() -> pl.Expr:
    """``unclosed_code_fence`` (bool): an odd number of ``` fences in output_text."""
    return (TEXT.str.count_matches("```", literal=True) % 2 == 1).fill_null(False)


def bracket_imbalance() -> pl.Expr:
    """``bracket_imbalance`` (bool): count of { and [ differs from count of } and ]."""
    opens = TEXT.str.count_matches(r"[\[{]")
    closes = TEXT.str.count_matches(r"[\]}]")
    return (opens != closes).fill_null(False)


def last_line_is_prose() -> pl.Expr:
    """Last line of the text is prose: >= PROSE_LINE_CHARS chars, not a list item,
    heading, table row or indented code (bool)."""
    line = pl.col("_tail").str.extract(r"([^\n]*)$")
    marker = line.str.contains(r"^\s*(?:[-*+•#>|]|\d+[.)]\s|    |\t)")
    return ((line.str.len_chars() >= PROSE_LINE_CHARS) & ~marker).fill_null(False)


# ---------------------------------------------------------------- 2. structured output

def json_candidate() -> pl.Expr:
    """Text to parse as JSON, or null when JSON validity does not apply (str).

    Applies when expects_json is true, or the trimmed text opens like a JSON object
    or array (``{"``, ``{}``, ``[{``, ``["``, ``[1,`` ...), or with a ```json fence,
    whose body up to the first closing fence is what is parsed (prose after the
    fence is not JSON; an unclosed fence gives everything after its first line).
    """
    stripped = TEXT.str.strip_chars()
    fenced = stripped.str.starts_with("```json") | stripped.str.starts_with("```JSON")
    looks = stripped.str.contains(_JSON_START) | fenced
    in_fence = pl.coalesce(stripped.str.extract(_FENCE_CLOSED), stripped.str.extract(_FENCE_OPEN))
    body = pl.when(fenced).then(in_fence).otherwise(stripped)
    return pl.when(pl.col("expects_json").fill_null(False) | looks).then(body)


def _json_batch(s: pl.Series) -> pl.Series:
    dtype = pl.Struct({"valid": pl.Boolean, "error": pl.String})
    idx = s.is_not_null().arg_true()
    out = []
    for text in s.gather(idx).to_list():
        try:
            orjson.loads(text)
            out.append({"valid": True, "error": None})
        except orjson.JSONDecodeError as exc:
            out.append({"valid": False, "error": str(exc)})
    return _scatter(s.len(), idx, pl.Series(out, dtype=dtype), dtype)


def _scatter(n: int, idx: pl.Series, values: pl.Series, dtype: pl.DataType) -> pl.Series:
    """A length-``n`` Series of nulls with ``values`` placed at positions ``idx``."""
    if values.len() == 0:
        return pl.Series(values=[None] * n, dtype=dtype)
    frame = pl.DataFrame({"i": idx, "v": values})
    return pl.DataFrame({"i": pl.arange(0, n, eager=True, dtype=idx.dtype)}).join(frame, on="i", how="left", maintain_order="left")["v"]


def json_check() -> pl.Expr:
    """struct{valid: bool, error: str} from orjson on ``_json_candidate`` (null = n/a).

    ``error`` is orjson's message with line, column and character offset. Per-row
    Python runs only inside orjson (map_batches).
    """
    return pl.col("_json_candidate").map_batches(
        _json_batch, return_dtype=pl.Struct({"valid": pl.Boolean, "error": pl.String})
    )


@lru_cache(maxsize=4096)
def _validator(schema_text: str):
    import jsonschema

    try:
        schema = orjson.loads(schema_text)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)
    except Exception:  # noqa: BLE001 - not a usable JSON Schema (e.g. Vertex enum numbers)
        return None


def _check_call(call: dict, schemas: dict[str, str]) -> str | None:
    name = call.get("name") or "?"
    args = call.get("arguments")
    if args is None:
        return f"{name}: no arguments"
    try:
        value = orjson.loads(args)
    except orjson.JSONDecodeError as exc:
        return f"{name}: arguments are not valid JSON ({exc})"
    schema_text = schemas.get(name)
    if schema_text:
        validator = _validator(schema_text)
        if validator is not None:
            err = next(iter(validator.iter_errors(value)), None)
            if err is not None:
                return f"{name}: {err.message}"
    return None


def _tool_args_batch(s: pl.Series) -> pl.Series:
    dtype = pl.Struct({"valid": pl.Boolean, "error": pl.String})
    idx = (s.struct.field("tool_calls").list.len().fill_null(0) > 0).arg_true()
    out = []
    for row in s.gather(idx).to_list():
        schemas = {d["name"]: d["schema"] for d in (row["tool_schemas"] or []) if d and d.get("name")}
        errors = [e for e in (_check_call(c, schemas) for c in row["tool_calls"]) if e]
        out.append({"valid": not errors, "error": "; ".join(errors) or None})
    return _scatter(s.len(), idx, pl.Series(out, dtype=dtype), dtype)


def tool_args_check() -> pl.Expr:
    """struct{valid, error}: every tool call's arguments parse (orjson) and validate
    against the request's tool JSON Schema when one is known (jsonschema).

    Input: tool_calls, tool_schemas. Null when there are no tool calls. A schema that
    is not valid JSON Schema is skipped (only parsing is checked).
    """
    return pl.struct("tool_calls", "tool_schemas").map_batches(
        _tool_args_batch, return_dtype=pl.Struct({"valid": pl.Boolean, "error": pl.String})
    )


# ---------------------------------------------------------------- 3. soft refusal

def _alternation(phrases: tuple[str, ...]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


def refusal_match(phrases: tuple[str, ...]) -> pl.Expr:
    """struct{phrase, pos}: first refusal phrase in the opening REFUSAL_HEAD chars.

    ``phrases``: data/refusal_phrases.txt plus user files; lines starting with ``!``
    are not-a-refusal phrases, blanked out before matching (so "I'm sorry to hear
    that" never matches "i'm sorry, but i"). Case-insensitive; ’ reads as '.
    """
    positive = tuple(p for p in phrases if not p.startswith("!"))
    negative = tuple(p[1:] for p in phrases if p.startswith("!"))
    head = TEXT.str.head(REFUSAL_HEAD).str.to_lowercase().str.replace_all("’", "'")
    if negative:
        head = head.str.replace_all(_alternation(negative), "~")
    if not positive:
        return pl.struct(pl.lit(None, dtype=pl.String).alias("phrase"), pl.lit(None, dtype=pl.UInt32).alias("pos"))
    pattern = _alternation(positive)
    return pl.struct(head.str.extract(f"({pattern})").alias("phrase"), head.str.find(pattern).alias("pos"))


def refusal_score() -> pl.Expr:
    """``refusal_score`` (f64 in [0, 1]): 1.0 for a phrase in the first
    REFUSAL_OPENING chars, 0.5 later in the head, 0 for none. Needs ``_refusal_pos``."""
    pos = pl.col("_refusal_pos")
    return pl.when(pos.is_null()).then(0.0).when(pos < REFUSAL_OPENING).then(1.0).otherwise(0.5)


def refusal_hit() -> pl.Expr:
    """``refusal_hit`` (bool): a phrase at the opening, or anywhere in the head of a
    short answer (< REFUSAL_SHORT_ANSWER chars). Long answers that only mention a
    limitation midway are compliance, not refusals."""
    return (pl.col("refusal_score") >= 1.0) | (
        (pl.col("refusal_score") > 0) & (pl.col("output_chars") < REFUSAL_SHORT_ANSWER)
    )


# ---------------------------------------------------------------- 4. length vs route

def log_length() -> pl.Expr:
    """log1p of the output length in tokens (output_tokens, else output_chars / 4) (f64)."""
    est = (pl.col("output_chars").cast(pl.Float64) / CHARS_PER_TOKEN).ceil()
    return pl.coalesce(pl.col("output_tokens").cast(pl.Float64), est).log1p()


def add_length_signals(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``length_z`` (f64) and ``below_p5`` (bool) per route.

    The distribution of log length is taken per route over rows with text and no
    tool calls, by a group-by joined back (streams, unlike ``over``:
    performance-notes.md item 2). Null for routes with fewer than MIN_ROUTE_ROWS
    such rows, for rows with tool calls, and for empty rows.
    """
    lf = lf.with_columns(log_length().alias("_loglen"))
    eligible = (pl.col("output_chars") > 0) & (pl.col("tool_call_count") == 0)
    stats = (
        lf.filter(eligible)
        .group_by("route")
        .agg(
            pl.len().alias("_route_n"),
            pl.col("_loglen").mean().alias("_route_mean"),
            pl.col("_loglen").std().alias("_route_std"),
            pl.col("_loglen").quantile(0.05, interpolation="linear").alias("_route_p5"),
        )
    )
    lf = lf.join(stats, on="route", how="left", maintain_order="left")
    ok = eligible & (pl.col("_route_n") >= MIN_ROUTE_ROWS)
    z = pl.when(ok & (pl.col("_route_std") > 0)).then((pl.col("_loglen") - pl.col("_route_mean")) / pl.col("_route_std"))
    return lf.with_columns(
        z.alias("length_z"),
        pl.when(ok).then(pl.col("_loglen") < pl.col("_route_p5")).alias("below_p5"),
    ).drop("_loglen", "_route_n", "_route_mean", "_route_std", "_route_p5")


# ---------------------------------------------------------------- 6. token cap and the rest

def at_token_cap() -> pl.Expr:
    """``at_token_cap`` (bool, null when either count is unknown): output_tokens >= max_tokens."""
    return pl.col("output_tokens") >= pl.col("max_tokens")


def is_empty() -> pl.Expr:
    """``empty`` (bool): no text (after trimming) and no tool calls."""
    return (TEXT.str.strip_chars().str.len_chars() == 0) & (pl.col("tool_call_count") == 0)


def near_empty() -> pl.Expr:
    """``near_empty`` (bool, null when output_tokens is unknown): 0–3 output tokens."""
    return pl.col("output_tokens") <= NEAR_EMPTY_TOKENS


def phantom_tool_use() -> pl.Expr:
    """``phantom_tool_use`` (bool): stop_reason says tool_call but there are no tool calls."""
    return (pl.col("stop_reason") == "tool_call") & (pl.col("tool_call_count") == 0)


def truncated() -> pl.Expr:
    """``truncated`` (bool): the text looks cut.

    Any of: continuation-word ending; open punctuation ending; an unclosed code
    fence; JSON applicable and brackets unbalanced; output at the token cap; or a
    text ending in a letter on a prose last line (taxonomy.md §3, with the mid-word
    rule narrowed to letters on prose lines because complete answers end in bare
    numbers, verdicts and list items). Empty text is never truncated (it is ``empty``).
    """
    text_cut = (
        pl.col("ends_continuation_word")
        | pl.col("ends_open_punctuation")
        | pl.col("unclosed_code_fence")
        | (pl.col("_json_candidate").is_not_null() & pl.col("bracket_imbalance"))
        | (pl.col("_tail").str.contains(r"\p{L}$").fill_null(False) & pl.col("_prose_last_line"))
    )
    return (pl.col("output_chars") > 0) & (text_cut | pl.col("at_token_cap").fill_null(False))

