"""Containers and the format registry: a file's layout (JSON lines, JSON array,
pretty objects one after another) does not change what is read, and every
registered format is listed with how it is recognised."""

from __future__ import annotations

import orjson
import polars as pl
import pytest

import stoptriage
from conftest import FIXTURES
from stoptriage.errors import InputFormatError
from stoptriage.ingest import FORMATS, SNIFF_ORDER, container_of, read_one
from stoptriage.ingest.jsonl import to_json_lines

KEY = ["source_line", "provider_stop_reason", "output_text"]


def bodies() -> list[dict]:
    return [orjson.loads(l) for l in (FIXTURES / "anthropic_messages.jsonl").read_bytes().splitlines() if l.strip()]


def read_rows(path) -> pl.DataFrame:
    return stoptriage.read([path])[0].select(KEY).collect()


def test_json_array_reads_like_json_lines(tmp_path):
    arr = tmp_path / "export.json"
    arr.write_bytes(orjson.dumps(bodies(), option=orjson.OPT_INDENT_2))
    got = read_rows(arr)
    want = read_rows(FIXTURES / "anthropic_messages.jsonl")
    assert got.height == 5
    # record N of the array is "line" N
    assert got.equals(want)


def test_concatenated_pretty_objects_read_like_json_lines(tmp_path):
    p = tmp_path / "console.txt"
    p.write_bytes(b"\n".join(orjson.dumps(b, option=orjson.OPT_INDENT_2) for b in bodies()))
    assert container_of(p.read_bytes()[:200]) == "json"
    assert read_rows(p).equals(read_rows(FIXTURES / "anthropic_messages.jsonl"))


def test_broken_json_array_names_the_file(tmp_path):
    p = tmp_path / "cut.json"
    p.write_bytes(orjson.dumps(bodies())[:-40])
    with pytest.raises(InputFormatError, match="cut.json"):
        read_one(str(p))


def test_partial_head_of_an_array_gives_its_complete_records():
    data = orjson.dumps(bodies())
    lines = to_json_lines(data[: len(data) // 2], partial=True).splitlines()
    assert 1 <= len(lines) < 5
    assert orjson.loads(lines[0])["id"] == "msg_fx001"


def test_protobuf_like_binary_is_rejected_clearly(tmp_path):
    p = tmp_path / "traces.pb"
    p.write_bytes(b"\x0a\x8f\x02\x0a\x00\x12\x04span" * 10)
    with pytest.raises(InputFormatError, match="protobuf"):
        read_one(str(p))


def test_every_registered_format_is_in_sniff_order_and_listed():
    assert list(FORMATS) == [n for n in SNIFF_ORDER if n in FORMATS]
    for name, fmt in FORMATS.items():
        assert fmt.recognised_by and fmt.containers, name


def test_forced_format_that_cannot_read_the_container(tmp_path):
    with pytest.raises(InputFormatError, match="cannot be read as responses"):
        read_one(str(FIXTURES / "flat.parquet"), input_format="responses")


def test_timestamps_of_mixed_formats_in_one_file_all_parse(tmp_path):
    # Each row parsed on its own: a column mixing Z, offsets, naive and unix times
    # must not lose the rows whose format differs from the first one.
    lines = [dict(b) for b in bodies()[:4]]
    stamps = ["2026-03-02T11:04:00Z", "2026-03-02 11:05:00.250000", "2026-03-02T12:06:00+01:00", "1772449560"]
    p = tmp_path / "wrapped.jsonl"
    p.write_bytes(b"\n".join(orjson.dumps({"timestamp": t, "response": b}) for t, b in zip(stamps, lines)))
    got = stoptriage.read([p])[0].select("timestamp").collect()["timestamp"].dt.strftime("%H:%M:%S").to_list()
    assert got == ["11:04:00", "11:05:00", "11:06:00", "11:06:00"]


MIXED = {
    # file copied into one directory -> the format it must be read as
    "otlp/collector.jsonl": "otlp",
    "otlp/console.json": "otel-console",
    "streams/anthropic.sse": "streams",
    "streams/recorded.jsonl": "streams",
    "phoenix/dataframe.parquet": "phoenix",
    "litellm/payloads.jsonl": "litellm",
    "helicone/export.jsonl": "helicone",
    "llm_logs/legacy.db": "llm-logs",
    "openai_batch.jsonl": "openai-batch",
    "gemini.jsonl": "responses",
    "flat.csv": "table",
}


def test_a_directory_of_mixed_formats_reads_each_file_with_its_own_reader(tmp_path):
    import shutil

    for i, rel in enumerate(MIXED):
        # neutral names: detection must come from content, not file names
        shutil.copy(FIXTURES / rel, tmp_path / f"export_{i:02d}.dat")
    res = stoptriage.classify([tmp_path])
    got = {name.rsplit("/", 1)[-1]: fmt for name, fmt in res.report.formats.items()}
    assert got == {f"export_{i:02d}.dat": fmt for i, fmt in enumerate(MIXED.values())}
    df = res.frame.select("source_file", "provider_stop_reason", "stop_reason").collect()
    # every file contributed rows, and source_file says which
    assert df["source_file"].n_unique() == len(MIXED)
    one_by_one = sum(stoptriage.classify([FIXTURES / rel]).frame.collect().height for rel in MIXED)
    assert df.height == one_by_one


def test_an_unrecognised_file_in_a_directory_is_reported_and_the_rest_read(tmp_path):
    import shutil

    shutil.copy(FIXTURES / "gemini.jsonl", tmp_path / "a.jsonl")
    (tmp_path / "README.md").write_text("# exports of March\n\nPulled from the proxy.\n")
    res = stoptriage.classify([tmp_path])
    assert res.frame.collect().height == 4
    assert res.report.problems.select("kind", "source_line").rows() == [("unreadable_file", None)]
    assert res.report.failures.height == 1  # --strict fails on it
    # named on the command line, the same file is an error (exit 1)
    with pytest.raises(InputFormatError, match="README.md"):
        stoptriage.classify([tmp_path / "README.md"])
    # nothing readable at all: an error too
    (tmp_path / "a.jsonl").unlink()
    with pytest.raises(InputFormatError, match="no file of a known format"):
        stoptriage.classify([tmp_path])


def test_a_csv_of_something_else_in_a_directory_is_reported_and_the_rest_read(tmp_path):
    # A flat table without output_text / provider_stop_reason beside the exports (a cost
    # sheet, a script whose first line looks like a CSV header) must not stop the run.
    import shutil

    from stoptriage.errors import MissingColumnError

    shutil.copy(FIXTURES / "gemini.jsonl", tmp_path / "a.jsonl")
    (tmp_path / "costs.csv").write_text("month,team,usd\n2026-03,search,1200\n2026-03,support,800\n")
    res = stoptriage.classify([tmp_path])
    assert res.frame.collect().height == 4
    problems = res.report.problems
    assert problems.select("kind", "source_line").rows() == [("unreadable_file", None)]
    assert "costs.csv" in problems["source_file"][0] and "output_text" in problems["reason"][0]
    with pytest.raises(MissingColumnError, match="costs.csv"):
        stoptriage.classify([tmp_path / "costs.csv"])
