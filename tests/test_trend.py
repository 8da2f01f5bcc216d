"""stoptriage trend on the issue-5 regression exports: the daily step, gaps, small buckets, errors."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import invoke, run_main
from regression_data import DEPLOY
import stoptriage
from stoptriage.cli import app
from stoptriage.reports.trend import BLOCKS, GAP, select_metrics, sparkline, trend, trend_lines

runner = CliRunner()


@pytest.fixture(scope="module")
def both_frame(exports):
    """both.jsonl classified once (a DataFrame; call .lazy() for the reports)."""
    return stoptriage.classify([exports[2]]).frame.collect()


def test_trend_shows_the_step_on_invoice_extract(exports):
    result = invoke("trend", str(exports[2]), "--every", "1d", "--by", "route", "--metric", "truncated_json")
    df = pl.read_csv(io.StringIO(result.stdout), try_parse_dates=True)
    assert df.columns == ["route", "bucket", "kind", "metric", "count", "eligible", "rows", "rate", "note"]
    assert set(df["metric"]) == {"truncated_json"} and set(df["kind"]) == {"rule"}
    inv = df.filter(pl.col("route") == "invoice-extract").sort("bucket")
    assert inv.height == 6  # three days before DEPLOY, three after
    before = inv.filter(pl.col("bucket") < DEPLOY)
    after = inv.filter(pl.col("bucket") >= DEPLOY)
    assert before.height == 3 and after.height == 3
    # Every day before is under 2.5%, every day after over 3%; pooled 1.5% -> 4.5%.
    assert before["rate"].max() < 0.025 and after["rate"].min() > 0.03
    assert before["count"].sum() / before["eligible"].sum() == pytest.approx(0.015, abs=1e-9)
    assert after["count"].sum() / after["eligible"].sum() == pytest.approx(0.045, abs=1e-9)
    summarize = df.filter(pl.col("route") == "summarize")
    assert summarize.height == 6 and summarize["count"].sum() == 0 and summarize["rows"].min() > 100
    # summarize has no JSON: no eligible rows, so no rate (not 0%) and a note that says why.
    assert summarize["rate"].null_count() == 6
    assert summarize["note"].str.starts_with("no eligible rows").all()


def test_sparkline_on_terminal_shows_low_then_high(exports, both_frame):
    result = trend(both_frame.lazy(), "1d", ["route"], ["truncated_json"])
    lines = trend_lines(result.frame, ["route"])
    line = lines.filter(pl.col("route") == "invoice-extract").row(0, named=True)
    levels = [BLOCKS.index(c) for c in line["sparkline"]]
    assert len(levels) == 6 and max(levels[:3]) < min(levels[3:])
    assert line["first_rate"] < 0.025 and line["last_rate"] > 0.03 and line["count"] == 72
    table = invoke("trend", str(exports[2]), "--every", "1d", "--metric", "truncated_json", "--format", "table").stdout
    assert "invoice-extract" in table and line["sparkline"] in table
    assert "2026-03-02..2026-03-07 (6)" in table
    assert GAP * 6 in table  # summarize/support-chat: no eligible rows, shown as gaps not ▁


def test_small_buckets_get_a_null_rate_and_a_note(exports):
    out = invoke("trend", str(exports[2]), "--every", "1h", "--by", "route", "--metric", "truncated_json").stdout
    df = pl.read_csv(io.StringIO(out)).filter(pl.col("route") == "invoice-extract")
    small = df.filter((pl.col("eligible") < 20) & (pl.col("rows") > 0))
    assert small.height > 10  # ~17 invoice rows an hour
    assert small["rate"].null_count() == small.height
    assert small["note"].to_list() == [f"too few rows ({n} < 20)" for n in small["eligible"]]
    big = df.filter(pl.col("eligible") >= 20)
    assert big.height > 0 and big["rate"].null_count() == 0 and big["note"].null_count() == big.height
    # --min-rows lowers the bar: the same buckets get a rate.
    low = pl.read_csv(io.StringIO(invoke("trend", str(exports[2]), "--every", "1h", "--metric", "truncated_json", "--min-rows", "5").stdout))
    low = low.filter((pl.col("route") == "invoice-extract") & (pl.col("eligible") >= 5))
    assert low["rate"].null_count() == 0


def test_empty_buckets_are_rows_not_gaps(both_frame):
    day = DEPLOY - timedelta(days=2)  # 2026-03-03: drop every row of that day
    holed = both_frame.filter((pl.col("timestamp") < day) | (pl.col("timestamp") >= day + timedelta(days=1)))
    result = trend(holed.lazy(), "1d", ["route"], ["truncated_json", "disagrees"])
    df = result.frame
    assert df.group_by("route", "metric").len()["len"].to_list() == [6] * 6
    hole = df.filter(pl.col("bucket") == day)
    assert hole.height == 6
    assert hole["rows"].to_list() == [0] * 6 and hole["count"].to_list() == [0] * 6
    assert hole["rate"].null_count() == 6 and set(hole["note"]) == {"no rows"}
    inv = trend_lines(df, ["route"]).filter((pl.col("route") == "invoice-extract") & (pl.col("metric") == "truncated_json"))
    assert inv["sparkline"][0][1] == GAP


def test_rows_without_a_timestamp_are_counted(exports, tmp_path, monkeypatch, capsys):
    rows = [orjson.loads(line) for line in exports[0].read_bytes().splitlines()]
    for row in rows[:100]:
        row["timestamp"] = None
    path = tmp_path / "untimed.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result = runner.invoke(app, ["trend", str(path), "--metric", "disagrees"])
    assert result.exit_code == 0
    assert "100 rows without a timestamp left out" in result.stderr
    df = pl.read_csv(io.StringIO(result.stdout))
    assert df["rows"].sum() == len(rows) - 100
    lib = trend(stoptriage.classify([path]).frame, "1d", ["route"], ["disagrees"])
    assert lib.untimed == 100
    # No timestamp at all: an input error, not an empty table.
    for row in rows:
        row["timestamp"] = None
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    code, out, err = run_main(["trend", str(path)], monkeypatch, capsys)
    assert code == 1 and "no row has a timestamp" in err and out == ""


@pytest.mark.parametrize("every", ["5x", "0d", "1", "hourly", "-1h"])
def test_bad_every_is_a_usage_error(exports, every, monkeypatch, capsys):
    code, out, err = run_main(["trend", str(exports[0]), "--every", every], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert f"--every {every}" in err and "1h" in err and "1d" in err


def test_unknown_metric_lists_the_names(exports, monkeypatch, capsys):
    code, _, err = run_main(["trend", str(exports[0]), "--metric", "truncated_jsn"], monkeypatch, capsys)
    assert code == 2 and "--metric truncated_jsn" in err
    assert "truncated_json" in err and "short_outlier" in err and "disagrees" in err
    code, _, err = run_main(["trend", str(exports[0]), "--by", "team"], monkeypatch, capsys)
    assert code == 2 and "--by team" in err


def test_default_metrics_and_names_of_two_kinds(both_frame):
    df = trend(both_frame.lazy(), "1d", ["route"]).frame
    shown = set(df.select(pl.concat_str("kind", pl.lit(":"), "metric")).to_series())
    assert shown == {"rule:truncated_json", "derived:truncated", "stop_reason:length", "disagree:disagrees"}
    assert select_metrics(["refusal"]) == [("derived", "refusal"), ("stop_reason", "refusal")]
    assert select_metrics(["derived:refusal", "complete"]) == [("derived", "refusal"), ("derived", "complete")]
    with pytest.raises(stoptriage.ConfigError, match="stop_reason: stop"):
        select_metrics(["rule:length"])


def test_sparkline_scales_each_line_from_zero_to_its_max():
    assert sparkline([0.015, 0.015, 0.015, 0.045, 0.045, 0.045]) == "▄▄▄███"
    assert sparkline([0.0, 0.0, 0.0]) == "▁▁▁"
    assert sparkline([0.0, 0.001, 1.0]) == "▁▂█"  # above zero is never drawn as zero
    assert sparkline([None, 0.2, None, 0.4]) == "·▅·█"
    assert sparkline([None, None]) == "··" and sparkline([]) == ""
