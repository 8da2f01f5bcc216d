"""Alert rules per group against thresholds: which (rule, route) pairs fire.

Thresholds come from data/alert_rules.toml (shipped) merged with a user's TOML file
(stdlib tomllib); the rule conditions themselves are rules.py's (taxonomy.md §4).
Counts come from reports.common.metric_counts, so alerts, compare and trend agree.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

from ..errors import ConfigError
from ..rules import rules
from .common import check_by, metric_counts, rate

#: Keys a rule's thresholds may set (README "Alert rules"), with their types.
KEYS: dict[str, type | tuple[type, ...]] = {
    "enabled": bool,
    "min_rows": int,
    "min_count": int,
    "rate": (int, float),
    "ratio": (int, float),
}
#: Example ids quoted per fired (rule, group).
EXAMPLE_IDS = 3


@dataclass(frozen=True)
class Threshold:
    """When one rule fires for a group: ``eligible >= min_rows``, ``count >=
    min_count``, ``rate >= rate`` and, with a baseline and ``ratio`` set,
    ``rate / baseline_rate >= ratio``. ``enabled`` false turns the rule off."""

    rule: str
    enabled: bool
    min_rows: int
    min_count: int
    rate: float
    ratio: float | None


def _read_toml(source: str, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc


def _check_keys(source: str, where: str, table: object) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{where}] must be a table of thresholds")
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(f"{source}: [{where}] unknown key {key!r}; keys are: {', '.join(KEYS)}")
        expected = KEYS[key]
        if isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
            kind = "true or false" if expected is bool else "a number" if expected != int else "a whole number"
            raise ConfigError(f"{source}: [{where}] {key} = {value!r}: expected {kind}")
        if key in ("rate",) and not 0 <= value <= 1:
            raise ConfigError(f"{source}: [{where}] rate = {value}: expected a fraction between 0 and 1 (0.02 = 2%)")
        if key in ("min_rows", "min_count", "ratio") and value < 0:
            raise ConfigError(f"{source}: [{where}] {key} = {value}: expected a number >= 0")
    return table


def _layer(source: str, doc: dict) -> tuple[dict, dict[str, dict]]:
    names = [r.name for r in rules()]
    unknown = [k for k in doc if k not in ("version", "defaults", "rules")]
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) {', '.join(unknown)}; expected [defaults] and [rules.NAME]")
    if doc.get("version", 1) != 1:
        raise ConfigError(f"{source}: version {doc['version']!r}: this release reads version 1")
    defaults = _check_keys(source, "defaults", doc.get("defaults", {}))
    per_rule = doc.get("rules", {})
    if not isinstance(per_rule, dict):
        raise ConfigError(f"{source}: rules must be tables [rules.NAME]")
    for name, table in per_rule.items():
        if name not in names:
            raise ConfigError(f"{source}: [rules.{name}]: no such rule; rules are: {', '.join(names)}")
        _check_keys(source, f"rules.{name}", table)
    return defaults, per_rule


def load_thresholds(path: str | Path | None = None) -> dict[str, Threshold]:
    """Rule name -> :class:`Threshold`: data/alert_rules.toml, then ``path`` on top.

    A user file's ``[defaults]`` replace the shipped defaults for every rule that does
    not set the key itself (in either file); its ``[rules.NAME]`` keys replace that
    rule's. Raises ConfigError (exit 2) naming the file for unreadable or invalid TOML,
    an unknown rule, table or key, or a value of the wrong type or range."""
    shipped = resources.files("stoptriage").joinpath("data/alert_rules.toml")
    layers = [_layer("data/alert_rules.toml", _read_toml("data/alert_rules.toml", shipped.read_text("utf-8")))]
    if path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"--rules {path}: cannot read: {exc.strerror or exc}") from exc
        layers.append(_layer(str(path), _read_toml(str(path), text)))
    out = {}
    for rule in rules():
        merged: dict = {"enabled": True, "ratio": None}
        for defaults, _ in layers:
            merged.update(defaults)
        for _, per_rule in layers:
            merged.update(per_rule.get(rule.name, {}))
        missing = [k for k in ("min_rows", "min_count", "rate") if k not in merged]
        if missing:
            raise ConfigError(f"rule {rule.name}: no {', '.join(missing)} in [defaults] or [rules.{rule.name}]")
        out[rule.name] = Threshold(rule.name, merged["enabled"], int(merged["min_rows"]), int(merged["min_count"]), float(merged["rate"]), merged["ratio"])
    return out


def _example_ids(frame: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """by..., rule, examples (str): the first EXAMPLE_IDS rows that fired, as
    trace_id/span_id (or trace_id, or source_file:source_line), joined by ``; ``."""
    ident = pl.coalesce(
        pl.concat_str([pl.col("trace_id"), pl.col("span_id")], separator="/"),
        pl.col("trace_id"),
        pl.concat_str([pl.col("source_file"), pl.col("source_line").cast(pl.String)], separator=":"),
    )
    fired = frame.select(*by, ident.alias("_id"), pl.col("alerts")).explode("alerts").drop_nulls("alerts")
    return fired.group_by([*by, "alerts"], maintain_order=True).agg(pl.col("_id").head(EXAMPLE_IDS).str.join("; ").alias("examples")).rename({"alerts": "rule"})


def evaluate(
    frame: pl.LazyFrame,
    by: list[str],
    thresholds: dict[str, Threshold] | None = None,
    baseline: pl.LazyFrame | None = None,
    everything: bool = False,
) -> pl.DataFrame:
    """Evaluate every enabled rule per group of ``by`` against its thresholds.

    Input: a classified LazyFrame (and optionally a classified ``baseline`` export for
    the ratio condition); ``thresholds`` from :func:`load_thresholds` (default: the
    shipped ones). Output (DataFrame), one row per (rule, group) that fired, or with
    ``everything`` every (rule, group) evaluated: the ``by`` columns, ``rule`` (str),
    ``status`` (str: fired | quiet | too_few_rows), ``rate`` (f64, count / eligible;
    null when eligible < min_rows), ``count``, ``eligible``, ``rows`` (u32),
    ``threshold`` (f64, the rule's rate), ``min_count``, ``min_rows`` (i64),
    ``baseline_rate`` (f64, null without a baseline or when the baseline group is too
    small), ``ratio`` (f64, rate / baseline_rate; +inf for a zero baseline rate),
    ``threshold_ratio`` (f64, null when unset), ``examples`` (str, ids of the first
    rows that fired), ``hint`` and ``condition`` (str). Sorted fired first, then by
    how far the rate is over its threshold. Raises ConfigError for an unknown ``by``
    column.
    """
    check_by(frame, by)
    thresholds = thresholds or load_thresholds()
    meta = pl.DataFrame(
        [
            {
                "rule": r.name,
                "threshold": thresholds[r.name].rate,
                "min_count": thresholds[r.name].min_count,
                "min_rows": thresholds[r.name].min_rows,
                "threshold_ratio": None if thresholds[r.name].ratio is None else float(thresholds[r.name].ratio),
                "hint": r.hint,
                "condition": r.condition,
            }
            for r in rules()
            if thresholds[r.name].enabled
        ],
        schema={"rule": pl.String, "threshold": pl.Float64, "min_count": pl.Int64, "min_rows": pl.Int64, "threshold_ratio": pl.Float64, "hint": pl.String, "condition": pl.String},
    )
    counts = metric_counts(frame, by).filter(pl.col("kind") == "rule").drop("kind").rename({"metric": "rule"})
    out = counts.join(meta.lazy(), on="rule", how="inner")
    if baseline is not None:
        check_by(baseline, by)
        base = (
            metric_counts(baseline, by)
            .filter(pl.col("kind") == "rule")
            .select(*by, pl.col("metric").alias("rule"), pl.col("count").alias("baseline_count"), pl.col("eligible").alias("baseline_eligible"))
        )
        out = out.join(base, on=[*by, "rule"], how="left", nulls_equal=True)
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.UInt32).alias("baseline_count"), pl.lit(None, dtype=pl.UInt32).alias("baseline_eligible"))
    rated = pl.col("eligible") >= pl.col("min_rows")
    out = out.with_columns(
        rate("count", "eligible", pl.col("min_rows")).alias("rate"),
        rate("baseline_count", "baseline_eligible", pl.col("min_rows")).alias("baseline_rate"),
    ).with_columns(
        pl.when(pl.col("baseline_rate") > 0).then(pl.col("rate") / pl.col("baseline_rate"))
        .when((pl.col("baseline_rate") == 0) & (pl.col("rate") > 0)).then(float("inf"))
        .when(pl.col("baseline_rate") == 0).then(0.0)
        .alias("ratio"),
    )
    ratio_ok = pl.col("threshold_ratio").is_null() | pl.col("ratio").is_null() | (pl.col("ratio") >= pl.col("threshold_ratio"))
    fires = rated & (pl.col("count") >= pl.col("min_count")) & (pl.col("rate") >= pl.col("threshold")) & ratio_ok
    out = out.with_columns(
        pl.when(fires).then(pl.lit("fired")).when(~rated).then(pl.lit("too_few_rows")).otherwise(pl.lit("quiet")).alias("status")
    )
    if not everything:
        out = out.filter(pl.col("status") == "fired")
    out = out.join(_example_ids(frame, by), on=[*by, "rule"], how="left", nulls_equal=True)
    order = {r.name: i for i, r in enumerate(rules())}
    cols = [*by, "rule", "status", "rate", "count", "eligible", "rows", "threshold", "min_count", "min_rows",
            "baseline_rate", "ratio", "threshold_ratio", "examples", "hint", "condition"]
    return (
        out.select(cols)
        .with_columns(
            (pl.col("status") != "fired").alias("_quiet"),
            (pl.col("rate") / pl.when(pl.col("threshold") > 0).then(pl.col("threshold")).otherwise(None)).alias("_over"),
            pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_order"),
        )
        .sort(["_quiet", "_over", "count", "_order", *by], descending=[False, True, True, False, *([False] * len(by))], nulls_last=True)
        .drop("_quiet", "_over", "_order")
        .collect()
    )


def too_small(result: pl.DataFrame) -> int:
    """How many (rule, group) pairs had fired rows but too few eligible rows to rate
    (``evaluate(..., everything=True)`` output)."""
    return result.filter((pl.col("status") == "too_few_rows") & (pl.col("count") > 0)).height
