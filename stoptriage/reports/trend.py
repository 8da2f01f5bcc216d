"""trend: the rate of each metric per group and time bucket, gaps included.

One group-by (:func:`reports.common.metric_counts` over ``[*by, "bucket"]``) gives
the counts; empty buckets between a group's first and last bucket are added by a
join on a per-group ``pl.datetime_ranges`` grid, so a sparkline never closes a gap
silently. :func:`trend_lines` folds the long frame to one row per group and
metric with a sparkline (:func:`sparkline`) for the terminal.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Sequence

import polars as pl

from ..errors import ConfigError, MissingColumnError
from ..rules import rules
from .common import KINDS, MIN_RATE_ROWS, MIRRORS, check_by, check_min_rows, metric_counts, metric_names, rate

#: ``--every``: a positive Polars duration, one or more ``<n><unit>`` with unit s
#: (seconds), m (minutes), h, d, w (weeks, from Monday), mo (calendar months), q, y.
EVERY_RE = re.compile(r"^(?:[1-9][0-9]*(?:mo|[smhdwqy]))+$")

#: Buckets one group may span (first to last): beyond it --every is too fine for the data.
MAX_BUCKETS = 5000

#: Sparkline levels, lowest to highest, and the mark for a bucket with no rate.
BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"

_SCHEMA_TAIL = {
    "bucket": pl.Datetime("us", "UTC"),
    "kind": pl.String,
    "metric": pl.String,
    "count": pl.UInt32,
    "eligible": pl.UInt32,
    "rows": pl.UInt32,
    "rate": pl.Float64,
    "note": pl.String,
}


class Trend(NamedTuple):
    """What :func:`trend` returns: ``frame`` (the long frame) and ``untimed`` (int:
    rows left out because their timestamp is null)."""

    frame: pl.DataFrame
    untimed: int


def check_every(every: str) -> str:
    """Return ``every`` if it is a bucket width :data:`EVERY_RE` accepts, else raise
    ConfigError (exit 2) naming --every and giving examples."""
    if not isinstance(every, str) or not EVERY_RE.match(every.strip()):
        raise ConfigError(
            f"--every {every}: expected a duration such as 30m, 1h, 6h, 1d or 1w "
            "(a number and s, m, h, d, w, mo, q or y; combinations like 1d12h work)"
        )
    return every.strip()


def _metric_table() -> pl.DataFrame:
    """(kind, metric, _order, _eligible_rows) for every metric, in report order."""
    desc = {r.name: r.eligible_rows for r in rules()}
    pairs = metric_names()
    return pl.DataFrame(
        {
            "kind": [k for k, _ in pairs],
            "metric": [m for _, m in pairs],
            "_order": list(range(len(pairs))),
            "_eligible_rows": [desc.get(m, "all rows") if k == "rule" else "all rows" for k, m in pairs],
        },
        schema={"kind": pl.String, "metric": pl.String, "_order": pl.UInt32, "_eligible_rows": pl.String},
    )


def select_metrics(metrics: list[str] | None) -> list[tuple[str, str]] | None:
    """Resolve ``--metric`` names to (kind, metric) pairs; None when not given.

    A name is a rule, derived class, stop reason or ``disagrees``; a name of two
    kinds (``refusal``, ``tool_call``: derived class and stop reason) keeps both
    unless written ``kind:name`` (``derived:refusal``). Raises ConfigError listing
    the valid names for an unknown one.
    """
    if not metrics:
        return None
    pairs = metric_names()
    chosen: list[tuple[str, str]] = []
    for raw in metrics:
        name = raw.strip()
        kind, _, bare = name.rpartition(":")
        hits = [p for p in pairs if p[1] == bare and (not kind or p[0] == kind)]
        if not hits:
            listing = "; ".join(f"{k}: {', '.join(m for kk, m in pairs if kk == k)}" for k in KINDS)
            raise ConfigError(f"--metric {name}: no such metric; metrics are {listing} (kind:name picks one kind)")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _empty(by: list[str], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema={**{b: schema[b] for b in by}, **_SCHEMA_TAIL})


def trend(
    frame: pl.LazyFrame,
    every: str,
    by: list[str],
    metrics: list[str] | None = None,
    min_rows: int = MIN_RATE_ROWS,
) -> Trend:
    """Rate of each metric per group of ``by`` and time bucket of width ``every``.

    Input: a classified LazyFrame (``timestamp`` datetime UTC plus the columns
    :func:`reports.common.metric_counts` reads); ``every``: bucket width (see
    :func:`check_every`; buckets start at ``timestamp.dt.truncate(every)``, UTC,
    weeks on Mondays); ``by``: grouping columns; ``metrics``: names to keep (see
    :func:`select_metrics`), default every metric with a nonzero count in some
    bucket, plus ``disagrees``, minus reports.common.MIRRORS (``--metric complete`` / ``--metric stop`` shows them); ``min_rows``:
    eligible rows a bucket needs for a rate (default MIN_RATE_ROWS = 20).

    Output: :class:`Trend` with ``frame``, one row per group, metric and bucket
    from the group's first to its last bucket, empty ones included: the ``by``
    columns, ``bucket`` (datetime[us, UTC], bucket start), ``kind`` (str: rule |
    derived | stop_reason | disagree), ``metric`` (str), ``count`` (u32: rows hit),
    ``eligible`` (u32: rows the metric could hit), ``rows`` (u32: rows in the
    bucket), ``rate`` (f64 count / eligible, null when eligible < ``min_rows``),
    ``note`` (str, null when there is a rate: "no rows", "no eligible rows (...)"
    or "too few rows (7 < 20)"); sorted by group, metric (report order), bucket.
    ``untimed``: rows with a null timestamp, left out (counted, not dropped silently).

    Raises ConfigError (exit 2) for a bad ``every``, ``by`` column, metric name,
    ``min_rows`` < 1, or a span of more than MAX_BUCKETS buckets;
    MissingColumnError (exit 1) when no row has a timestamp.
    """
    every = check_every(every)
    check_min_rows(min_rows)
    if "bucket" in by:
        raise ConfigError("--by bucket: 'bucket' is the time bucket trend adds; group by another column")
    check_by(frame, by)
    wanted = select_metrics(metrics)
    schema = frame.collect_schema()

    # One pass: rows without a timestamp land in the null bucket, counted there.
    keys = [*by, "bucket"]
    counted = metric_counts(frame.with_columns(pl.col("timestamp").dt.truncate(every).alias("bucket")), keys).collect()
    untimed_rows = counted.filter(pl.col("bucket").is_null() & (pl.col("kind") == "disagree"))
    untimed = int(untimed_rows["rows"].sum() or 0)
    counted = counted.filter(pl.col("bucket").is_not_null())
    if counted.is_empty():
        if untimed:
            raise MissingColumnError(
                f"no row has a timestamp ({untimed} rows): trend needs one; for a flat table map it with --map timestamp=COLUMN"
            )
        return Trend(_empty(by, schema), 0)

    # The grid: every bucket from each group's first to its last, times every metric.
    spans = counted.group_by(by).agg(pl.col("bucket").min().alias("_first"), pl.col("bucket").max().alias("_last"))
    grid = spans.select(
        *by, pl.datetime_ranges("_first", "_last", interval=every, time_unit="us", time_zone="UTC").alias("bucket")
    )
    widest = int(grid["bucket"].list.len().max() or 0)
    if widest > MAX_BUCKETS:
        raise ConfigError(f"--every {every}: {widest} buckets from first to last timestamp (at most {MAX_BUCKETS}); use a longer interval")
    table = _metric_table()
    if wanted is None:
        hit = counted.filter(pl.col("count") > 0).select("kind", "metric").unique()
        excluded = pl.DataFrame(list(MIRRORS), schema=["kind", "metric"], orient="row")
        keep = table.join(hit, on=["kind", "metric"], how="semi").join(excluded, on=["kind", "metric"], how="anti")
        keep = pl.concat([keep, table.filter(pl.col("kind") == "disagree")]).unique(maintain_order=True)
    else:
        keep = table.join(pl.DataFrame(wanted, schema=["kind", "metric"], orient="row"), on=["kind", "metric"], how="semi")
    full = (
        grid.explode("bucket")
        .join(keep, how="cross")
        .join(counted, on=[*keys, "kind", "metric"], how="left", nulls_equal=True)
        .with_columns(pl.col("count", "eligible", "rows").fill_null(0))
    )
    note = (
        pl.when(pl.col("rows") == 0)
        .then(pl.lit("no rows"))
        .when(pl.col("eligible") == 0)
        .then(pl.concat_str([pl.lit("no eligible rows ("), pl.col("_eligible_rows"), pl.lit(")")]))
        .when(pl.col("eligible") < min_rows)
        .then(pl.format("too few rows ({} < {})", pl.col("eligible"), pl.lit(min_rows)))
    )
    out = full.with_columns(rate(min_rows=min_rows).alias("rate"), note.alias("note")).sort(
        [*by, "_order", "bucket"], nulls_last=True
    )
    return Trend(out.select(*by, *_SCHEMA_TAIL).cast(_SCHEMA_TAIL), untimed)


def _spark(rate: pl.Expr, top: pl.Expr) -> pl.Expr:
    """One sparkline character per value: GAP for null, else BLOCKS[ceil(rate / top * 7)]
    (▁ only for 0, █ for the top; every value 0 when top is 0)."""
    level = pl.when(top > 0).then((rate / top * (len(BLOCKS) - 1)).ceil()).otherwise(0.0)
    level = level.clip(0, len(BLOCKS) - 1).cast(pl.Int64)
    return pl.when(rate.is_null()).then(pl.lit(GAP)).otherwise(pl.lit(BLOCKS).str.slice(level, 1))


def sparkline(values: Sequence[float | None]) -> str:
    """Sparkline text of ``values`` (rates, ≥ 0; None = no rate), one character each.

    Scaled from 0 to the largest value: 0 is ▁, the largest █, anything above 0 at
    least ▂ (level = ceil(value / max * 7)); all zeros give all ▁; None gives
    :data:`GAP` (``·``: a bucket with too few or no rows; a space would vanish at
    the end of a line). Written here: no maintained library does this small thing
    in Polars (the PyPI ``sparklines`` package is unmaintained and has no gap mark).
    """
    col = pl.Series("rate", list(values), dtype=pl.Float64)
    return pl.select(_spark(pl.lit(col), pl.lit(col).max()).str.join("")).item() or ""


def trend_lines(trend_frame: pl.DataFrame, by: list[str], min_rows: int = MIN_RATE_ROWS) -> pl.DataFrame:
    """Fold a :func:`trend` frame to one row per group and metric, for the terminal.

    Input: ``Trend.frame`` (sorted by group, metric, bucket); ``by``: its group
    columns; ``min_rows``: as given to trend. Output columns: the ``by`` columns,
    ``kind``, ``metric`` (str), ``sparkline`` (str, one character per bucket, see
    :func:`sparkline`), ``first_rate`` / ``last_rate`` (f64: the first and last
    bucket rates that are not null), ``max_rate`` (f64), ``overall_rate`` (f64:
    all counts / all eligible rows, null below ``min_rows``), ``count`` (u32 total),
    ``eligible`` (u32 total), ``first_bucket`` / ``last_bucket`` (datetime UTC),
    ``buckets`` (u32). Rates are null when no bucket has one. Order kept.
    """
    keys = [*by, "kind", "metric"]
    shown = pl.col("rate").drop_nulls()
    return (
        trend_frame.group_by(keys, maintain_order=True)
        .agg(
            _spark(pl.col("rate"), pl.col("rate").max()).str.join("").alias("sparkline"),
            shown.first().alias("first_rate"),
            shown.last().alias("last_rate"),
            pl.col("rate").max().alias("max_rate"),
            pl.col("count").sum().cast(pl.UInt32).alias("count"),
            pl.col("eligible").sum().cast(pl.UInt32).alias("eligible"),
            pl.col("bucket").min().alias("first_bucket"),
            pl.col("bucket").max().alias("last_bucket"),
            pl.len().cast(pl.UInt32).alias("buckets"),
        )
        .with_columns(rate(min_rows=min_rows).alias("overall_rate"))
        .select(*keys, "sparkline", "first_rate", "last_rate", "max_rate", "overall_rate", "count", "eligible", "first_bucket", "last_bucket", "buckets")
    )
