"""Shared test helpers: build canonical rows and classify them without files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from stoptriage import signals, taxonomy
from stoptriage.schema import CANONICAL, conform

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "sample_data"


def canonical(rows: list[dict]) -> pl.LazyFrame:
    """Rows given as dicts of canonical columns -> canonical LazyFrame.

    Missing columns are null; provider defaults to "openai", route to "r".
    """
    filled = []
    for i, row in enumerate(rows):
        r = {"provider": "openai", "route": "r", "source_file": "t", "source_line": i + 1}
        r.update(row)
        filled.append(r)
    schema = {k: v for k, v in CANONICAL.items() if any(k in r for r in filled)}
    df = pl.DataFrame(filled, schema=schema)
    return conform(df.lazy())


def classify_rows(rows: list[dict], phrases: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Classify canonical rows with the shipped word list and ``phrases`` (default: the
    shipped refusal phrases)."""
    return taxonomy.classify_frame(canonical(rows), phrases).collect()


def one(row: dict, phrases: tuple[str, ...] | None = None) -> dict:
    """Classify one row; return it as a dict."""
    return classify_rows([row], phrases).row(0, named=True)


def stop(text: str, **kw) -> dict:
    """Classify one answer whose provider stop value is ``stop``; return it as a dict."""
    return one({"provider_stop_reason": "stop", "output_text": text, **kw})


def run_main(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Run the real entry point (which maps library errors to exit codes, unlike
    CliRunner on the Typer app): (exit code, stdout, stderr)."""
    import sys

    from stoptriage.cli import main

    monkeypatch.setattr("sys.argv", ["stoptriage", *args])
    with pytest.raises(SystemExit) as exc:
        main()
        sys.exit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def invoke(*args: str, input: str | None = None):
    """Run a command through Typer's CliRunner (stdout and stderr apart, 200 columns);
    assert it exited 0 and return the result."""
    from typer.testing import CliRunner

    from stoptriage.cli import app

    result = CliRunner().invoke(app, list(args), input=input, env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The issue-5 regression exports (tests/regression_data.py): (baseline.jsonl,
    candidate.jsonl, both.jsonl), written once per test session."""
    from regression_data import write_exports

    return write_exports(tmp_path_factory.mktemp("regression"))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def samples() -> Path:
    return SAMPLES


__all__ = ["canonical", "classify_rows", "invoke", "one", "run_main", "signals"]
