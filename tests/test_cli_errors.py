"""Every error path of the CLI: one line on stderr, a documented exit code, no traceback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import run_main
from stoptriage.cli import app

runner = CliRunner()


def test_missing_file(tmp_path, monkeypatch, capsys):
    code, out, err = run_main(["classify", str(tmp_path / "nope.jsonl")], monkeypatch, capsys)
    assert code == 1
    assert "no such file" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_empty_file(tmp_path, monkeypatch, capsys):
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    code, _, err = run_main(["classify", str(p)], monkeypatch, capsys)
    assert code == 1 and "empty file" in err and str(p) in err


def test_unknown_format_text(tmp_path, monkeypatch, capsys):
    p = tmp_path / "notes.txt"
    p.write_text("the deploy went fine\nnothing to report here\n")
    code, _, err = run_main(["classify", str(p)], monkeypatch, capsys)
    assert code == 1 and "expected one of" in err


def test_binary_file(tmp_path, monkeypatch, capsys):
    p = tmp_path / "blob.bin"
    p.write_bytes(b"\x00\x01\x02garbage\x00")
    code, _, err = run_main(["classify", str(p)], monkeypatch, capsys)
    assert code == 1 and "binary" in err


def test_json_lines_of_no_known_export(tmp_path, monkeypatch, capsys):
    p = tmp_path / "events.jsonl"
    p.write_text('{"event": "login", "user": "u1"}\n{"event": "logout", "user": "u1"}\n')
    code, _, err = run_main(["classify", str(p)], monkeypatch, capsys)
    assert code == 1 and "output_text and provider_stop_reason" in err


def test_missing_required_column(tmp_path, monkeypatch, capsys):
    p = tmp_path / "t.csv"
    p.write_text("route,output_text\nsupport,Hello there.\n")
    code, _, err = run_main(["classify", str(p)], monkeypatch, capsys)
    assert code == 1 and "provider_stop_reason" in err and "--map" in err


def test_bad_map_spec_is_usage_error(tmp_path, monkeypatch, capsys):
    p = tmp_path / "t.csv"
    p.write_text("completion,finish_reason\nHi.,stop\n")
    code, _, err = run_main(["classify", str(p), "--map", "output_text"], monkeypatch, capsys)
    assert code == 2 and "canonical_name=source_column" in err


def test_unknown_by_column_is_usage_error(tmp_path, monkeypatch, capsys):
    p = tmp_path / "t.csv"
    p.write_text("output_text,provider_stop_reason\nHi.,stop\n")
    code, _, err = run_main(["diff", str(p), "--by", "tenant"], monkeypatch, capsys)
    assert code == 2 and "--by tenant" in err


def test_unknown_output_format_is_usage_error(tmp_path, monkeypatch, capsys):
    p = tmp_path / "t.csv"
    p.write_text("output_text,provider_stop_reason\nHi.,stop\n")
    code, _, err = run_main(["classify", str(p), "--format", "xml"], monkeypatch, capsys)
    assert code == 2 and "--format xml" in err


def test_unknown_option_is_usage_error(monkeypatch, capsys):
    code, _, err = run_main(["classify", "--frobnicate"], monkeypatch, capsys)
    assert code == 2


def test_strict_turns_unreadable_records_into_exit_3(tmp_path, monkeypatch, capsys):
    good = {"object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}]}
    p = tmp_path / "r.jsonl"
    p.write_text(json.dumps(good) + "\n" + '{"object": "chat.completion", "choi\n')
    code, out, err = run_main(["classify", str(p), "--format", "csv"], monkeypatch, capsys)
    assert code == 0
    assert f"{p}:2: malformed_json" in err
    code, out, err = run_main(["classify", str(p), "--strict", "--format", "csv"], monkeypatch, capsys)
    assert code == 3 and "--strict" in err


def test_cli_runner_reports_library_errors_without_traceback(tmp_path):
    result = runner.invoke(app, ["classify", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
    assert "no such file" in str(result.exception)
