"""diff (per-group disagreement of stop_reason and derived_stop) and summary.

Both are LazyFrame -> LazyFrame group-bys (no per-row Python); the CLI renders them.
"""

from __future__ import annotations

import polars as pl

from ..rules import rules
from ..schema import DERIVED_STOP
from .common import check_by


def _rule_counts(prefix: str = "") -> list[pl.Expr]:
    return [pl.col("alerts").list.contains(r.name).sum().alias(f"{prefix}{r.name}") for r in rules()]


def diff(frame: pl.LazyFrame, by: list[str], examples: int = 0) -> pl.LazyFrame:
    """Per group and (stop_reason, derived_stop) pair: counts, rates, disagreement.

    Input: a classified LazyFrame; ``by``: grouping columns (e.g. ["route"]);
    ``examples``: how many disagreeing rows to quote per pair (0 = none).
    Output columns: the ``by`` columns, ``stop_reason`` (str), ``derived_stop``
    (str), ``expected_derived`` (str), ``disagrees`` (bool), ``count`` (u32),
    ``share`` (f64, count / group_rows), ``group_rows`` (u32),
    ``group_disagreements`` (u32), ``group_disagreement_rate`` (f64), one
    ``rule_<name>`` count (u32) per alert rule within the pair, and with
    ``examples`` > 0 an ``examples`` column (str: ``file:line «tail»`` joined by
    `` | ``). Sorted worst group first (disagreement rate, then rows), and inside a
    group disagreeing pairs first, then by count. Raises ConfigError for an
    unknown ``by`` column.
    """
    check_by(frame, by)
    base = frame.with_columns(pl.col("stop_reason").cast(pl.String), pl.col("derived_stop").cast(pl.String))
    pair_aggs = [pl.len().alias("count"), *_rule_counts("rule_")]
    if examples > 0:
        quote = pl.concat_str(
            [pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String), pl.lit(" «"), pl.col("output_tail"), pl.lit("»")]
        )
        pair_aggs.append(quote.filter(pl.col("disagrees")).head(examples).str.join(" | ").alias("examples"))
    pairs = base.group_by([*by, "stop_reason", "derived_stop", "expected_derived", "disagrees"]).agg(pair_aggs)
    groups = base.group_by(by).agg(
        pl.len().alias("group_rows"),
        pl.col("disagrees").sum().cast(pl.UInt32).alias("group_disagreements"),
    )
    out = pairs.join(groups, on=by, how="left", nulls_equal=True).with_columns(
        (pl.col("count") / pl.col("group_rows")).alias("share"),
        (pl.col("group_disagreements") / pl.col("group_rows")).alias("group_disagreement_rate"),
    )
    if examples > 0:
        out = out.with_columns(pl.when(pl.col("disagrees")).then(pl.col("examples")).alias("examples"))
    lead = [*by, "stop_reason", "derived_stop", "expected_derived", "disagrees", "count", "share", "group_rows", "group_disagreements", "group_disagreement_rate"]
    rest = [f"rule_{r.name}" for r in rules()] + (["examples"] if examples > 0 else [])
    return out.select(lead + rest).sort(
        ["group_disagreement_rate", "group_rows", *by, "disagrees", "count"],
        descending=[True, True, *([False] * len(by)), True, True],
        nulls_last=True,
    )


def summary(frame: pl.LazyFrame, worst: int = 5, by: str = "route") -> dict[str, pl.DataFrame]:
    """One-screen summary of a classified frame.

    Output dict of DataFrames:
    ``overview`` (rows, providers, models, routes, disagreements, disagreement_rate),
    ``providers`` / ``models`` (name, rows), ``derived`` (derived_stop, rows, rate),
    ``stop_reasons`` (stop_reason, rows, rate), ``alerts`` (rule, rows, rate),
    ``worst_routes`` (``by`` value, rows, disagreements, disagreement_rate, top alert)
    limited to ``worst`` groups with at least one disagreement.
    """
    check_by(frame, [by])
    df = frame.select(
        "provider", "model", by, "stop_reason", "derived_stop", "disagrees", "alerts"
    ).collect()
    n = df.height
    rate = (pl.col("rows") / max(n, 1)).alias("rate")
    overview = pl.DataFrame(
        {
            "rows": [n],
            "providers": [df["provider"].n_unique()],
            "models": [df["model"].drop_nulls().n_unique()],
            "routes": [df[by].n_unique()],
            "disagreements": [int(df["disagrees"].sum() or 0)],
        }
    ).with_columns((pl.col("disagreements") / max(n, 1)).alias("disagreement_rate"))
    derived = (
        pl.DataFrame({"derived_stop": list(DERIVED_STOP)})
        .join(df.group_by(pl.col("derived_stop").cast(pl.String)).agg(pl.len().alias("rows")), on="derived_stop", how="left")
        .with_columns(pl.col("rows").fill_null(0))
        .with_columns(rate)
    )
    stop = df.group_by(pl.col("stop_reason").cast(pl.String)).agg(pl.len().alias("rows")).sort("rows", descending=True).with_columns(rate)
    alert_rows = pl.DataFrame(
        {"rule": [r.name for r in rules()], "rows": [int(df["alerts"].list.contains(r.name).sum()) for r in rules()]}
    ).with_columns(rate)
    exploded = df.select(by, pl.col("alerts")).explode("alerts").drop_nulls("alerts")
    top_alert = exploded.group_by(by, "alerts").len().sort("len", descending=True).group_by(by, maintain_order=True).first()
    worst_routes = (
        df.group_by(by)
        .agg(pl.len().alias("rows"), pl.col("disagrees").sum().alias("disagreements"))
        .with_columns((pl.col("disagreements") / pl.col("rows")).alias("disagreement_rate"))
        .filter(pl.col("disagreements") > 0)
        .join(top_alert.select(by, pl.col("alerts").alias("top_alert")), on=by, how="left")
        .sort(["disagreement_rate", "rows"], descending=True)
        .head(worst)
    )
    return {
        "overview": overview,
        "providers": df.group_by("provider").agg(pl.len().alias("rows")).sort("rows", descending=True),
        "models": df.group_by("model").agg(pl.len().alias("rows")).sort("rows", descending=True),
        "stop_reasons": stop,
        "derived": derived,
        "alerts": alert_rows,
        "worst_routes": worst_routes,
    }
