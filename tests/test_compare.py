"""stoptriage compare on the issue-5 regression exports: the 3x truncated-JSON slip on
invoice-extract ranks first and is significant, whichever way the two sides are given;
small groups, a rate from zero, the mirrors, the split errors and the CLI."""

from __future__ import annotations

import io

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import classify_rows, invoke, run_main
from regression_data import DEPLOY, TRUNCATED_JSON
import stoptriage
from stoptriage.errors import ConfigError
from stoptriage.reports.compare import COLUMNS, compare, parse_time, split

DEPLOY_TEXT = "2026-03-05T00:00:00Z"
#: Columns that must agree whichever way the two sides were given.
NUMBERS = ["route", "kind", "metric", "baseline_count", "baseline_eligible", "candidate_count", "candidate_eligible", "p_value", "q_value", "worse", "significant"]

INVOICE = '{"vendor": "Acme GmbH", "invoice_number": "INV-20931", "currency": "EUR", "line_items": [{"sku": "SKU-1042", "qty": 2, "unit_price": 19.5}], "total": 39.0}'


@pytest.fixture(scope="module")
def frames(exports):
    """The three exports classified once (DataFrames; .lazy() for the library)."""
    return [stoptriage.classify([p]).frame.collect() for p in exports]


@pytest.fixture(scope="module")
def by_files(frames):
    """compare(baseline.jsonl, candidate.jsonl, by route)."""
    return compare(frames[0].lazy(), frames[1].lazy(), ["route"])


def _row(df: pl.DataFrame, route: str, kind: str, metric: str) -> dict:
    part = df.filter((pl.col("route") == route) & (pl.col("kind") == kind) & (pl.col("metric") == metric))
    assert part.height == 1, part
    return part.row(0, named=True)


def test_invoice_extract_truncated_json_ranks_first_and_is_significant(by_files):
    first = by_files.row(0, named=True)
    assert (first["route"], first["kind"], first["metric"]) == ("invoice-extract", "rule", "truncated_json")
    assert first["significant"] and first["worse"]
    assert first["ratio"] == pytest.approx(TRUNCATED_JSON[1] / TRUNCATED_JSON[0], rel=0.05)
    assert (first["baseline_count"], first["baseline_eligible"], first["candidate_count"], first["candidate_eligible"]) == (18, 1200, 54, 1200)
    assert first["change"] == pytest.approx(0.03)
    assert first["p_value"] < 1e-4 and first["q_value"] <= 0.05
    assert first["finding"].startswith("route invoice-extract: length-and-invalid-JSON (truncated_json) 3.0x more often")
    assert "3.0x more often: 1.5% -> 4.5% (18 of 1200 -> 54 of 1200), p=2e-05. Remediation: " in first["finding"]
    assert first["hint"] and first["hint"] in first["finding"]


def test_the_providers_length_rate_stays_under_five_percent_yet_is_flagged(by_files):
    length = _row(by_files, "invoice-extract", "stop_reason", "length")
    assert length["candidate_rate"] < 0.05
    assert length["significant"] and length["worse"]


def test_the_other_routes_have_no_significant_worsening(by_files):
    others = by_files.filter(pl.col("route").is_in(["support-chat", "summarize"]))
    assert others.filter(pl.col("worse") & pl.col("significant")).height == 0
    chat = _row(others, "support-chat", "stop_reason", "length")  # steady 2% on both sides
    assert chat["baseline_rate"] == chat["candidate_rate"] == pytest.approx(0.02)
    assert chat["ratio"] == 1.0 and chat["p_value"] == 1.0 and not chat["worse"]
    assert "unchanged at 2.0%" in chat["finding"]
    # summarize never changes: only its mirrors would have counts, and they are left out
    assert others.filter(pl.col("route") == "summarize").height == 0


def test_order_significant_worsenings_first_then_by_p(by_files):
    rank = by_files.select(
        pl.when(pl.col("significant") & pl.col("worse")).then(0).when(pl.col("worse")).then(1).otherwise(2).alias("rank"), "p_value"
    )
    assert rank["rank"].to_list() == sorted(rank["rank"].to_list())
    top = by_files.filter(pl.col("significant") & pl.col("worse"))["p_value"].to_list()
    assert top == sorted(top) and len(top) == 3  # truncated_json, derived truncated, stop_reason length


def test_split_by_prompt_version_gives_the_same_result(frames, by_files):
    base, cand, desc = split(frames[2].lazy(), "prompt_version")
    assert desc.startswith("baseline: prompt_version=v1, 2600 rows; candidate: prompt_version=v2, 2600 rows")
    assert "sorted order" in desc
    assert_frame_equal(compare(base, cand, ["route"]).select(NUMBERS), by_files.select(NUMBERS))


@pytest.mark.parametrize(
    "before,after",
    [(DEPLOY_TEXT, None), (None, DEPLOY_TEXT), (DEPLOY_TEXT, DEPLOY_TEXT), ("2026-03-05T00:00:00", None), ("2026-03-05T01:00:00+01:00", None)],
)
def test_split_by_time_gives_the_same_result(frames, by_files, before, after):
    base, cand, desc = split(frames[2].lazy(), before=before, after=after)
    assert "2600 rows" in desc and "left out" not in desc
    assert_frame_equal(compare(base, cand, ["route"]).select(NUMBERS), by_files.select(NUMBERS))


def test_split_by_time_leaves_out_the_gap_and_rows_without_a_timestamp(frames):
    holed = frames[2].with_row_index("i").with_columns(
        pl.when(pl.col("i") % 100 == 0).then(None).otherwise(pl.col("timestamp")).alias("timestamp")
    )
    base, cand, desc = split(holed.lazy(), before="2026-03-04", after="2026-03-06")
    n_base, n_cand = base.select(pl.len()).collect().item(), cand.select(pl.len()).collect().item()
    assert "52 rows without a timestamp left out" in desc
    gap = holed.filter(pl.col("timestamp").is_between(parse_time("2026-03-04", "--before"), parse_time("2026-03-06", "--after"), closed="left")).height
    assert f"{gap} rows between the two left out" in desc
    assert n_base + n_cand + gap + 52 == holed.height
    assert cand.select(pl.col("timestamp").min()).collect().item() >= DEPLOY


def test_split_names_the_values_it_chose_and_takes_them_when_given(frames):
    base, cand, desc = split(frames[2].lazy(), "prompt_version", baseline_value="v2", candidate_value="v1")
    assert desc.startswith("baseline: prompt_version=v2, 2600 rows; candidate: prompt_version=v1")
    assert "sorted order" not in desc
    swapped = compare(base, cand, ["route"])
    top = _row(swapped, "invoice-extract", "rule", "truncated_json")
    assert top["ratio"] == pytest.approx(1 / 3, rel=0.05) and not top["worse"] and top["significant"]
    assert "3.0x less often" in top["finding"] and "Remediation" not in top["finding"]
    _, _, one = split(frames[2].lazy(), "prompt_version", candidate_value="v1")
    assert one.startswith("baseline: prompt_version=v2") and "the other value" in one


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"column": "release"}, "--split release: no such column; columns are: source_file"),
        ({"column": "route"}, "3 distinct value(s) (invoice-extract, summarize, support-chat); give --baseline-value"),
        ({"column": "route", "baseline_value": "summarize"}, "give --candidate-value too"),
        ({"column": "prompt_version", "baseline_value": "v3", "candidate_value": "v2"}, "--baseline-value v3: no row has prompt_version=v3; values are: v1, v2"),
        ({"column": "prompt_version", "baseline_value": "v1", "candidate_value": "v1"}, "both v1"),
        ({"before": "last tuesday"}, "--before last tuesday: expected an ISO 8601 time"),
        ({"before": "2026-03-06", "after": "2026-03-04"}, "is later than --after"),
        ({"column": "prompt_version", "before": DEPLOY_TEXT}, "choose one way to split"),
        ({"baseline_value": "v1"}, "need --split COLUMN"),
        ({}, "give a column"),
    ],
)
def test_split_errors(frames, kwargs, message):
    with pytest.raises(ConfigError) as exc:
        split(frames[2].lazy(), **kwargs)
    assert message in str(exc.value)


def _invoices(route: str, clean: int, cut: int) -> list[dict]:
    """``clean`` whole invoices under stop and ``cut`` ones cut mid-JSON by the token cap."""
    whole = {"route": route, "provider_stop_reason": "stop", "expects_json": True, "output_text": INVOICE, "output_tokens": 60, "max_tokens": 256}
    half = {**whole, "provider_stop_reason": "length", "output_text": INVOICE[:70], "output_tokens": 256}
    return [whole] * clean + [half] * cut


def test_a_small_group_gets_a_null_rate_and_a_note_not_zero():
    base = classify_rows(_invoices("refunds", 7, 0) + _invoices("invoice-extract", 40, 1)).lazy()
    cand = classify_rows(_invoices("refunds", 9, 3) + _invoices("invoice-extract", 40, 1)).lazy()
    out = compare(base, cand, ["route"])
    small = _row(out, "refunds", "rule", "truncated_json")
    assert (small["baseline_count"], small["baseline_eligible"], small["candidate_count"], small["candidate_eligible"]) == (0, 7, 3, 12)
    assert small["baseline_rate"] is None and small["candidate_rate"] is None
    assert small["ratio"] is None and small["change"] is None and small["p_value"] is None and small["q_value"] is None
    assert small["worse"] is None and small["significant"] is None
    assert small["note"] == "too few rows: baseline 7, candidate 12 (< 20)"
    assert "too few rows to tell (0 of 7 -> 3 of 12" in small["finding"]
    big = _row(out, "invoice-extract", "rule", "truncated_json")
    assert big["note"] is None and big["baseline_rate"] == pytest.approx(1 / 41)
    # only the tested rows enter the correction: one table tested per metric on invoice-extract
    assert out.filter(pl.col("p_value").is_not_null())["route"].unique().to_list() == ["invoice-extract"]
    # --min-rows lowers the bar: 7 rows are enough at 5
    low = _row(compare(base, cand, ["route"], min_rows=5), "refunds", "rule", "truncated_json")
    assert low["baseline_rate"] == 0.0 and low["candidate_rate"] == 0.25 and low["p_value"] is not None


def test_ratio_is_inf_when_the_baseline_never_had_it():
    base = classify_rows(_invoices("invoice-extract", 30, 0)).lazy()
    cand = classify_rows(_invoices("invoice-extract", 24, 6)).lazy()
    out = compare(base, cand, ["route"])
    row = _row(out, "invoice-extract", "stop_reason", "length")
    assert row["baseline_count"] == 0 and row["candidate_count"] == 6
    assert row["ratio"] == float("inf") and row["change"] == pytest.approx(0.2) and row["worse"]
    assert row["p_value"] == pytest.approx(0.0237, abs=1e-3)  # Fisher [[6, 24], [0, 30]]
    assert "newly seen: 0% -> 20.0% (0 of 30 -> 6 of 30)" in row["finding"]
    back = _row(compare(cand, base, ["route"]), "invoice-extract", "stop_reason", "length")
    assert back["ratio"] == 0.0 and not back["worse"] and "no longer seen" in back["finding"]


def test_mirrors_are_left_out_unless_asked_and_a_drop_is_their_worsening(frames):
    assert by_mirror(compare(frames[0].lazy(), frames[1].lazy(), ["route"])) == set()
    full = compare(frames[0].lazy(), frames[1].lazy(), ["route"], mirrors=True)
    assert by_mirror(full) == {("derived", "complete"), ("stop_reason", "stop")}
    complete = _row(full, "invoice-extract", "derived", "complete")
    assert complete["candidate_rate"] < complete["baseline_rate"] and complete["worse"] and complete["significant"]
    assert _row(full, "summarize", "derived", "complete")["worse"] is False
    assert full.row(0, named=True)["metric"] == "truncated_json"  # ties go to the rule


def by_mirror(df: pl.DataFrame) -> set[tuple[str, str]]:
    return set(df.filter(pl.col("metric").is_in(["complete", "stop"])).select("kind", "metric").unique().iter_rows())


def test_compare_rejects_an_unknown_by_column_and_a_zero_min_rows(frames):
    with pytest.raises(ConfigError, match="--by team: no such column"):
        compare(frames[0].lazy(), frames[1].lazy(), ["team"])
    with pytest.raises(ConfigError, match="--min-rows 0"):
        compare(frames[0].lazy(), frames[1].lazy(), ["route"], min_rows=0)


def _csv(result) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(result.stdout))


@pytest.fixture(scope="module")
def two_paths(exports):
    """The CLI on BASELINE CANDIDATE --by route, run once (piped: csv)."""
    return invoke("compare", str(exports[0]), str(exports[1]), "--by", "route")


def test_cli_two_paths_csv_has_the_documented_columns(exports, by_files, two_paths):
    result = two_paths
    df = _csv(result)
    assert df.columns == ["route", *COLUMNS]
    assert df.row(0, named=True)["metric"] == "truncated_json" and df.row(0, named=True)["route"] == "invoice-extract"
    assert df.height == by_files.height and df["significant"].to_list() == by_files["significant"].to_list()
    assert f"baseline: {exports[0]}, 2600 rows; candidate: {exports[1]}, 2600 rows" in result.stderr
    assert "3 significant worsening(s)" in result.stderr


@pytest.mark.parametrize("how", [["--split", "prompt_version"], ["--before", DEPLOY_TEXT], ["--after", DEPLOY_TEXT]])
def test_cli_split_of_one_export_gives_the_same_csv(exports, two_paths, how):
    two = _csv(two_paths)
    result = invoke("compare", str(exports[2]), "--by", "route", *how)
    assert_frame_equal(_csv(result).select(NUMBERS), two.select(NUMBERS))
    if how[0] == "--split":
        assert "baseline: prompt_version=v1, 2600 rows; candidate: prompt_version=v2, 2600 rows" in result.stderr


def test_cli_small_groups_have_an_empty_rate_and_a_note_in_csv(exports):
    df = _csv(invoke("compare", str(exports[2]), "--split", "prompt_version", "--min-rows", "1000", "-q"))
    chat = df.filter((pl.col("route") == "support-chat") & (pl.col("metric") == "length"))
    assert chat["baseline_rate"].to_list() == [None] and chat["note"].to_list() == ["too few rows: baseline 800, candidate 800 (< 1000)"]
    assert df.filter(pl.col("route") == "invoice-extract")["note"].null_count() == 3


def test_cli_terminal_view_words_the_finding_and_hides_unchanged_rows(exports):
    result = invoke("compare", str(exports[2]), "--split", "prompt_version", "--format", "table")
    out = result.stdout
    assert "Significant worsenings" in out and "▲ route invoice-extract: length-and-invalid-JSON (truncated_json)" in out
    assert "1.5% (18/1200)" in out and "4.5% (54/1200)" in out
    assert "support-chat" not in out.split("pts")[1]  # unchanged rows are hidden from the table
    assert "2 unchanged rows hidden (--all)" in out
    every = invoke("compare", str(exports[2]), "--split", "prompt_version", "--format", "table", "--all").stdout
    assert "support-chat" in every.split("pts")[1] and "2.0% (16/800)" in every


def test_cli_terminal_view_says_when_nothing_got_worse(exports):
    out = invoke("compare", str(exports[0]), str(exports[0]), "--format", "table", "-q").stdout
    assert "No significant worsening" in out and "No rate changed" in out


def test_cli_writes_parquet(exports, tmp_path):
    target = tmp_path / "cmp.parquet"
    invoke("compare", str(exports[2]), "--split", "prompt_version", "-o", str(target), "-q")
    df = pl.read_parquet(target)
    assert df.schema["worse"] == pl.Boolean and df.schema["baseline_count"] == pl.UInt32 and df.schema["ratio"] == pl.Float64


@pytest.mark.parametrize(
    "args,message",
    [
        (["{both}"], "compare takes two paths, BASELINE then CANDIDATE"),
        (["{baseline}", "{candidate}", "{both}"], "got 3 path(s)"),
        (["{both}", "--split", "release"], "--split release: no such column"),
        (["{both}", "--split", "route", "--by", "provider"], "--split route: it has 3 distinct value(s) (invoice-extract, summarize, support-chat); give --baseline-value and --candidate-value"),
        (["{both}", "--split", "prompt_version", "--by", "route,prompt_version"], "is also a --by column"),
        (["{both}", "--before", "yesterday"], "--before yesterday: expected an ISO 8601 time"),
        (["{baseline}", "{candidate}", "--baseline-value", "v1"], "need --split COLUMN"),
    ],
)
def test_cli_usage_errors_exit_2(exports, monkeypatch, capsys, args, message):
    names = {"baseline": exports[0], "candidate": exports[1], "both": exports[2]}
    code, out, err = run_main(["compare", *[a.format(**names) for a in args]], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("stoptriage: error: ")
