"""The streaming path gives the in-memory path's results, row for row.

``stoptriage classify -o FILE`` streams the classified frame into Polars' sinks;
``diff`` and ``summary`` run streaming group-bys. Here both paths run on realistic
exports: the issue-5 regression exports (5,200 flat rows) rewritten as Parquet in
row groups of 400 rows, so the scan yields many morsels that the engine processes
in parallel and must put back in order, and sample_data/responses.jsonl (raw
provider bodies of five APIs, tool calls, 35 disagreements). The reference is the
library's frame collected by the in-memory engine and written by render.write.
"""

from __future__ import annotations

import io

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import stoptriage
from conftest import SAMPLES, invoke
from stoptriage.rules import rules
from stoptriage.schema import DERIVED_STOP

RESPONSES = str(SAMPLES / "responses.jsonl")


@pytest.fixture(scope="module")
def flat_parquet(exports, tmp_path_factory):
    """both.jsonl of the regression exports as a Parquet file of 13 row groups."""
    path = tmp_path_factory.mktemp("streaming") / "both.parquet"
    raw = pl.read_ndjson(exports[2]).with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC"))
    raw.write_parquet(path, row_group_size=400)
    return str(path)


@pytest.fixture(scope="module", params=["flat_parquet", "responses"])
def source(request):
    """(path, in-memory classified output columns as a DataFrame)."""
    path = request.getfixturevalue("flat_parquet") if request.param == "flat_parquet" else RESPONSES
    res = stoptriage.classify([path])
    return path, res.frame.select(stoptriage.output_columns(res.frame)).collect(engine="in-memory")


def reference_bytes(df: pl.DataFrame, fmt: str, tmp_path) -> bytes:
    out = tmp_path / f"reference.{fmt}"
    stoptriage.render.write(df, fmt, str(out))
    return out.read_bytes()


def test_classify_to_parquet_streams_the_in_memory_rows(source, tmp_path):
    path, expected = source
    out = tmp_path / "out.parquet"
    result = invoke("classify", path, "-o", str(out))
    assert_frame_equal(pl.read_parquet(out), expected, check_exact=True)
    disagreements = int(expected["disagrees"].sum())
    assert f"{expected.height} responses classified, {disagreements} disagree" in result.stderr
    if path == RESPONSES:  # the count is not a trivial 0 (the regression exports have none)
        assert (expected.height, disagreements) == (240, 35)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_classify_to_text_files_writes_the_in_memory_bytes(source, fmt, tmp_path):
    path, expected = source
    out = tmp_path / f"out.{fmt}"
    invoke("classify", path, "-o", str(out))
    assert out.read_bytes() == reference_bytes(expected, fmt, tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_classify_streams_to_stdout(source, fmt, tmp_path):
    path, expected = source
    result = invoke("classify", path, "--format", fmt)
    assert result.stdout_bytes == reference_bytes(expected, fmt, tmp_path)
    assert f"{expected.height} responses classified" in result.stderr


def test_terminal_table_shows_the_first_rows_and_counts_all(flat_parquet):
    result = invoke("classify", flat_parquet, "--format", "table")
    assert "5200 responses classified" in result.stderr
    assert "5000 more rows" in result.stdout
    assert "invoice-extract" in result.stdout


def test_streaming_plan_has_no_stage_that_holds_the_whole_input(flat_parquet):
    """Nodes of the physical streaming plan that buffer every row: a whole-column
    function (a map_batches UDF not marked elementwise, replace_strict with a dict)
    feeding a multiplexer and zip-broadcast, or an in-memory fallback. The per-route
    length statistics come from a first pass (signals.add_length_signals)."""
    res = stoptriage.classify([flat_parquet])
    lf = res.frame.select(stoptriage.output_columns(res.frame))
    dot = lf.show_graph(plan_stage="physical", engine="streaming", raw_output=True)
    for node in ("columnar-function", "multiplexer", "zip-broadcast", "in-memory-map"):
        assert f'label="{node}' not in dot, node



def _regex_patterns(node, found: set[str]) -> set[str]:
    """Patterns of the string functions in a serialized plan that compile a regex
    (contains/find/replace without literal=True, extract, count_matches ...)."""
    if isinstance(node, dict):
        fn = node.get("Function")
        if isinstance(fn, dict) and isinstance(fn.get("function"), dict) and "StringExpr" in fn["function"]:
            expr = fn["function"]["StringExpr"]
            name, opts = (expr, None) if isinstance(expr, str) else next(iter(expr.items()))
            literal = opts.get("literal") if isinstance(opts, dict) else opts if name == "CountMatches" else False
            scalars = [i["Literal"]["Scalar"].get("String") for i in fn["input"] if isinstance(i, dict) and isinstance(i.get("Literal"), dict) and "Scalar" in i["Literal"]]
            if name in ("Contains", "Find", "Extract", "ExtractGroups", "ExtractAll", "Replace", "CountMatches") and scalars and scalars[0] is not None and not literal:
                found.add(scalars[0])
        for value in node.values():
            _regex_patterns(value, found)
    elif isinstance(node, list):
        for value in node:
            _regex_patterns(value, found)
    return found


@pytest.mark.parametrize("path_fixture", ["flat_parquet", "responses"])
def test_classify_plan_fits_the_regex_cache(path_fixture, request, monkeypatch):
    """Polars keeps a thread's compiled regexes in a 32-entry LRU cache; a streaming
    run applies every pattern to each morsel in turn, so a 33rd distinct pattern makes
    every morsel recompile every regex (signals.REGEX_CACHE_SIZE). The classify plan
    must stay within the cache, with room for a user's extra lists (they change the
    alternations, not their number). The two map_batches checks (no regexes in them)
    are stood in for by literals: serializing a Python UDF needs cloudpickle."""
    import json
    import warnings

    check = pl.lit(None, dtype=pl.Struct({"valid": pl.Boolean, "error": pl.String}))
    monkeypatch.setattr(stoptriage.signals, "json_check", lambda: check)
    monkeypatch.setattr(stoptriage.signals, "tool_args_check", lambda: check)
    path = request.getfixturevalue("flat_parquet") if path_fixture == "flat_parquet" else RESPONSES
    res = stoptriage.classify([path])
    lf = res.frame.select(stoptriage.output_columns(res.frame))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the JSON form of a plan is deprecated, and readable
        plan = json.loads(lf.serialize(format="json"))
    patterns = _regex_patterns(plan, set())
    assert 20 <= len(patterns) <= stoptriage.signals.REGEX_CACHE_SIZE - 2, sorted(patterns, key=len)


# ---- summary and diff -----------------------------------------------------------------


def eager_summary(df: pl.DataFrame, worst: int = 5) -> dict[str, pl.DataFrame]:
    """The summary computed row by row from the collected frame (the implementation
    before it became one streaming group-by), as the reference."""
    n = df.height
    rate = (pl.col("rows") / max(n, 1)).alias("rate")
    names = [r.name for r in rules()]
    exploded = df.select("route", "alerts").explode("alerts").drop_nulls("alerts")
    hits = exploded.group_by("route", "alerts").len()
    top = (
        hits.with_columns(pl.col("alerts").replace_strict(names, list(range(len(names)))).alias("order"))
        .sort(["route", "len", "order"], descending=[False, True, False])
        .group_by("route", maintain_order=True)
        .first()
        .select("route", pl.col("alerts").alias("top_alert"))
    )
    return {
        "overview": pl.DataFrame(
            {
                "rows": [n],
                "providers": [df["provider"].n_unique()],
                "models": [df["model"].drop_nulls().n_unique()],
                "routes": [df["route"].n_unique()],
                "disagreements": [int(df["disagrees"].sum())],
            }
        ).with_columns((pl.col("disagreements") / n).alias("disagreement_rate")),
        "providers": df.group_by("provider").agg(pl.len().alias("rows")),
        "models": df.group_by("model").agg(pl.len().alias("rows")),
        "stop_reasons": df.group_by(pl.col("stop_reason").cast(pl.String)).agg(pl.len().alias("rows")).with_columns(rate),
        "derived": pl.DataFrame({"derived_stop": list(DERIVED_STOP)})
        .join(df.group_by(pl.col("derived_stop").cast(pl.String)).agg(pl.len().alias("rows")), on="derived_stop", how="left")
        .with_columns(pl.col("rows").fill_null(0))
        .with_columns(rate),
        "alerts": pl.DataFrame({"rule": names, "rows": [int(df["alerts"].list.contains(r).sum()) for r in names]}).with_columns(rate),
        "worst_routes": df.group_by("route")
        .agg(pl.len().alias("rows"), pl.col("disagrees").sum().alias("disagreements"))
        .with_columns((pl.col("disagreements") / pl.col("rows")).alias("disagreement_rate"))
        .filter(pl.col("disagreements") > 0)
        .join(top, on="route", how="left")
        .sort(["disagreement_rate", "rows"], descending=True)
        .head(worst),
    }


@pytest.mark.parametrize("which", ["baseline", "candidate", "both", "responses"])
def test_summary_equals_the_row_by_row_reference(exports, which):
    path = RESPONSES if which == "responses" else str(exports[["baseline", "candidate", "both"].index(which)])
    frame = stoptriage.classify([path]).frame
    got = stoptriage.summary(frame)
    want = eager_summary(frame.collect(engine="in-memory"))
    assert list(got) == list(want)
    for part, expected in want.items():
        # Parts sorted by rows may order equal counts either way: compare as sets of rows.
        keys = [c for c in expected.columns if c != "rate"]
        assert_frame_equal(got[part].sort(keys, nulls_last=True), expected.sort(keys, nulls_last=True), check_exact=True)


def test_summary_top_alert_tie_goes_to_the_rule_listed_first():
    # weather-agent in the sample: four rules fire on 2 rows each.
    worst = stoptriage.summary(stoptriage.classify([RESPONSES]).frame)["worst_routes"]
    row = worst.filter(pl.col("route") == "weather-agent").row(0, named=True)
    assert row["top_alert"] == "silent_truncation"


def test_summary_orders_equal_counts_by_name():
    """The same input prints the same summary: parts sorted by rows break ties by name
    (a group-by returns groups in no set order; sample_data has models with equal counts)."""
    parts = stoptriage.summary(stoptriage.classify([RESPONSES]).frame)
    for part, key in (("providers", "provider"), ("models", "model"), ("stop_reasons", "stop_reason")):
        df = parts[part]
        assert df.equals(df.sort(["rows", key], descending=[True, False], nulls_last=True)), part
    assert parts["models"]["rows"].is_duplicated().any()  # the sample does have ties to order


@pytest.fixture(scope="module")
def classified_both(exports):
    return stoptriage.classify([exports[2]]).frame


def test_diff_same_rows_same_order_from_either_engine(classified_both):
    for by in (["route"], ["route", "model"], ["prompt_version"]):
        plan = stoptriage.diff(classified_both, by)
        assert_frame_equal(plan.collect(engine="streaming"), plan.collect(engine="in-memory"), check_exact=True)


def test_diff_group_columns_match_the_rows(classified_both):
    df = classified_both.collect()
    got = stoptriage.diff(classified_both, ["route"]).collect(engine="streaming")
    tokens = pl.coalesce(pl.col("output_tokens").cast(pl.Float64), (pl.col("output_chars") / 4).ceil())
    want = df.group_by("route").agg(
        pl.len().alias("group_rows"),
        pl.col("disagrees").sum().alias("group_disagreements"),
        tokens.quantile(0.5, interpolation="linear").alias("group_p50_output_tokens"),
        tokens.quantile(0.95, interpolation="linear").alias("group_p95_output_tokens"),
    )
    groups = got.select("route", "group_rows", "group_disagreements", "group_p50_output_tokens", "group_p95_output_tokens").unique()
    assert_frame_equal(groups.sort("route"), want.sort("route"), check_exact=True, check_dtypes=False)
    assert got.group_by("route").agg(pl.col("count").sum()).sort("route")["count"].to_list() == want.sort("route")["group_rows"].to_list()
    # invoice-extract answers JSON objects of many items: longer than support-chat's replies.
    p95 = dict(zip(groups["route"], groups["group_p95_output_tokens"]))
    assert p95["invoice-extract"] > p95["support-chat"]


def test_diff_cli_prints_the_group_quantiles(exports):
    out = pl.read_csv(io.StringIO(invoke("diff", str(exports[2]), "--by", "route", "-q").stdout))
    assert {"group_p50_output_tokens", "group_p95_output_tokens"} <= set(out.columns)
    assert out["group_p50_output_tokens"].null_count() == 0
