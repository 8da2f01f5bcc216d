"""diff (per-group disagreement of stop_reason and derived_stop) and summary.

Both are group-bys whose state is per group, not per row (no per-row Python), so
they run in bounded memory in the streaming engine: ``diff`` returns the LazyFrame,
``summary`` collects one streaming group-by and derives its small tables from it.
The CLI renders them.
"""

from __future__ import annotations

import polars as pl

from ..rules import rules
from ..schema import DERIVED_STOP
from ..signals import output_length_tokens
from .common import check_by


def _rule_counts(prefix: str = "") -> list[pl.Expr]:
    return [pl.col("alerts").list.contains(r.name).sum().alias(f"{prefix}{r.name}") for r in rules()]


def _length_quantiles(frame: pl.LazyFrame, by: list[str]) -> pl.DataFrame:
    """Per ``by`` group: ``group_p50_output_tokens`` and ``group_p95_output_tokens``
    (f64), equal to ``quantile(q, interpolation="linear")`` of the group's output
    tokens (output_tokens, else output_chars / 4 rounded up; nulls skipped).

    Run EAGERLY, as a pass of its own (streaming engine) over the columns it needs:
    a group-by counts rows per (group, token count), and the quantiles are read off
    the cumulative counts, so the state is one row per distinct length in a group,
    not one per row. Measured at 10M rows (benchmarks/bench_stream.py): a
    ``quantile`` inside the streaming group-by falls back to an in-memory group-by
    holding every row's key and length, and any second group-by fed from the
    classified rows in the same plan goes through an unbounded multiplexer buffer
    that grew with the input (1.3-1.5 GB against 0.6 GB for one group-by). For the
    usual ``by`` (route, model, an input column) the pass reads only the length
    columns; a ``by`` computed by classification repeats the classification.
    """
    tokens = output_length_tokens()
    hist = frame.select(*by, tokens.alias("_t")).drop_nulls("_t").group_by([*by, "_t"]).agg(pl.len().alias("_n")).collect(engine="streaming")
    n = pl.col("_n").sum()
    seen = pl.col("_n").cum_sum()  # rows with a length <= _t (the group's rows are sorted by _t)

    def quantile(q: float) -> pl.Expr:
        # As Polars' linear quantile of the n sorted values: h = q (n - 1),
        # value[floor h] + (value[floor h + 1] - value[floor h]) (h - floor h).
        h = (n - 1).cast(pl.Float64) * q
        lo = h.floor()
        low = pl.col("_t").filter(seen > lo).first()
        high = pl.col("_t").filter(seen > pl.min_horizontal(lo + 1, n - 1)).first()
        return low + (high - low) * (h - lo)

    return (
        hist.sort([*by, "_t"], nulls_last=True)
        .group_by(by, maintain_order=True)
        .agg(quantile(0.5).alias("group_p50_output_tokens"), quantile(0.95).alias("group_p95_output_tokens"))
    )


def diff(frame: pl.LazyFrame, by: list[str], examples: int = 0) -> pl.LazyFrame:
    """Per group and (stop_reason, derived_stop) pair: counts, rates, disagreement.

    Input: a classified LazyFrame; ``by``: grouping columns (e.g. ["route"]);
    ``examples``: how many disagreeing rows to quote per pair (0 = none).
    Output columns: the ``by`` columns, ``stop_reason`` (str), ``derived_stop``
    (str), ``expected_derived`` (str), ``disagrees`` (bool), ``count`` (u32),
    ``share`` (f64, count / group_rows), ``group_rows`` (u32),
    ``group_disagreements`` (u32), ``group_disagreement_rate`` (f64),
    ``group_p50_output_tokens`` / ``group_p95_output_tokens`` (f64: quantiles of
    the group's output length in tokens, linear interpolation, every row counted,
    output_tokens or else output_chars / 4 rounded up as for the length signals
    (signals.output_length_tokens, which it calls); null when no row has a length), one ``rule_<name>``
    count (u32) per alert rule within the pair, and with ``examples`` > 0 an
    ``examples`` column (str: ``file:line «tail»`` joined by `` | ``). Sorted worst
    group first (disagreement rate, then rows, then the ``by`` values), and inside
    a group disagreeing pairs first, then by count, then stop_reason and
    derived_stop (a total order: the same rows in the same order from either
    engine). Raises ConfigError for an unknown ``by`` column.

    Memory in the streaming engine: one group-by over the classified rows, with
    state per pair; the quantiles come from a first pass run when this function is
    called, with state per distinct output length (:func:`_length_quantiles`).
    With ``examples`` > 0 the per-pair ``head`` runs in memory: keep examples for
    small inputs.
    """
    check_by(frame, by)
    base = frame.with_columns(pl.col("stop_reason", "derived_stop", "expected_derived").cast(pl.String))
    pair_aggs = [pl.len().alias("count"), *_rule_counts("rule_")]
    if examples > 0:
        quote = pl.concat_str(
            [pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String), pl.lit(" «"), pl.col("output_tail"), pl.lit("»")]
        )
        pair_aggs.append(quote.filter(pl.col("disagrees")).head(examples).str.join(" | ").alias("examples"))
    pairs = base.group_by([*by, "stop_reason", "derived_stop", "expected_derived", "disagrees"]).agg(pair_aggs)
    # The group totals come from the pairs, not from a second group-by over the rows
    # (which would need a multiplexer buffer: see _length_quantiles).
    groups = (
        pairs.group_by(by)
        .agg(
            pl.col("count").sum().alias("group_rows"),
            pl.col("count").filter(pl.col("disagrees")).sum().cast(pl.UInt32).alias("group_disagreements"),
        )
        .join(_length_quantiles(frame, by).lazy(), on=by, how="left", nulls_equal=True)
    )
    out = pairs.join(groups, on=by, how="left", nulls_equal=True).with_columns(
        (pl.col("count") / pl.col("group_rows")).alias("share"),
        (pl.col("group_disagreements") / pl.col("group_rows")).alias("group_disagreement_rate"),
    )
    if examples > 0:
        out = out.with_columns(pl.when(pl.col("disagrees")).then(pl.col("examples")).alias("examples"))
    lead = [*by, "stop_reason", "derived_stop", "expected_derived", "disagrees", "count", "share", "group_rows", "group_disagreements", "group_disagreement_rate"]
    quantiles = ["group_p50_output_tokens", "group_p95_output_tokens"]
    rest = [f"rule_{r.name}" for r in rules()] + (["examples"] if examples > 0 else [])
    return out.select(lead + quantiles + rest).sort(
        ["group_disagreement_rate", "group_rows", *by, "disagrees", "count", "stop_reason", "derived_stop"],
        descending=[True, True, *([False] * len(by)), True, True, False, False],
        nulls_last=True,
    )


def summary(frame: pl.LazyFrame, worst: int = 5, by: str = "route") -> dict[str, pl.DataFrame]:
    """One-screen summary of a classified frame.

    Output dict of DataFrames:
    ``overview`` (rows, providers, models, routes, disagreements: i64;
    disagreement_rate: f64), ``providers`` / ``models`` (name, rows: u32),
    ``derived`` (derived_stop, rows: u32, rate), ``stop_reasons`` (stop_reason, rows:
    u32, rate), ``alerts`` (rule, rows: i64, rate), ``worst_routes`` (``by`` value,
    rows, disagreements: u32, disagreement_rate, top_alert: the rule that fired on
    most of its rows, ties to the rule listed first in alert_rules.toml) limited to
    ``worst`` groups with at least one disagreement. Rates are shares of all rows.
    Raises ConfigError for an unknown ``by`` column.

    Memory: one streaming group-by over (provider, model, ``by``, stop_reason,
    derived_stop) counting rows, disagreements and each rule; every part is derived
    from those few cells, so memory is per cell, not per row.
    """
    check_by(frame, [by])
    keys = list(dict.fromkeys(["provider", "model", by, "stop_reason", "derived_stop"]))
    cells = (
        frame.group_by(keys)
        .agg(
            pl.len().alias("rows"),
            pl.col("disagrees").sum().alias("disagreements"),
            *_rule_counts("_rule_"),
        )
        .collect(engine="streaming")
    )
    return _summary_parts(cells, worst, by)


def _summary_parts(cells: pl.DataFrame, worst: int, by: str) -> dict[str, pl.DataFrame]:
    """The parts of :func:`summary` from its grouped cells (one row per provider,
    model, ``by``, stop_reason, derived_stop with ``rows``, ``disagreements`` and
    ``_rule_<name>`` counts, as :func:`_rule_counts` names them)."""
    names = [r.name for r in rules()]
    n = int(cells["rows"].sum())
    rate = (pl.col("rows") / max(n, 1)).alias("rate")
    overview = pl.DataFrame(
        {
            "rows": [n],
            "providers": [cells["provider"].n_unique()],
            "models": [cells["model"].drop_nulls().n_unique()],
            "routes": [cells[by].n_unique()],
            "disagreements": [int(cells["disagreements"].sum())],
        }
    ).with_columns((pl.col("disagreements") / max(n, 1)).alias("disagreement_rate"))
    rows = pl.col("rows").sum()

    def by_rows(key: str) -> pl.DataFrame:
        # Rows per value of ``key``, most first; ties go by name, so that the same input
        # prints the same report (a group-by returns its groups in no set order).
        return cells.group_by(pl.col(key).cast(pl.String)).agg(rows).sort(["rows", key], descending=[True, False], nulls_last=True)

    derived = (
        pl.DataFrame({"derived_stop": list(DERIVED_STOP)})
        .join(cells.group_by(pl.col("derived_stop").cast(pl.String)).agg(rows), on="derived_stop", how="left")
        .with_columns(pl.col("rows").fill_null(0))
        .with_columns(rate)
    )
    stop = by_rows("stop_reason").with_columns(rate)
    rule_cols = [f"_rule_{name}" for name in names]
    alert_rows = pl.DataFrame({"rule": names, "rows": [int(cells[c].sum()) for c in rule_cols]}).with_columns(rate)
    per_route = cells.group_by(by).agg(rows, pl.col("disagreements").sum(), *[pl.col(c).sum() for c in rule_cols])
    # The rule that fired on most of the route's rows; ties go to the rule listed first.
    top_alert = (
        per_route.unpivot(rule_cols, index=by, variable_name="_rule", value_name="_hits")
        .filter(pl.col("_hits") > 0)
        .with_columns(pl.col("_rule").str.strip_prefix("_rule_").alias("top_alert"))
        .with_columns(pl.col("top_alert").replace_strict(names, range(len(names)), return_dtype=pl.Int64).alias("_order"))
        .sort([by, "_hits", "_order"], descending=[False, True, False], nulls_last=True)
        .group_by(by, maintain_order=True)
        .first()
        .select(by, "top_alert")
    )
    worst_routes = (
        per_route.select(by, "rows", "disagreements")
        .with_columns((pl.col("disagreements") / pl.col("rows")).alias("disagreement_rate"))
        .filter(pl.col("disagreements") > 0)
        .join(top_alert, on=by, how="left")
        .sort(["disagreement_rate", "rows", by], descending=[True, True, False], nulls_last=True)
        .head(worst)
    )
    return {
        "overview": overview,
        "providers": by_rows("provider"),
        "models": by_rows("model"),
        "stop_reasons": stop,
        "derived": derived,
        "alerts": alert_rows,
        "worst_routes": worst_routes,
    }
