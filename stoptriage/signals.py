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
from .ingest.jsonl import gc_paused
from .normalize import position_in

#: Characters of evidence kept in ``output_tail`` (taxonomy.md §2.1: "last 32 characters").
TAIL_CHARS = 32
#: Characters cut from the end before trimming whitespace; enough for any realistic
#: trailing whitespace and for the last line of a paragraph.
TAIL_WINDOW = 400
#: Characters from the start searched for refusal phrases (the evidence column shows a
#: phrase found anywhere here).
REFUSAL_HEAD = 600
#: A refusal phrase counts (refusal_score 1.0, refusal_hit) only in the first
#: REFUSAL_OPENING characters ("weighted toward the opening", taxonomy.md §2.3); later
#: in the head it scores 0.5 and is not a hit. 250 was the best F1 on the tune part of
#: benchmarks/accuracy.py (160: recall 0.913, 250: 0.922, 350: precision 0.986 vs 0.989).
REFUSAL_OPENING = 250
#: Answer phrases (``~`` lines) count in the first ANSWER_OPENING chars: the sentence
#: after a decline ("I can't ... However, I can suggest ...").
ANSWER_OPENING = 250
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
#: Last characters that leave something owed (ends_open_punctuation).
_OPEN_PUNCT = (",", ";", ":", "(", "[", "{", "-", "–", "—", "/", "\\", "&", "+", "=")
#: Text that opens like a JSON object or array (not "{ADDRESS} is ..." or "[1] Smith").
_JSON_START = r'^(?:\{\s*(?:"|\})|\[\s*(?:[\[{"\]]|-?\d+(?:\.\d+)?\s*,|true\b|false\b|null\b))'
#: Body of a leading code fence up to its first closing fence; else (unclosed) to the end.
_FENCE_BODY = r"(?s)^```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)(?:```|$)"


def _data_lines(name: str) -> list[str]:
    text = resources.files("stoptriage").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return _parse_lines(text)


def _parse_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.extend(expand(line.replace("’", "'").lower()))
    return out


def expand(line: str) -> list[str]:
    """Every phrase a list line stands for: each ``{a|b|c}`` group gives one phrase per
    alternative, groups multiply ("i {can't|won't} {help|go}" -> 4 phrases). A line
    without braces is itself. A ``!`` prefix stays on every expansion."""
    match = re.search(r"\{([^{}]*)\}", line)
    if match is None:
        return [line]
    head, tail = line[: match.start()], line[match.end():]
    return [p for alt in match.group(1).split("|") for p in expand(head + alt + tail)]


def load_list(name: str, extra: list[str | Path] | None = None) -> tuple[str, ...]:
    """Shipped list ``data/<name>`` plus the lines of user files.

    Lines are lower-cased, curly apostrophes made straight, ``{a|b}`` groups expanded
    (:func:`expand`), comments (``#``) and blank lines dropped. Raises ConfigError
    for an unreadable user file.
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


def last_char() -> pl.Expr:
    """The last character of ``_tail`` (str; "" for empty text). Tests of the last
    character against a set of plain characters use ``is_in`` on it rather than a
    ``[...]$`` regex (see REGEX_CACHE_SIZE)."""
    return pl.col("_tail").str.tail(1)


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
    return last_char().is_in(_OPEN_PUNCT).fill_null(False)


def last_word() -> pl.Expr:
    """Trailing word, lower-cased, ’ read as ' (str, null when the text does not end
    in a letter or apostrophe)."""
    # The word is cut first and its apostrophes made straight after: the same word as
    # straightening the whole tail first, at half the cost (issue 6).
    return pl.col("_tail").str.extract(r"([\p{L}'’]+)$").str.replace_all("’", "'", literal=True).str.to_lowercase()


def ends_continuation_word(words: tuple[str, ...]) -> pl.Expr:
    """``ends_continuation_word`` (bool): the last word is a continuation word.

    ``words``: the continuation list (data/continuation_words.txt, extendable).
    """
    return last_word().is_in(list(words)).fill_null(False)


#: ``ending_class`` values, an Enum in alphabetical order (so it sorts as its text would).
ENDING_CLASS = pl.Enum(sorted(["closer", "continuation_word", "open_punctuation", "mid_word", "none"]))


def ending_class() -> pl.Expr:
    """``ending_class`` (Enum :data:`ENDING_CLASS`): closer | continuation_word |
    open_punctuation | mid_word | none.

    The last-word continuation proxy of taxonomy.md §2.5, for tracking its rate.
    Needs ends_terminal, ends_continuation_word, ends_open_punctuation, ends_mid_word.
    An Enum, like stop_reason and derived_stop: a closed vocabulary written as codes
    (issue 6: the three such columns built as Enums took 3-4% off a 1M-row classify
    to Parquet).
    """
    def lit(value: str) -> pl.Expr:
        return pl.lit(value, dtype=ENDING_CLASS)

    return (
        pl.when(pl.col("ends_terminal")).then(lit("closer"))
        .when(pl.col("ends_continuation_word")).then(lit("continuation_word"))
        .when(pl.col("ends_open_punctuation")).then(lit("open_punctuation"))
        .when(pl.col("ends_mid_word")).then(lit("mid_word"))
        .otherwise(lit("none"))
    )


def unclosed_code_fence() -> pl.Expr:
    """``unclosed_code_fence`` (bool): an odd number of ``` fences in output_text."""
    # A regex count over every row: the regex engine finds ``` with a SIMD substring
    # search, the literal count with the standard library's (4x slower, issue 6).
    return (TEXT.str.count_matches("```") % 2 == 1).fill_null(False)


def bracket_imbalance() -> pl.Expr:
    """``bracket_imbalance`` (bool): count of { and [ differs from count of } and ]."""
    # Regexes, not four literal counts: a one-byte-class regex runs on memchr2,
    # a literal count on the standard library's slower substring search.
    opens = TEXT.str.count_matches(r"[\[{]")
    closes = TEXT.str.count_matches(r"[\]}]")
    return (opens != closes).fill_null(False)


#: Sentence-ending punctuation, Latin and CJK.
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
#: A list marker: a bullet (- * + •) or a number (1. / 1)).
_MARKER = r"(?:[-*+•]|\d{1,3}[.)])"
#: A list item: a marker then a space, at the line start.
_LIST_ITEM = rf"^\s*{_MARKER}\s"
#: A line that is not running text: heading, quote, table row, indented code (an
#: indented list item is still a list item).
_STRUCTURED_LINE = r"^\s*(?:#|>|\|)|^(?:    |\t)\s*(?:[^-*+•\d\s]|\d+[^.)\d])"
#: A list item that is running text all the same: a sentence end inside it, or long.
_PROSE_ITEM = rf"{_LIST_ITEM}.*[.!?]\s+\S"
#: A last line this long (chars) is running text even when it is a list item.
_PROSE_ITEM_CHARS = 100
#: A letter's closing: a short comma-ended line ("Best regards,") then one to three
#: capitalised words (a name) that end the text (``\z``: in multi-line mode ``$``
#: would also match a greeting line higher up).
_SIGN_OFF = r"(?m)^[^\n]{1,30},[ \t]*\n[ \t]*\p{Lu}\S*(?:[ \t]+\p{Lu}\S*){0,2}\z"
#: A final "Label: value" line with a one- or two-word value ("Verdict: APPROVE").
_LABEL_VALUE = r"^\s*[\p{L}\p{N} _*-]{1,40}:\**\s*\S+(?:\s+\S+)?$"
#: A last token that is a URL, a domain or a path with two slashes (they need no period).
_LINK_END = r"(?:^|\s)(?:\S*://|www\.|[^\s<]*/[^\s/]*/)\S*$"
#: Text that ends in a letter, or in a letter and an apostrophe with no opening quote
#: on the line (a contraction cut after its apostrophe: "you'").
_LETTER_END = r"\p{L}$|(?:^|[^\s'])[^\s']*\p{L}'$"
#: A one-word last line after a line that ended mid-sentence (a letter or a comma)
#: and was not a heading: a wrapped line of a poem or paragraph, cut.
_WORD_AFTER_OPEN_LINE = r"(?m)^(?:[^#\n][^\n]*)?[\p{L},][ \t]*\n(?:[ \t]*\n)*[ \t]*[\p{L}'’-]+\z"


def _has(text: pl.Expr, pattern: str) -> pl.Expr:
    """``text`` contains a match of ``pattern`` (bool; False, not null, for null text).

    Used on gated columns (``pl.when(gate).then(col)``): in Polars 2.1 ``str.contains``
    runs its regex over the null slots as well, while ``str.find`` skips them; on a
    column that is 90% null this is the difference between a full pass and a tenth
    of one (measured in issue 6)."""
    return text.str.find(pattern).is_not_null()


#: Polars keeps the compiled regexes of a thread in a cache of 32 patterns
#: (polars-utils RegexCache, least recently used out). A streaming run applies every
#: pattern of the plan to each morsel in turn, so with more than 32 distinct
#: patterns each one is evicted before its next use and every morsel compiles every
#: regex again, its lazy DFA starting cold (issue 6 profile: regex compilation 17% of
#: the text cues' CPU). Hence literal searches where the pattern is a plain string,
#: and one alternation where several anchored patterns are ORed.
#: tests/test_streaming.py counts the plan's distinct patterns against this.
REGEX_CACHE_SIZE = 32


def _count(text: pl.Expr, mark: str) -> pl.Expr:
    """Occurrences of the plain string ``mark`` in ``text`` (u32; a literal search,
    no regex: see REGEX_CACHE_SIZE)."""
    return text.str.count_matches(mark, literal=True)


def last_line() -> pl.Expr:
    """The last line of ``_tail`` (str; the whole tail when it has no newline)."""
    # split + last is ~4x cheaper than an end-anchored regex extract here.
    return pl.col("_tail").str.split("\n").list.last()


def _whole_last_line() -> pl.Expr:
    """The last line lies wholly inside the tail window (bool): counts on it are exact."""
    return pl.col("_tail").str.contains("\n", literal=True) | (pl.col("output_chars") <= TAIL_WINDOW)


def cue_inputs() -> dict[str, pl.Expr]:
    """The gated text the four text cues read: name -> expression (str; the last line
    or the tail where a cheap necessary condition of that cue holds, null elsewhere).

    - ``_markup_line`` (:func:`open_markup`): ``_last_line`` where the text does not
      end on . ! ? … (and CJK forms) and the line holds one of * ` ( [ “ ".
    - ``_dangling_line`` (:func:`dangling_structure`): ``_last_line`` where it starts
      (after spaces) with # * + • | : - or a digit (a regex anchored at the start,
      which stops early), or ends with * _ > ] (a last-character test).
    - ``_list_tail``, ``_list_line`` (:func:`cut_list_item`): ``_tail`` /
      ``_last_line`` where the tail ends in a letter or digit (``ends_mid_word``).
    - ``_cut_tail``, ``_cut_line`` (:func:`cut_mid_sentence`): ``_tail`` /
      ``_last_line`` where the tail ends in a letter, a digit or an apostrophe (the
      cue itself then requires a letter: digits only cost a few more rows checked,
      and the gate reuses ``ends_mid_word`` instead of a regex of its own).

    Added as columns one step before the cues: the regexes of a cue then run on the
    few rows that can qualify (null rows pass free). Written inline instead, each
    use of a gated column rebuilt it for every row, since Polars' common-subexpression
    elimination does not share a when/then (open_markup counted on 14 copies of its
    gated line; seen in the optimized plan, issue 6).
    Needs ``_tail``, ``_last_line``, ``ends_mid_word``.
    """
    tail, line = pl.col("_tail"), pl.col("_last_line")
    markup = ~last_char().is_in(_SENTENCE_END) & line.str.contains(r'[*`(\[“"]')
    dangling = line.str.contains(r"^\s*[#*+•|:\d-]") | last_char().is_in(("*", "_", ">", "]"))
    listed = pl.col("ends_mid_word")
    cut = listed | (last_char() == "'")
    return {
        "_markup_line": pl.when(markup).then(line),
        "_dangling_line": pl.when(dangling).then(line),
        "_list_tail": pl.when(listed).then(tail),
        "_list_line": pl.when(listed).then(line),
        "_cut_tail": pl.when(cut).then(tail),
        "_cut_line": pl.when(cut).then(line),
    }


def cut_mid_sentence() -> pl.Expr:
    """Running text stops on a letter (bool): the cut-off sentence.

    True when the text ends in a letter (or a letter and a lone apostrophe) and the
    last line is running text: two or more words, not a heading, quote, table row
    or indented code, and not a short list item (a list item with a sentence end
    inside or of 100+ chars is running text). The text must use punctuation
    somewhere (. ! ? : ; , …) or the last line have six or more words. Also true
    for a one-word last line after a line that ended on a letter or a comma.
    Not flagged, because real complete answers end this way (taxonomy.md §2 "Real
    data, seen"; the exemptions were each seen in real answers or written as tests):
    other one-word last lines (verdicts, names), a sign-off under a short
    comma-ended line, a final ``Label: value`` line, a URL or path, short list items
    (see :func:`cut_list_item`), endings on a digit (bare numbers).
    Needs ``_cut_line``, ``_cut_tail`` (:func:`cue_inputs`).
    """
    # Only texts ending in a letter (or letter + ') can qualify; the rest but those
    # ending in a digit are null in _cut_line / _cut_tail and skip the regexes.
    line, tail = pl.col("_cut_line"), pl.col("_cut_tail")
    gate = tail.is_not_null()
    item = _has(line, _LIST_ITEM)
    long_item = line.str.len_chars() >= _PROSE_ITEM_CHARS
    running = ~_has(line, _STRUCTURED_LINE) & (~item | _has(line, _PROSE_ITEM) | long_item)
    words = line.str.count_matches(r"\S*\p{L}\S*")
    punctuated = _has(tail.str.head(-1), r"[.!?:;,…。！？]") | (words >= 6)
    several = running & (words >= 2) & punctuated & ~_has(line, f"{_LABEL_VALUE}|{_LINK_END}")
    one_word = (words == 1) & _has(tail, _WORD_AFTER_OPEN_LINE)
    return (gate & _has(tail, _LETTER_END) & (several | one_word) & ~_has(tail, _SIGN_OFF)).fill_null(False)


def cut_list_item() -> pl.Expr:
    """A list whose items end in . ! ? stops on an item ending in a letter/digit (bool).

    Counts, in ``_tail``, the list items ending in sentence punctuation and those
    ending in a letter or digit; the last line (a list item ending in a letter or
    digit) is cut when at least one earlier item ends in punctuation and no fewer
    than end without. Lists written without periods are never flagged by this.
    Needs ``_list_tail``, ``_list_line`` (:func:`cue_inputs`)."""
    item = _LIST_ITEM + r"[^\n]*"
    # Only texts ending in a letter or digit can qualify; the rest are null in
    # _list_tail / _list_line and skip the counting.
    tail = pl.col("_list_tail")
    gate = tail.is_not_null()
    punct = tail.str.count_matches(rf"(?m){item}[.!?][)\]\"'”’*_]*[ \t]*$")
    bare = tail.str.count_matches(rf"(?m){item}[\p{{L}}\p{{N}}][ \t]*$") - 1
    last_item = gate & _has(pl.col("_list_line"), _LIST_ITEM)
    return (last_item & (punct >= 1) & (punct >= bare)).fill_null(False)


def open_markup() -> pl.Expr:
    """The last line opened something it did not close (bool): an odd number of
    ``**`` or of single backticks (fences do not count), more ( than ), more [ than
    ], more “ than ”, an odd number of straight double quotes, or a single ``*``
    that opens emphasis and is not closed. Only judged when the whole last line is
    inside the tail window and the text does not end on . ! ? … (real answers end
    "(get it?" and on an ellipsis after a quote opened lines earlier).
    Needs ``_tail``, ``_markup_line`` (:func:`cue_inputs`)."""
    # Texts ending on . ! ? never qualify, nor last lines without any of the marks
    # counted below; they are null in _markup_line and skip the counting.
    line = pl.col("_markup_line")
    def count(mark: str) -> pl.Expr:
        return _count(line, mark)

    opened = (
        (count("**") % 2 == 1)
        | ((count("`") - 3 * count("```")) % 2 == 1)
        | (count("(") > count(")"))
        | (count("[") > count("]"))
        | (count("“") > count("”"))
        | (count('"') % 2 == 1)
        | _has(line, r"(?:^|\s)\*[^\s*][^*]*$")
    )
    return (line.is_not_null() & _whole_last_line() & opened).fill_null(False)


#: The forms of :func:`dangling_structure` but the link, one alternation (each
#: anchored; see REGEX_CACHE_SIZE): a heading; a bold label ending in a colon; a bare
#: list marker; a table row that starts with | and does not end with one (its last
#: non-space character is not |); a table's header separator; a closing </thinking>.
_DANGLING = "|".join([
    r"^\s{0,3}#{1,6}(?:\s|$)",
    r":\s*[*_]{1,2}$",
    rf"^\s*{_MARKER}\s*$",
    r"^\s*\|.*[^|\s]\s*$",
    r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*$",
    r"</thinking>$",
])


def dangling_structure() -> pl.Expr:
    """The text ends on a structure that announces more (bool): a heading line, a
    bold label ending in a colon (``**Types:**``), a bare list marker, a table row
    that starts with ``|`` and does not end with one, a table's header separator,
    a closing ``</thinking>`` tag with nothing after it, or the text of a markdown
    link without its target (``[Docs]`` in a text that writes links as ``[..](..)``).
    Needs ``_dangling_line`` (:func:`cue_inputs`)."""
    # Each form starts (after spaces) with # * + • | : - or a digit, or ends with
    # * _ > ]; other lines are null in _dangling_line and skip the regexes. The last
    # line is the tail's end, so "</thinking>" closing the tail closes the last line.
    line = pl.col("_dangling_line")
    link_text = _has(line, r"\[[^\]\d][^\]]*\]$")
    return (
        line.is_not_null()
        & (_has(line, _DANGLING) | pl.when(link_text).then(TEXT).str.find("](", literal=True).is_not_null())
    ).fill_null(False)


# ---------------------------------------------------------------- 2. structured output

def json_text() -> pl.Expr:
    """output_text trimmed, where it could be JSON (str): expects_json is true or the
    first non-whitespace character is { [ or `; null elsewhere, so that
    :func:`json_candidate`'s regexes and fence extraction skip those rows. Its own
    column, built once: Polars' common-subexpression elimination does not share a
    when/then, and json_candidate reads it five times."""
    return pl.when(pl.col("expects_json").fill_null(False) | TEXT.str.contains(r"^\s*[\[{`]")).then(TEXT).str.strip_chars()


def json_candidate() -> pl.Expr:
    """Text to parse as JSON, or null when JSON validity does not apply (str).

    Applies when expects_json is true, or the trimmed text opens like a JSON object
    or array (``{"``, ``{}``, ``[{``, ``["``, ``[1,`` ...), or with a ```json fence,
    whose body up to the first closing fence is what is parsed (prose after the
    fence is not JSON; an unclosed fence gives everything after its first line).
    Needs ``_json_text`` (:func:`json_text`).
    """
    stripped = pl.col("_json_text")
    fenced = stripped.str.starts_with("```json") | stripped.str.starts_with("```JSON")
    looks = _has(stripped, _JSON_START) | fenced
    in_block = pl.when(fenced).then(stripped)
    in_fence = in_block.str.extract(_FENCE_BODY)
    body = pl.when(fenced).then(in_fence).otherwise(stripped)
    return pl.when(pl.col("expects_json").fill_null(False) | looks).then(body)


def _check_struct(n: int, idx: pl.Series, valid: list[bool], errors: list[str | None]) -> pl.Series:
    """struct{valid, error} of length ``n``: the values at positions ``idx``, null elsewhere.

    Built column by column (a Series of one dict per row converts far slower)."""
    columns = []
    for name, values, dtype in (("valid", valid, pl.Boolean), ("error", errors, pl.String)):
        column = pl.repeat(None, n, dtype=dtype, eager=True).alias(name)
        if values:
            column = column.scatter(idx, pl.Series(name, values, dtype=dtype))
        columns.append(column)
    # Null where there is nothing to check (valid is set on every checked row), not a
    # struct of nulls.
    return pl.DataFrame(columns).select(pl.when(pl.col("valid").is_not_null()).then(pl.struct("valid", "error")).alias("check"))["check"]


def _json_batch(s: pl.Series) -> pl.Series:
    idx = s.is_not_null().arg_true()
    valid: list[bool] = []
    errors: list[str | None] = []
    loads = orjson.loads
    with gc_paused():
        for text in s.gather(idx).to_list():
            try:
                loads(text)
                valid.append(True)
                errors.append(None)
            except orjson.JSONDecodeError as exc:
                valid.append(False)
                errors.append(str(exc))
    return _check_struct(s.len(), idx, valid, errors)


def json_check() -> pl.Expr:
    """struct{valid: bool, error: str} from orjson on ``_json_candidate`` (null = n/a).

    ``error`` is orjson's message with line, column and character offset. Per-row
    Python runs only inside orjson (map_batches).
    """
    return pl.col("_json_candidate").map_batches(
        _json_batch, return_dtype=pl.Struct({"valid": pl.Boolean, "error": pl.String}), is_elementwise=True
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
    idx = (s.struct.field("tool_calls").list.len().fill_null(0) > 0).arg_true()
    valid: list[bool] = []
    errors: list[str | None] = []
    with gc_paused():
        for row in s.gather(idx).to_list():
            schemas = {d["name"]: d["schema"] for d in (row["tool_schemas"] or []) if d and d.get("name")}
            found = [e for e in (_check_call(c, schemas) for c in row["tool_calls"]) if e]
            valid.append(not found)
            errors.append("; ".join(found) or None)
    return _check_struct(s.len(), idx, valid, errors)


def tool_args_check() -> pl.Expr:
    """struct{valid, error}: every tool call's arguments parse (orjson) and validate
    against the request's tool JSON Schema when one is known (jsonschema).

    Input: tool_calls, tool_schemas. Null when there are no tool calls. A schema that
    is not valid JSON Schema is skipped (only parsing is checked).
    """
    return pl.struct("tool_calls", "tool_schemas").map_batches(
        _tool_args_batch, return_dtype=pl.Struct({"valid": pl.Boolean, "error": pl.String}), is_elementwise=True
    )


# ---------------------------------------------------------------- 3. soft refusal

def _alternation(phrases: tuple[str, ...]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


def split_phrases(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(refusal phrases, ``!`` not-a-refusal phrases, ``~`` answer phrases) of a list."""
    positive = tuple(p for p in phrases if p[:1] not in ("!", "~"))
    negative = tuple(p[1:] for p in phrases if p.startswith("!"))
    answer = tuple(p[1:] for p in phrases if p.startswith("~"))
    return positive, negative, answer


def refusal_opening() -> pl.Expr:
    """The first REFUSAL_HEAD chars of output_text after leading whitespace, lower-cased
    (str, null for null text): what :func:`refusal_head` cleans up and searches."""
    return TEXT.str.strip_chars_start().str.head(REFUSAL_HEAD).str.to_lowercase()


def _maybe_refusal(positive: tuple[str, ...], opening: pl.Expr) -> pl.Expr:
    """Could ``opening`` (:func:`refusal_opening`) hold a refusal phrase (bool)? A cheap
    superset of a match in :func:`refusal_match`: any positive phrase anywhere in it,
    with ' or ’, ignoring word starts, quotes and ``!`` phrases. Blanking only removes
    text (a phrase holds no ``~``), so a match after it was a match before.
    """
    if not positive or any("~" in p for p in positive):
        return pl.lit(True)
    alternation = "|".join(re.escape(p).replace("'", "['’]") for p in sorted(positive, key=len, reverse=True))
    # The opening is lower-cased and matched case-sensitively: the regex engine then
    # finds literal prefixes to skip ahead with, which (?i) on the raw text denies it.
    # It is the very window refusal_head searches, so nothing else is lower-cased:
    # 0.49 s of CPU on 1M rows, against 0.68 s for the first 800 raw characters
    # lower-cased with a ^\s{200} branch for a long indent (issue 6).
    return opening.str.contains(alternation)


def refusal_head(phrases: tuple[str, ...]) -> pl.Expr:
    """The opening searched for refusal phrases (str; null when it cannot hold one).

    :func:`refusal_opening` (the first REFUSAL_HEAD chars of output_text after leading
    whitespace, lower-cased) with ’ read as ', and quoted spans ("..." and “...”) and
    ``!`` phrases blanked out to ``~`` (so "I'm sorry to hear that" never matches
    "i'm sorry, but"). Null unless :func:`_maybe_refusal` holds (2% of the synthetic
    benchmark rows), so the steps here and in :func:`refusal_match` run on those rows
    only. ``phrases``: as for :func:`refusal_match`.
    """
    positive, negative, _ = split_phrases(phrases)
    opening = refusal_opening()
    head = pl.when(_maybe_refusal(positive, opening)).then(opening).str.replace_all("’", "'", literal=True)
    # Quoted speech is not the model declining: "I'm sorry, but I can't," he said.
    head = head.str.replace_all(r'["“][^"“”\n]{0,300}["”]', "~")
    if negative:
        head = head.str.replace_all(rf"\b(?:{_alternation(negative)})", "~")
    return head


def refusal_match(phrases: tuple[str, ...], head: pl.Expr | None = None) -> pl.Expr:
    """struct{phrase: str, pos: u32, answered: bool} from the opening of output_text.

    ``phrases``: data/refusal_phrases.txt plus user files. ``head``: the prepared
    opening (:func:`refusal_head`; computed here when not given — classify_frame
    passes the column ``_refusal_head`` made one step earlier so it is built once).
    The head is searched for the first refusal phrase; ``pos`` is its char offset
    (null when none). ``answered`` is true when a ``~`` phrase occurs in the first
    ANSWER_OPENING chars (the text corrects a premise, asks for clarification or
    goes on to answer); ``phrase`` is null then and when nothing matched, so the
    evidence only backs a hit. Phrases match at a word start.
    """
    positive, _, answer = split_phrases(phrases)
    head = refusal_head(phrases) if head is None else head
    phrase, pos = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.UInt32)
    if positive:
        pattern = rf"\b(?:{_alternation(positive)})"
        # One pattern for both (group 0 is the whole match): see REGEX_CACHE_SIZE.
        phrase, pos = head.str.extract(pattern, 0), head.str.find(pattern)
    answered = pl.lit(False)
    if answer:
        answered = _has(head.str.head(ANSWER_OPENING), rf"\b(?:{_alternation(answer)})")
    return pl.struct(pl.when(~answered).then(phrase).alias("phrase"), pos.alias("pos"), answered.alias("answered"))


def refusal_score() -> pl.Expr:
    """``refusal_score`` (f64 in [0, 1]): 1.0 for a refusal phrase in the first
    REFUSAL_OPENING chars, 0.5 later in the first REFUSAL_HEAD chars, 0 for none
    or when an answer phrase (``~`` lines) is in the opening too.
    Needs ``_refusal_pos``, ``_refusal_answered``."""
    pos = pl.col("_refusal_pos")
    return (
        pl.when(pos.is_null() | pl.col("_refusal_answered")).then(0.0)
        .when(pos < REFUSAL_OPENING).then(1.0)
        .otherwise(0.5)
    )


def refusal_hit() -> pl.Expr:
    """``refusal_hit`` (bool): a refusal phrase in the opening and no answer phrase
    (refusal_score 1.0). Answers that only mention a limitation later are compliance,
    not refusals (an earlier rule that also counted later phrases in short answers
    lost precision on the tune part and fired on quoted dialogue). Measured by
    benchmarks/accuracy.py (README "How accurate is it?")."""
    return pl.col("refusal_score") >= 1.0


# ---------------------------------------------------------------- 4. length vs route

def output_length_tokens() -> pl.Expr:
    """Output length in tokens (f64): output_tokens, else output_chars / CHARS_PER_TOKEN
    rounded up; null when both are null. Needs ``output_chars``."""
    est = (pl.col("output_chars").cast(pl.Float64) / CHARS_PER_TOKEN).ceil()
    return pl.coalesce(pl.col("output_tokens").cast(pl.Float64), est)


def log_length() -> pl.Expr:
    """log1p of :func:`output_length_tokens` (f64)."""
    return output_length_tokens().log1p()


def add_length_signals(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``length_z`` (f64) and ``below_p5`` (bool) per route.

    The distribution of log length is taken per route over rows with text and no
    tool calls. Null for routes with fewer than MIN_ROUTE_ROWS such rows, for rows
    with tool calls, and for empty rows.

    The per-route statistics are computed EAGERLY, in a first pass run when this
    function is called: the eligible rows' (route, log length) are streamed into
    memory (about 12 bytes a row: a categorical code and an f64; the exact p5 needs
    every value anyway), aggregated with the in-memory engine, and the few-row
    result is looked up per row by route (literal columns, no join). A lazy group-by joined back to the
    same plan made every streaming sink hold the whole frame until the group-by had
    seen the last row (a plan CACHE of all columns: peak RSS grew with the input,
    4.9 GB at 10M rows); ``over`` is worse (performance-notes.md item 2). The
    statistics, hence ``length_z`` to the last bit, are the same whichever engine
    later runs the returned frame (the streaming and in-memory group-by round a
    std differently, ~1e-15). The first pass reads route, output_text,
    output_tokens and tool_calls once more.
    """
    lf = lf.with_columns(log_length().alias("_loglen"))
    eligible = (pl.col("output_chars") > 0) & (pl.col("tool_call_count") == 0)
    values = lf.filter(eligible).select(pl.col("route").cast(pl.Categorical), "_loglen").collect(engine="streaming")
    stats = (
        values.group_by("route")
        .agg(
            pl.len().alias("_route_n"),
            pl.col("_loglen").mean().alias("_route_mean"),
            pl.col("_loglen").std().alias("_route_std"),
            pl.col("_loglen").quantile(0.05, interpolation="linear").alias("_route_p5"),
        )
    )
    del values
    # Each row finds its route's statistics by position (normalize.position_in:
    # null for a route without statistics and for a null route, as a left join
    # would give), then a gather from the literal columns. A left join did the same
    # with a hash probe that rebuilt every column of the frame, text included.
    lf = lf.with_columns(position_in(pl.col("route").cast(pl.String), stats["route"].cast(pl.String)).alias("_route_at"))
    lf = lf.with_columns(pl.lit(stats[name]).gather(pl.col("_route_at")).alias(name) for name in ("_route_n", "_route_mean", "_route_std", "_route_p5"))
    ok = eligible & (pl.col("_route_n") >= MIN_ROUTE_ROWS)
    z = pl.when(ok & (pl.col("_route_std") > 0)).then((pl.col("_loglen") - pl.col("_route_mean")) / pl.col("_route_std"))
    return lf.with_columns(
        z.alias("length_z"),
        pl.when(ok).then(pl.col("_loglen") < pl.col("_route_p5")).alias("below_p5"),
    ).drop("_loglen", "_route_at", "_route_n", "_route_mean", "_route_std", "_route_p5")


# ---------------------------------------------------------------- 6. token cap and the rest

def at_token_cap() -> pl.Expr:
    """``at_token_cap`` (bool, null when either count is unknown): output_tokens >= max_tokens."""
    return pl.col("output_tokens") >= pl.col("max_tokens")


def is_empty() -> pl.Expr:
    """``empty`` (bool): no text (after trimming) and no tool calls. Needs ``_tail``."""
    # A trimmed tail that is not blank means text; the whole text is trimmed only where
    # the tail is blank (text may stand before the last TAIL_WINDOW characters), not on
    # every row (issue 6).
    blank = pl.when(pl.col("_tail") == "").then(TEXT).str.strip_chars().str.len_chars() == 0
    no_text = pl.when(pl.col("_tail") != "").then(False).otherwise(blank)
    return no_text & (pl.col("tool_call_count") == 0)


def near_empty() -> pl.Expr:
    """``near_empty`` (bool, null when output_tokens is unknown): 0–3 output tokens."""
    return pl.col("output_tokens") <= NEAR_EMPTY_TOKENS


def phantom_tool_use() -> pl.Expr:
    """``phantom_tool_use`` (bool): stop_reason says tool_call but there are no tool calls."""
    return (pl.col("stop_reason") == "tool_call") & (pl.col("tool_call_count") == 0)


def _cue_exprs() -> dict[str, pl.Expr]:
    """Truncation cue name -> its condition, in the order ``truncation_cue`` tries them."""
    return {
        "token_cap": pl.col("at_token_cap").fill_null(False),
        "unclosed_code_fence": pl.col("unclosed_code_fence"),
        "json_unbalanced": pl.col("_json_candidate").is_not_null() & pl.col("bracket_imbalance"),
        "open_punctuation": pl.col("ends_open_punctuation"),
        "continuation_word": pl.col("ends_continuation_word"),
        "open_markup": pl.col("_open_markup"),
        "dangling_structure": pl.col("_dangling_structure"),
        "cut_list_item": pl.col("_cut_list_item"),
        "cut_mid_sentence": pl.col("_cut_mid_sentence"),
    }


#: Truncation cues in the order ``truncation_cue`` reports them (the first that holds).
TRUNCATION_CUES = tuple(_cue_exprs())
#: ``truncation_cue`` values, an Enum in alphabetical order (so it sorts as its text would).
TRUNCATION_CUE = pl.Enum(sorted(TRUNCATION_CUES))


def truncation_cue() -> pl.Expr:
    """``truncation_cue`` (Enum :data:`TRUNCATION_CUE`, null when nothing looks cut): the first cue of
    :data:`TRUNCATION_CUES` that holds (the evidence beside ``output_tail``).

    Cues: output at the token cap; an unclosed code fence; JSON applicable with
    unbalanced brackets; open punctuation or a continuation word at the end
    (taxonomy.md §2.1, §2.5); and four text cues measured on real answers cut at
    random (benchmarks/accuracy.py): :func:`open_markup`, :func:`dangling_structure`,
    :func:`cut_list_item`, :func:`cut_mid_sentence`. Empty text has no cue (it is
    ``empty``)."""
    expr = pl.lit(None, dtype=TRUNCATION_CUE)
    for name, cond in reversed(_cue_exprs().items()):
        expr = pl.when(cond).then(pl.lit(name, dtype=TRUNCATION_CUE)).otherwise(expr)
    return pl.when(pl.col("output_chars") > 0).then(expr)


def truncated() -> pl.Expr:
    """``truncated`` (bool): a truncation cue holds (``truncation_cue`` not null)."""
    return pl.col("truncation_cue").is_not_null()
