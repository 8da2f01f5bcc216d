"""alerts: each rule of taxonomy.md §4 fires on a route over its threshold and stays
quiet under it; thresholds from TOML; small groups; baseline ratio; the CLI exit code."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from stoptriage.cli import app
from stoptriage.errors import ConfigError
from stoptriage.reports import alerts as alerting

from conftest import classify_rows, run_main

ANSWER = "Your order shipped on Tuesday and should arrive within three business days."
WEATHER = [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]

#: rule -> (a row it fires on, an ordinary row it could fire on but does not).
CASES: dict[str, tuple[dict, dict]] = {
    "truncated_json": (
        {"provider_stop_reason": "length", "expects_json": True, "output_text": '{"vendor": "Acme GmbH", "line_items": [{"sku": "A-1", "qty": 2}, {"sku": "B', "output_tokens": 64, "max_tokens": 64},
        {"provider_stop_reason": "stop", "expects_json": True, "output_text": '{"vendor": "Acme GmbH", "line_items": [{"sku": "A-1", "qty": 2}], "total": 19.9}', "output_tokens": 30, "max_tokens": 64},
    ),
    "silent_truncation": (
        {"provider_stop_reason": "stop", "output_text": "Refunds go back to the original payment method within five business days once the"},
        {"provider_stop_reason": "stop", "output_text": ANSWER},
    ),
    "soft_refusal": (
        {"provider_stop_reason": "stop", "output_text": "I'm sorry, but I can't help with that."},
        {"provider_stop_reason": "stop", "output_text": ANSWER + " You can follow the parcel from the Orders page, and the courier will text you a delivery window on the day."},
    ),
    "hidden_tool_call": (
        {"provider_stop_reason": "stop", "output_text": "", "tool_calls": WEATHER},
        {"provider_stop_reason": "stop", "output_text": ANSWER},
    ),
    "malformed_tool_args": (
        {"provider_stop_reason": "tool_calls", "output_text": "", "tool_calls": [{"name": "get_weather", "arguments": '{"city": "Os'}]},
        {"provider_stop_reason": "tool_calls", "output_text": "", "tool_calls": WEATHER},
    ),
    "empty_after_tool_result": (
        {"provider": "anthropic", "provider_stop_reason": "end_turn", "output_text": "", "output_tokens": 1, "after_tool_result": True},
        {"provider": "anthropic", "provider_stop_reason": "end_turn", "output_text": "It is 4 degrees and raining in Oslo.", "output_tokens": 12, "after_tool_result": True},
    ),
    "unhandled_pause_turn": (
        {"provider": "anthropic", "provider_stop_reason": "pause_turn", "output_text": "Let me keep searching the docs."},
        {"provider": "anthropic", "provider_stop_reason": "end_turn", "output_text": ANSWER},
    ),
    "refusal_flagged": (
        {"provider_stop_reason": "content_filter", "output_text": ""},
        {"provider_stop_reason": "stop", "output_text": ANSWER},
    ),
}


def _route(rule: str, fired: int, ordinary: int, route: str = "checkout") -> list[dict]:
    hit, normal = CASES[rule]
    return [{**hit, "route": route}] * fired + [{**normal, "route": route}] * ordinary


def _evaluate(rows: list[dict], **kw) -> pl.DataFrame:
    return alerting.evaluate(classify_rows(rows).lazy(), ["route"], everything=True, **kw)


def _status(result: pl.DataFrame, rule: str, route: str = "checkout") -> dict:
    return result.filter((pl.col("rule") == rule) & (pl.col("route") == route)).row(0, named=True)


def test_every_rule_of_taxonomy_4_has_a_case():
    assert sorted(CASES) == sorted(r.name for r in __import__("stoptriage").rules.rules())


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_over_its_threshold(rule):
    # 6 of 120 (5%): over every shipped rate and min_count; and for soft_refusal the six
    # short refusals are the route's bottom 5% (below_p5), as the rule needs.
    row = _status(_evaluate(_route(rule, 6, 114)), rule)
    assert row["status"] == "fired"
    assert row["count"] == 6 and row["eligible"] == 120 and row["rate"] == pytest.approx(0.05)
    assert row["examples"] and row["hint"]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_stays_quiet_under_its_threshold(rule):
    # One row in 250 (0.4%) is under every shipped rate and, but for the pause rule, under min_count.
    result = _evaluate(_route(rule, 1, 249))
    row = _status(result, rule)
    assert row["status"] == "quiet" and row["count"] == 1 and row["rate"] == pytest.approx(0.004)
    assert result.filter(pl.col("status") == "fired").height == 0


def test_rules_only_count_the_rows_they_could_fire_on():
    # truncated_json's rate is over the JSON rows of the route, not over all its rows.
    rows = _route("truncated_json", 3, 27) + [{**CASES["silent_truncation"][1], "route": "checkout"}] * 300
    row = _status(_evaluate(rows), "truncated_json")
    assert (row["count"], row["eligible"], row["rows"]) == (3, 30, 330)
    assert row["status"] == "fired"


def test_a_small_group_is_too_small_to_rate_not_a_rate():
    result = _evaluate(_route("truncated_json", 4, 6))
    row = _status(result, "truncated_json")
    assert row["status"] == "too_few_rows" and row["rate"] is None and row["count"] == 4
    assert alerting.too_small(result) == 1


def test_groups_by_any_columns():
    rows = [{**r, "model": "gpt-4o"} for r in _route("silent_truncation", 6, 54)] + [
        {**r, "model": "gpt-4o-mini"} for r in _route("silent_truncation", 0, 60)
    ]
    result = alerting.evaluate(classify_rows(rows).lazy(), ["route", "model"])
    assert result.select("route", "model", "rule").rows() == [("checkout", "gpt-4o", "silent_truncation")]


def test_thresholds_from_a_user_file(tmp_path):
    user = tmp_path / "rules.toml"
    user.write_text('[defaults]\nmin_rows = 10\n\n[rules.silent_truncation]\nrate = 0.2\n\n[rules.refusal_flagged]\nenabled = false\n')
    t = alerting.load_thresholds(user)
    assert t["silent_truncation"].rate == 0.2 and t["silent_truncation"].min_count == 5
    assert t["truncated_json"].min_rows == 10 and t["truncated_json"].rate == 0.02
    assert t["refusal_flagged"].enabled is False
    assert _status(_evaluate(_route("silent_truncation", 6, 54), thresholds=t), "silent_truncation")["status"] == "quiet"
    assert _evaluate(_route("refusal_flagged", 6, 54), thresholds=t).filter(pl.col("rule") == "refusal_flagged").height == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[rules.silent_truncation\nrate = 0.2", "not valid TOML"),
        ("[rules.truncation]\nrate = 0.2", "no such rule"),
        ("[rules.silent_truncation]\nthreshold = 0.2", "unknown key 'threshold'"),
        ("[rules.silent_truncation]\nrate = 2", "between 0 and 1"),
        ("[defaults]\nmin_count = \"three\"", "whole number"),
        ("[rules.silent_truncation]\nenabled = 1", "true or false"),
    ],
)
def test_bad_threshold_files_name_the_file_and_the_problem(tmp_path, text, message):
    user = tmp_path / "mine.toml"
    user.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        alerting.load_thresholds(user)
    assert "mine.toml" in str(info.value)


def test_ratio_to_a_baseline(tmp_path):
    user = tmp_path / "ratio.toml"
    user.write_text("[rules.silent_truncation]\nratio = 2.0\n")
    t = alerting.load_thresholds(user)
    now = classify_rows(_route("silent_truncation", 6, 54)).lazy()  # 10%
    same = classify_rows(_route("silent_truncation", 5, 55)).lazy()
    lower = classify_rows(_route("silent_truncation", 1, 59)).lazy()
    quiet = _status(alerting.evaluate(now, ["route"], t, baseline=same, everything=True), "silent_truncation")
    assert quiet["status"] == "quiet" and quiet["ratio"] == pytest.approx(1.2)
    fired = _status(alerting.evaluate(now, ["route"], t, baseline=lower, everything=True), "silent_truncation")
    assert fired["status"] == "fired" and fired["ratio"] == pytest.approx(6.0)
    assert fired["baseline_rate"] == pytest.approx(1 / 60)


# the issue-5 story through the CLI -------------------------------------------------------

def test_cli_fires_truncated_json_on_the_regressed_route_with_exit_4(exports):
    baseline, candidate, _ = exports
    res = CliRunner().invoke(app, ["alerts", str(candidate), "-f", "csv"])
    assert res.exit_code == 4, res.output
    out = pl.read_csv(res.stdout.encode())
    assert out.select("route", "rule", "status").rows() == [("invoice-extract", "truncated_json", "fired")]
    assert out["rate"][0] == pytest.approx(0.045) and out["count"][0] == 54
    assert "raise max_tokens" in out["hint"][0]
    assert "1 alert(s) fired (truncated_json×1)" in res.stderr
    # The week before, 1.5% truncated JSON is under the 2% threshold: exit 0, header only.
    before = CliRunner().invoke(app, ["alerts", str(baseline), "-f", "csv"])
    assert before.exit_code == 0, before.output
    assert pl.read_csv(before.stdout.encode()).height == 0


def test_cli_baseline_ratio_and_bad_rules_file(exports, tmp_path, monkeypatch, capsys):
    baseline, candidate, _ = exports
    user = tmp_path / "r.toml"
    user.write_text("[rules.truncated_json]\nrate = 0.01\nratio = 2.5\n")
    res = CliRunner().invoke(app, ["alerts", str(candidate), "--baseline", str(baseline), "--rules", str(user), "-f", "csv"])
    assert res.exit_code == 4, res.output
    row = pl.read_csv(res.stdout.encode()).row(0, named=True)
    assert row["ratio"] == pytest.approx(3.0) and row["baseline_rate"] == pytest.approx(0.015)
    user.write_text("[rules.truncated_json]\nratio = 3.5\n")
    quiet = CliRunner().invoke(app, ["alerts", str(candidate), "--baseline", str(baseline), "--rules", str(user), "-f", "csv"])
    assert quiet.exit_code == 0, quiet.output
    user.write_text("[rules.nope]\nrate = 0.1\n")
    code, _, err = run_main(["alerts", str(candidate), "--rules", str(user)], monkeypatch, capsys)
    assert code == 2 and "r.toml" in err and "no such rule" in err
