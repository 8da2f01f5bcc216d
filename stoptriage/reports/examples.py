"""examples: the rows behind a number (a rule, a derived class, or the disagreements).

A filter over the classified frame plus two computed columns (``evidence``, ``hint``);
input order kept, no per-row Python.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from ..errors import ConfigError
from ..rules import HINTS, rules
from ..schema import DERIVED_STOP
from .common import check_by

#: Output columns before the ``by`` columns and after them.
LEAD = ["route"]
REST = [
    "trace_id",
    "span_id",
    "source_file",
    "source_line",
    "timestamp",
    "provider",
    "model",
    "provider_stop_reason",
    "stop_reason",
    "derived_stop",
    "expected_derived",
    "alerts",
    "evidence",
    "output_chars",
    "output_tail",
    "hint",
]


class Examples(NamedTuple):
    """What :func:`examples` returns: ``frame`` (the rows shown), ``matched`` (int: rows
    that match the selector) and ``rows`` (int: rows in the input)."""

    frame: pl.DataFrame
    matched: int
    rows: int


def _part(label: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f"{label}="), value])  # null when value is null


def evidence() -> pl.Expr:
    """``evidence`` (str): the signals that explain the row, ``name=value`` joined by ``; ``.

    In derived-precedence order, each only when present: ``tool_args_error``,
    ``truncation_cue``, ``json_error``, ``refusal_phrase``, ``provider_refusal``,
    ``stop_detail``, ``tool_calls`` (names, when the row has tool calls),
    ``empty``, ``output_tokens`` and ``after_tool_result`` (when the output is empty or
    near-empty),
    ``length_z`` (when below the route's 5th percentile); when none is present,
    ``ending_class`` (closer / none / mid_word / continuation_word). The first part
    is what a coalesce in that order gives; the rest are kept because one row often
    has two (a token-cap cut and the JSON error it caused).
    """
    tools = pl.col("tool_calls").list.eval(pl.element().struct.field("name")).list.join(",")
    thin = pl.col("empty").fill_null(False) | pl.col("near_empty").fill_null(False)
    parts = [
        _part("tool_args_error", pl.col("tool_args_error")),
        _part("truncation_cue", pl.col("truncation_cue")),
        _part("json_error", pl.col("json_error")),
        _part("refusal_phrase", pl.col("refusal_phrase")),
        _part("provider_refusal", pl.col("provider_refusal")),
        _part("stop_detail", pl.col("stop_detail")),
        _part("tool_calls", pl.when(pl.col("tool_call_count") > 0).then(tools)),
        pl.when(pl.col("empty").fill_null(False)).then(pl.lit("empty")),
        _part("output_tokens", pl.when(thin).then(pl.col("output_tokens").cast(pl.String))),
        pl.when(thin & pl.col("after_tool_result").fill_null(False)).then(pl.lit("after_tool_result")),
        _part("length_z", pl.when(pl.col("below_p5").fill_null(False)).then(pl.col("length_z").round(2).cast(pl.String))),
    ]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined).otherwise(_part("ending_class", pl.col("ending_class")))


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def selector(rule: str | None = None, derived: str | None = None, disagree: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(bool filter, ``hint`` str expression) for exactly one of ``rule``, ``derived``,
    ``disagree``. Hints: the rule's :attr:`Rule.hint`; ``rules.HINTS["derived"]`` for
    the class; for ``disagree`` the hint of the row's derived class, else (complete)
    of its stop reason. Null where there is none. Raises ConfigError for none or
    several selectors, an unknown rule or class (listing the valid names)."""
    given = [flag for flag, on in (("--rule", rule is not None), ("--derived", derived is not None), ("--disagree", disagree)) if on]
    if len(given) != 1:
        what = "got " + " and ".join(given) if given else "got none"
        raise ConfigError(f"examples needs exactly one of --rule NAME, --derived CLASS or --disagree ({what})")
    if rule is not None:
        known = {r.name: r for r in rules()}
        if rule not in known:
            raise ConfigError(f"--rule {rule}: no such rule; rules are: {', '.join(known)}")
        return pl.col("alerts").list.contains(rule).fill_null(False), pl.lit(known[rule].hint or None, dtype=pl.String)
    if derived is not None:
        if derived not in DERIVED_STOP:
            raise ConfigError(f"--derived {derived}: no such class; derived classes are: {', '.join(DERIVED_STOP)}")
        return (pl.col("derived_stop").cast(pl.String) == derived).fill_null(False), pl.lit(HINTS["derived"][derived] or None, dtype=pl.String)
    by_class = _nonempty(pl.col("derived_stop").cast(pl.String).replace_strict(HINTS["derived"], default=None, return_dtype=pl.String))
    by_stop = pl.col("stop_reason").cast(pl.String).replace_strict(HINTS["stop_reason"], default=None, return_dtype=pl.String)
    return pl.col("disagrees").fill_null(False), pl.coalesce(by_class, by_stop)


def examples(
    frame: pl.LazyFrame,
    rule: str | None = None,
    derived: str | None = None,
    disagree: bool = False,
    by: list[str] | None = None,
    limit: int | None = None,
) -> Examples:
    """The rows behind a rate: those a rule fired on, of a derived class, or that disagree.

    Input: a classified LazyFrame; exactly one selector (``rule``: a rule name of
    rules.rules(); ``derived``: a class of schema.DERIVED_STOP; ``disagree``: True);
    ``by``: extra columns to show after ``route`` (e.g. ["prompt_version"]);
    ``limit``: first N matching rows (None = all).

    Output: :class:`Examples`; ``frame`` in input order with columns ``route``, the
    ``by`` columns, ``trace_id``, ``span_id``, ``source_file`` (str),
    ``source_line`` (i64), ``timestamp`` (datetime UTC), ``provider``, ``model``,
    ``provider_stop_reason``, ``stop_reason``, ``derived_stop``,
    ``expected_derived`` (str), ``alerts`` (list[str]), ``evidence`` (str, see
    :func:`evidence`), ``output_chars`` (u32), ``output_tail`` (str: last 32
    characters after trimming), ``hint`` (str,
    see :func:`selector`); ``matched``: matching rows; ``rows``: input rows.

    Raises ConfigError (exit 2) for a bad selector, unknown ``by`` column or
    ``limit`` < 0.
    """
    hit, hint = selector(rule, derived, disagree)
    by = list(by or [])
    check_by(frame, by)
    if limit is not None and limit < 0:
        raise ConfigError(f"--limit {limit}: expected 0 or more")
    cols = list(dict.fromkeys([*LEAD, *by, *REST]))
    marked = frame.with_columns(hit.alias("_hit"))
    picked = marked.filter("_hit").with_columns(
        pl.col("stop_reason", "derived_stop", "expected_derived").cast(pl.String), evidence().alias("evidence"), hint.alias("hint")
    )
    if limit is not None:
        picked = picked.head(limit)
    counts, shown = pl.collect_all([marked.select(pl.len().alias("rows"), pl.col("_hit").sum().alias("matched")), picked.select(cols)])
    return Examples(shown, int(counts["matched"][0] or 0), int(counts["rows"][0]))
