"""compare: the same rates on two sets of responses (baseline, candidate), side by side.

Catches the slow-burn regression: a rate that moves from 1.5% to 4.5% on one route
trips no absolute threshold, but it is 3x and, with enough rows, not chance.
:func:`split` cuts one export in two (by a column's values or by time);
:func:`compare` counts every metric of :func:`reports.common.metric_counts` per group
on each side, tests each pair of counts with Fisher's exact test (small counts are
the point; scipy.stats.fisher_exact), corrects for the many tests with
Benjamini-Hochberg (scipy.stats.false_discovery_control) and words each row as a
sentence with its remediation (rules.Rule.hint, rules.HINTS).

Counting is one group-by per side over the lazy frame; the only Python loop runs
over the small aggregated table (groups x metrics), to call scipy and to word the
findings.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import polars as pl

from ..errors import ConfigError
from ..rules import HINTS, rules
from .common import MIN_RATE_ROWS, check_by, check_min_rows, is_mirror, metric_counts, metric_names, rate

# numpy and scipy are imported where they are used, not with the package: importing
# them starts OpenBLAS's worker threads, whose spinning took 3% of the CPU of a
# classify run that never calls them (issue 6 profile), and slows every command's start.
if TYPE_CHECKING:
    import numpy as np

#: q-value at or below which a change is called significant: a false discovery rate
#: of 5% over the rows tested in one comparison (Benjamini & Hochberg 1995).
FDR = 0.05

#: Distinct values listed in a --split error before the rest are only counted.
_MAX_VALUES_SHOWN = 20

#: Columns of the :func:`compare` output after the ``by`` columns, in order.
COLUMNS = (
    "kind",
    "metric",
    "baseline_count",
    "baseline_eligible",
    "baseline_rate",
    "candidate_count",
    "candidate_eligible",
    "candidate_rate",
    "ratio",
    "change",
    "p_value",
    "q_value",
    "worse",
    "significant",
    "note",
    "hint",
    "finding",
)


def parse_time(value: str, option: str) -> datetime:
    """ISO 8601 text -> datetime in UTC (``value`` without an offset is taken as UTC).

    Accepts a date (``2026-03-05``), a date-time with ``T`` or a space, optional
    fractional seconds and an offset or ``Z``. Raises ConfigError naming ``option``.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{option} {value}: expected an ISO 8601 time such as 2026-03-05T00:00:00Z") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _values_text(values: list[str]) -> str:
    shown = ", ".join(values[:_MAX_VALUES_SHOWN])
    more = len(values) - _MAX_VALUES_SHOWN
    return shown + (f" … and {more} more" if more > 0 else "")


def _split_by_column(
    frame: pl.LazyFrame, column: str, baseline_value: str | None, candidate_value: str | None
) -> tuple[pl.LazyFrame, pl.LazyFrame, str]:
    check_by(frame, [column], option="--split")
    text = pl.col(column).cast(pl.String)
    counts = frame.group_by(text.alias("value")).agg(pl.len().alias("rows")).collect().sort("value", nulls_last=True)
    rows = dict(zip(counts["value"].to_list(), counts["rows"].to_list(), strict=True))
    null_rows = rows.pop(None, 0)
    values = sorted(rows)
    chosen = "given"
    if baseline_value is None and candidate_value is None:
        if len(values) != 2:
            raise ConfigError(
                f"--split {column}: it has {len(values)} distinct value(s) ({_values_text(values) or 'none'}); "
                "give --baseline-value and --candidate-value"
            )
        baseline_value, candidate_value = values
        chosen = "sorted"
    elif baseline_value is None or candidate_value is None:
        given = baseline_value if baseline_value is not None else candidate_value
        others = [v for v in values if v != given]
        if len(values) != 2 or len(others) != 1:
            missing = "--candidate-value" if candidate_value is None else "--baseline-value"
            raise ConfigError(f"--split {column}: give {missing} too; values are: {_values_text(values) or 'none'}")
        if baseline_value is None:
            baseline_value = others[0]
        else:
            candidate_value = others[0]
        chosen = "other"
    for option, value in (("--baseline-value", baseline_value), ("--candidate-value", candidate_value)):
        if value not in rows:
            raise ConfigError(f"{option} {value}: no row has {column}={value}; values are: {_values_text(values) or 'none'}")
    if baseline_value == candidate_value:
        raise ConfigError(f"--baseline-value and --candidate-value are both {baseline_value}: nothing to compare")
    desc = (
        f"baseline: {column}={baseline_value}, {rows[baseline_value]} rows; "
        f"candidate: {column}={candidate_value}, {rows[candidate_value]} rows"
    )
    if chosen == "sorted":
        desc += f" (the two values of {column} in sorted order; --baseline-value/--candidate-value to choose)"
    elif chosen == "other":
        desc += f" (the other value of {column})"
    left_out = sum(n for v, n in rows.items() if v not in (baseline_value, candidate_value))
    if left_out:
        desc += f"; {left_out} rows with other values of {column} left out"
    if null_rows:
        desc += f"; {null_rows} rows without {column} left out"
    return frame.filter(text == baseline_value), frame.filter(text == candidate_value), desc


def _split_by_time(frame: pl.LazyFrame, before: str | None, after: str | None) -> tuple[pl.LazyFrame, pl.LazyFrame, str]:
    if "timestamp" not in frame.collect_schema().names():
        raise ConfigError("--before/--after: the input has no timestamp column")
    t_before = parse_time(before, "--before") if before is not None else None
    t_after = parse_time(after, "--after") if after is not None else None
    t_before = t_before if t_before is not None else t_after
    t_after = t_after if t_after is not None else t_before
    if t_before > t_after:
        raise ConfigError(f"--before {before} is later than --after {after}: the baseline must end before the candidate starts")
    ts = pl.col("timestamp").cast(pl.Datetime("us", "UTC"))
    is_base, is_cand = ts < t_before, ts >= t_after
    counts = frame.select(
        is_base.sum().alias("baseline"),
        is_cand.sum().alias("candidate"),
        ts.is_null().sum().alias("no_time"),
        (ts.is_not_null() & ~is_base & ~is_cand).sum().alias("gap"),
    ).collect().row(0, named=True)
    desc = (
        f"baseline: timestamp < {t_before.isoformat()}, {counts['baseline']} rows; "
        f"candidate: timestamp >= {t_after.isoformat()}, {counts['candidate']} rows"
    )
    if counts["gap"]:
        desc += f"; {counts['gap']} rows between the two left out"
    if counts["no_time"]:
        desc += f"; {counts['no_time']} rows without a timestamp left out"
    return frame.filter(is_base), frame.filter(is_cand), desc


def split(
    frame: pl.LazyFrame,
    column: str | None = None,
    baseline_value: str | None = None,
    candidate_value: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> tuple[pl.LazyFrame, pl.LazyFrame, str]:
    """Cut one classified export into a baseline and a candidate.

    By a column (``column``, e.g. ``prompt_version``; values compared as text):
    baseline = rows whose value is ``baseline_value``, candidate = ``candidate_value``.
    With neither value given the column must have exactly two distinct non-null
    values, taken in sorted order (baseline the first); with one given, the other is
    the column's other value. Rows with other values or a null are left out.

    By time on ``timestamp`` (``before`` / ``after``: ISO 8601 text; no offset =
    UTC): baseline = timestamp < ``before``, candidate = timestamp >= ``after``. One
    alone splits at that instant; both leave the rows in [before, after) out. Rows
    with a null timestamp are left out.

    Output: (baseline LazyFrame, candidate LazyFrame, description str), the
    description naming each side, its rows and every row left out, e.g.
    ``baseline: prompt_version=v1, 2600 rows; candidate: prompt_version=v2, 2600
    rows (the two values of prompt_version in sorted order; ...)``. Counting the
    rows runs one small aggregation over ``frame``.

    Raises ConfigError (exit 2): both a column and a time given, or neither; an
    unknown column (listing the columns); a column without exactly two values and
    no values given (listing the values); a value no row has; the two values equal;
    a time that does not parse; ``before`` later than ``after``; no timestamp column.
    """
    if column is None and (baseline_value is not None or candidate_value is not None):
        raise ConfigError("--baseline-value/--candidate-value need --split COLUMN")
    if column is not None and (before is not None or after is not None):
        raise ConfigError("--split COLUMN and --before/--after: choose one way to split")
    if column is not None:
        return _split_by_column(frame, column, baseline_value, candidate_value)
    if before is None and after is None:
        raise ConfigError("split: give a column (--split) or a time (--before/--after)")
    return _split_by_time(frame, before, after)


def _labels() -> dict[str, str]:
    """"kind\\x1fmetric" -> how a finding names the metric."""
    out = {f"rule\x1f{r.name}": f"{r.label} ({r.name})" for r in rules()}
    for kind, metric in metric_names():
        if kind == "derived":
            out[f"{kind}\x1f{metric}"] = f"derived_stop {metric}"
        elif kind == "stop_reason":
            out[f"{kind}\x1f{metric}"] = f"stop_reason {metric}"
    out["disagree\x1fdisagrees"] = "disagreement of stop_reason and derived_stop"
    return out


def _hints() -> dict[str, str]:
    """"kind\\x1fmetric" -> remediation (Rule.hint, rules.HINTS); no empty texts."""
    out = {f"rule\x1f{r.name}": r.hint for r in rules()}
    for kind in ("derived", "stop_reason", "disagree"):
        out.update({f"{kind}\x1f{m}": h for m, h in HINTS.get(kind, {}).items()})
    return {k: v for k, v in out.items() if v}


def _side(frame: pl.LazyFrame, by: list[str], casts: dict[str, pl.DataType], prefix: str) -> pl.LazyFrame:
    counts = metric_counts(frame.with_columns([pl.col(c).cast(t) for c, t in casts.items()]), by)
    return counts.select(*by, "kind", "metric", pl.col("count").alias(f"{prefix}_count"), pl.col("eligible").alias(f"{prefix}_eligible"))


def _fisher(df: pl.DataFrame, tested: np.ndarray) -> np.ndarray:
    """Two-sided Fisher's exact p per row of the aggregated table (nan where not tested)."""
    import numpy as np
    from scipy.stats import fisher_exact

    cols = [df[c].to_numpy().astype(np.int64) for c in ("candidate_count", "candidate_eligible", "baseline_count", "baseline_eligible")]
    p = np.full(df.height, np.nan)
    for i in np.flatnonzero(tested):  # one scipy call per (group, metric): an aggregated row
        cc, ce, bc, be = (c[i] for c in cols)
        p[i] = fisher_exact([[cc, ce - cc], [bc, be - bc]], alternative="two-sided").pvalue
    return p


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q per row over the tested (non-nan) rows; nan elsewhere."""
    import numpy as np
    from scipy.stats import false_discovery_control

    q = np.full(p.shape, np.nan)
    mask = ~np.isnan(p)
    if mask.any():
        q[mask] = false_discovery_control(p[mask], method="bh")
    return q


def _pct(r: float) -> str:
    if r == 0:
        return "0%"
    return f"{r:.2%}" if r < 0.01 else f"{r:.1%}"


def _finding(row: dict, by: list[str], label: str, hint: str | None, min_rows: int) -> str:
    """One sentence for the aggregated ``row`` of :func:`compare` (see its docstring)."""
    group = ", ".join(f"{k} {'(missing)' if row[k] is None else row[k]}" for k in by) or "all rows"
    counts = f"{row['baseline_count']} of {row['baseline_eligible']} -> {row['candidate_count']} of {row['candidate_eligible']}"
    if row["p_value"] is None:
        return (
            f"{group}: {label}: too few rows to tell ({counts}; a rate needs {min_rows} "
            "eligible rows on each side)."
        )
    b, c, ratio, p = row["baseline_rate"], row["candidate_rate"], row["ratio"], row["p_value"]
    if b == c:
        return f"{group}: {label} unchanged at {_pct(b)} ({counts})."
    if ratio == float("inf"):
        move = "newly seen"
    elif ratio == 0:
        move = "no longer seen"
    elif f"{ratio:.1f}" == "1.0" or f"{1 / ratio:.1f}" == "1.0":
        move = "slightly more often" if c > b else "slightly less often"
    else:
        move = f"{ratio:.1f}x more often" if ratio > 1 else f"{1 / ratio:.1f}x less often"
    verdict = f"p={p:.1g}" if row["significant"] else f"p={p:.2g}, could be chance (q={row['q_value']:.2g})"
    text = f"{group}: {label} {move}: {_pct(b)} -> {_pct(c)} ({counts}), {verdict}."
    if row["worse"] and hint:
        text += f" Remediation: {hint.rstrip('.')}."
    return text


def compare(
    baseline: pl.LazyFrame,
    candidate: pl.LazyFrame,
    by: list[str],
    min_rows: int = MIN_RATE_ROWS,
    mirrors: bool = False,
) -> pl.DataFrame:
    """Every metric's rate per group on two sides, tested and worded, worst first.

    Input: two classified LazyFrames; ``by``: grouping columns present on both
    sides (e.g. ["route"]; [] = all rows as one group, named "all rows"; a column
    whose dtype differs between the sides is compared as text); ``min_rows``
    (>= 1): eligible rows each side needs for a rate and a test (default
    MIN_RATE_ROWS = 20); ``mirrors``: also report ``derived complete`` and
    ``stop_reason stop`` (reports.common.MIRRORS, left out by default: each is 1 - the other metrics of its
    kind, so its 2x2 table repeats the classes that moved, ties with them at the
    top and adds a test to the correction; a fall in ``stop`` can also be a rise
    in tool calls, which is not a failure).

    Counts come from :func:`reports.common.metric_counts` on each side (kinds rule,
    derived, stop_reason, disagree), joined on (by, kind, metric) with a full join:
    a group on one side only gets zero counts and zero eligible rows on the other.
    Rows whose two counts are both 0 are dropped.

    Output (DataFrame), one row per group and metric: the ``by`` columns, ``kind``
    (str), ``metric`` (str), ``baseline_count`` / ``candidate_count`` (u32: rows
    hit), ``baseline_eligible`` / ``candidate_eligible`` (u32: rows the metric
    could hit), ``baseline_rate`` / ``candidate_rate`` (f64, fraction 0..1; null
    when that side's eligible < ``min_rows``), ``ratio`` (f64: candidate_rate /
    baseline_rate; +inf when the baseline rate is 0 and the candidate's is not;
    null when a rate is null), ``change`` (f64: candidate_rate - baseline_rate, in
    rate units, 0.03 = 3 points; null when a rate is null), ``p_value`` (f64:
    two-sided Fisher's exact test on [[candidate hit, candidate not hit],
    [baseline hit, baseline not hit]], scipy.stats.fisher_exact), ``q_value``
    (f64: Benjamini-Hochberg over the rows tested in this call,
    scipy.stats.false_discovery_control), ``worse`` (bool: the candidate's rate is
    higher; for the mirrors it is lower; a rise in tool calls counts as worse too:
    a change of behaviour to read first), ``significant`` (bool: q_value <= FDR =
    0.05, either direction), ``note`` (str: why a row was not tested, e.g. ``too
    few rows: baseline 7, candidate 12 (< 20)``; null when tested), ``hint`` (str:
    remediation, Rule.hint for rules, rules.HINTS for derived classes and stop
    reasons, rules.HINTS for disagreement; null when there is none) and
    ``finding`` (str: one sentence naming the group, the metric, the move, both
    rates with their counts, p and the remediation of a worsening; for an untested
    row it says the group is too small to tell). A row with either eligible below
    ``min_rows`` is kept but not tested: its rates, ratio, change, p_value,
    q_value, worse and significant are null.

    Sorted: significant worsenings by p_value, then the other worsenings by
    p_value, then the rest (p_value, nulls last); ties in metric order (rule,
    derived, stop_reason, disagree; rules.rules() order) then ``by``.

    Raises ConfigError (exit 2): a ``by`` column missing on either side;
    ``min_rows`` < 1.
    """
    check_min_rows(min_rows)
    check_by(baseline, by)
    check_by(candidate, by)
    if not by:
        baseline, candidate = (f.with_columns(pl.lit("all rows").alias("_all")) for f in (baseline, candidate))
        keys = ["_all"]
    else:
        keys = list(by)
    b_schema, c_schema = baseline.collect_schema(), candidate.collect_schema()
    casts = {c: pl.String for c in keys if b_schema[c] != c_schema[c]}
    base, cand = pl.collect_all([_side(baseline, keys, casts, "baseline"), _side(candidate, keys, casts, "candidate")])
    counts = ["baseline_count", "baseline_eligible", "candidate_count", "candidate_eligible"]
    joined = (
        base.join(cand, on=[*keys, "kind", "metric"], how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col(counts).fill_null(0).cast(pl.UInt32))
        .filter((pl.col("baseline_count") > 0) | (pl.col("candidate_count") > 0))
    )
    if not mirrors:
        joined = joined.filter(~is_mirror())
    return _finish(joined, keys, by, min_rows)


def _finish(joined: pl.DataFrame, keys: list[str], by: list[str], min_rows: int) -> pl.DataFrame:
    """Rates, tests, verdicts, words and order for the joined counts (see compare)."""
    b_rate, c_rate = pl.col("baseline_rate"), pl.col("candidate_rate")
    key = pl.concat_str("kind", pl.lit("\x1f"), "metric")
    df = joined.with_columns(
        rate("baseline_count", "baseline_eligible", min_rows).alias("baseline_rate"),
        rate("candidate_count", "candidate_eligible", min_rows).alias("candidate_rate"),
    ).with_columns(
        pl.when(b_rate.is_null() | c_rate.is_null())
        .then(None)
        .when(b_rate == 0)
        .then(pl.lit(float("inf")))  # both 0 cannot happen: such rows were dropped
        .otherwise(c_rate / b_rate)
        .alias("ratio"),
        (c_rate - b_rate).alias("change"),
        pl.when(is_mirror()).then(c_rate < b_rate).otherwise(c_rate > b_rate).alias("worse"),
        pl.when(b_rate.is_null() | c_rate.is_null())
        .then(
            pl.format(
                "too few rows: baseline {}, candidate {} (< {})",
                "baseline_eligible",
                "candidate_eligible",
                pl.lit(min_rows),
            )
        )
        .alias("note"),
        key.replace_strict(_hints(), default=None, return_dtype=pl.String).alias("hint"),
        key.replace_strict(_labels(), default=None, return_dtype=pl.String).alias("_label"),
    )
    tested = df["note"].is_null().to_numpy()
    p = _fisher(df, tested)
    df = df.with_columns(
        pl.Series("p_value", p, dtype=pl.Float64).fill_nan(None),
        pl.Series("q_value", _bh(p), dtype=pl.Float64).fill_nan(None),
    ).with_columns((pl.col("q_value") <= FDR).alias("significant"))
    order = {f"{k}\x1f{m}": i for i, (k, m) in enumerate(metric_names())}
    df = df.with_columns(
        pl.when(pl.col("significant") & pl.col("worse")).then(0).when(pl.col("worse")).then(1).otherwise(2).alias("_rank"),
        key.replace_strict(order, default=len(order), return_dtype=pl.UInt32).alias("_order"),
    ).sort(["_rank", "p_value", "_order", *keys], nulls_last=True)
    findings = [
        _finding(row, by, row["_label"] or f"{row['kind']} {row['metric']}", row["hint"], min_rows)
        for row in df.iter_rows(named=True)  # aggregated rows: groups x metrics
    ]
    df = df.with_columns(pl.Series("finding", findings, dtype=pl.String))
    return df.select(*by, *COLUMNS)
