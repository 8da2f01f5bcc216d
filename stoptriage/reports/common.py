"""What every report shares: the ``--by`` check and the per-group metric counts.

A *metric* is one rate a report can track per group: an alert rule (rows it fired
on / rows it could fire on), a derived class, a normalized stop reason (each over
all rows of the group) or the disagreement of the two. :func:`metric_counts` makes
them all in one group-by, in long form, so alerts, compare and trend read the same
numbers.
"""

from __future__ import annotations

import polars as pl

from ..errors import ConfigError
from ..rules import rules
from ..schema import BULKY, DERIVED_STOP, STOP_REASONS

#: Eligible rows a group needs before its rate is shown: below it the rate is null and
#: the group is reported as too small (a 1-of-3 group is not "33%"). 20 rows put one
#: row at 5 points; a user sets it with --min-rows.
MIN_RATE_ROWS = 20

#: Metric kinds, in report order.
KINDS = ("rule", "derived", "stop_reason", "disagree")

#: (kind, metric) pairs that mirror the rest: ``derived complete`` and ``stop_reason
#: stop`` are each 1 - (the other metrics of their kind), so nearly every row is one
#: of them and their moves repeat the others'. compare leaves them out unless asked
#: (and for them a DROP is the worsening); trend leaves them out of its default set.
MIRRORS = (("derived", "complete"), ("stop_reason", "stop"))

def check_by(frame: pl.LazyFrame, by: list[str], option: str = "--by") -> None:
    """Raise ConfigError (exit 2) naming ``option``, the missing columns of ``by`` and
    the columns there are (the bulky text columns left out of the list)."""
    names = frame.collect_schema().names()
    missing = [b for b in by if b not in names]
    if missing:
        shown = ", ".join(n for n in names if n not in BULKY)
        raise ConfigError(f"{option} {','.join(missing)}: no such column; columns are: {shown}")


def is_mirror() -> pl.Expr:
    """(bool) the row's (``kind``, ``metric``) is one of :data:`MIRRORS`."""
    return pl.any_horizontal([(pl.col("kind") == k) & (pl.col("metric") == m) for k, m in MIRRORS])


def check_min_rows(min_rows: int) -> None:
    """Raise ConfigError (exit 2) unless ``min_rows`` (--min-rows) is 1 or more."""
    if min_rows < 1:
        raise ConfigError(f"--min-rows {min_rows}: expected a whole number >= 1")


def metric_names() -> list[tuple[str, str]]:
    """Every (kind, metric) pair :func:`metric_counts` produces, in report order."""
    return (
        [("rule", r.name) for r in rules()]
        + [("derived", d) for d in DERIVED_STOP]
        + [("stop_reason", s) for s in STOP_REASONS]
        + [("disagree", "disagrees")]
    )


def _metric_aggs() -> list[pl.Expr]:
    def pair(name: str, hit: pl.Expr, eligible: pl.Expr) -> pl.Expr:
        return pl.struct(
            hit.fill_null(False).sum().cast(pl.UInt32).alias("count"),
            eligible.fill_null(False).sum().cast(pl.UInt32).alias("eligible"),
        ).alias(name)

    every = pl.col("derived_stop").is_null() | pl.col("derived_stop").is_not_null()
    derived = pl.col("derived_stop").cast(pl.String)
    stop = pl.col("stop_reason").cast(pl.String)
    aggs = [pair(f"rule\x1f{r.name}", pl.col("alerts").list.contains(r.name), r.eligible) for r in rules()]
    aggs += [pair(f"derived\x1f{d}", derived == d, every) for d in DERIVED_STOP]
    aggs += [pair(f"stop_reason\x1f{s}", stop == s, every) for s in STOP_REASONS]
    aggs.append(pair("disagree\x1fdisagrees", pl.col("disagrees"), every))
    return aggs


def metric_counts(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Per group of ``keys`` and metric: how many rows hit it and how many could.

    Input: a classified LazyFrame (columns alerts, derived_stop, stop_reason,
    disagrees and the rule inputs); ``keys``: grouping columns (``--by`` columns,
    plus e.g. a time bucket or a side). Output (LazyFrame, one row per group and
    metric of :func:`metric_names`, zero counts included): the ``keys``, ``kind``
    (str: rule | derived | stop_reason | disagree), ``metric`` (str: rule name,
    class or stop reason), ``count`` (u32: rows hit), ``eligible`` (u32: rows the
    metric could hit: a rule's eligible rows, else all rows of the group),
    ``rows`` (u32: rows of the group). Null key values form their own group.
    """
    wide = frame.group_by(keys).agg(pl.len().cast(pl.UInt32).alias("rows"), *_metric_aggs())
    long = wide.unpivot(index=[*keys, "rows"], variable_name="_metric", value_name="_v")
    return long.select(
        *keys,
        pl.col("_metric").str.split_exact("\x1f", 1).struct.field("field_0").alias("kind"),
        pl.col("_metric").str.split_exact("\x1f", 1).struct.field("field_1").alias("metric"),
        pl.col("_v").struct.field("count").alias("count"),
        pl.col("_v").struct.field("eligible").alias("eligible"),
        "rows",
    )


def rate(count: str = "count", eligible: str = "eligible", min_rows: int | pl.Expr = MIN_RATE_ROWS) -> pl.Expr:
    """count / eligible (f64), null when ``eligible`` < ``min_rows`` (too few rows for a
    rate); ``min_rows`` may be a column expression (alerts: one per rule)."""
    return pl.when(pl.col(eligible) >= min_rows).then(pl.col(count) / pl.col(eligible))
