"""The progress display (cli/progress.py): on an interactive terminal only, on stderr,
never touching stdout; what it shows, and that it is silent otherwise."""

from __future__ import annotations

import io
import re
import threading

import orjson
import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from stoptriage.cli import app, options, progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class TTYBuffer(io.StringIO):
    """A StringIO that says it is a terminal, as a real stderr on a terminal does."""

    def isatty(self) -> bool:
        return True


def terminal(buffer: io.StringIO | None = None) -> Console:
    """A console drawing into ``buffer`` as on an interactive terminal, 120 columns."""
    return Console(file=buffer if buffer is not None else TTYBuffer(), force_terminal=True, force_interactive=True, width=120)


def shown(console: Console) -> str:
    """What the display drew, without the escape codes."""
    return ANSI.sub("", console.file.getvalue())


@pytest.fixture
def jsonl(tmp_path):
    """A 2,000-line JSON-lines file (~0.5 MB)."""
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"i": i, "output_text": "x" * 200}) + b"\n" for i in range(2000)))
    return path


# --- when it is on ---------------------------------------------------------------


def test_wanted_only_for_an_interactive_tty_without_quiet(monkeypatch):
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    assert progress.wanted(terminal(), quiet=False)
    assert not progress.wanted(terminal(), quiet=True)
    # force_terminal into a file that is not a TTY (FORCE_COLOR in a CI log): colours, no display
    assert not progress.wanted(Console(file=io.StringIO(), force_terminal=True, force_interactive=True), quiet=False)
    # a TTY rich does not call interactive (TERM=dumb, TTY_INTERACTIVE=0)
    assert not progress.wanted(Console(file=TTYBuffer(), force_terminal=True, force_interactive=False), quiet=False)
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert progress.wanted(Console(file=io.StringIO(), force_terminal=True), quiet=False)


def test_wanted_follows_term_and_tty_interactive(monkeypatch):
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    monkeypatch.setenv("TERM", "dumb")
    assert not progress.wanted(Console(file=TTYBuffer(), force_terminal=True), quiet=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert progress.wanted(Console(file=TTYBuffer(), force_terminal=True), quiet=False)
    monkeypatch.setenv("TTY_INTERACTIVE", "0")
    assert not progress.wanted(Console(file=TTYBuffer(), force_terminal=True), quiet=False)


def test_disabled_writes_nothing_and_starts_no_thread(jsonl):
    console = terminal()
    threads = threading.active_count()
    with progress.running([str(jsonl)], console=console, enabled=False, delay=0):
        assert threading.active_count() == threads
        n = pl.scan_lines(jsonl).select(pl.len()).collect().item()
    assert n == 2000
    assert console.file.getvalue() == ""


def test_a_run_shorter_than_the_delay_draws_nothing(jsonl):
    console = terminal()
    with progress.running([str(jsonl)], console=console, enabled=True, delay=60):
        pl.scan_lines(jsonl).select(pl.len()).collect()
    assert console.file.getvalue() == ""


# --- what it shows ----------------------------------------------------------------


def test_display_names_the_inputs_and_erases_itself(jsonl, tmp_path):
    other = tmp_path / "u.jsonl"
    other.write_bytes(jsonl.read_bytes())
    size = 2 * jsonl.stat().st_size
    console = terminal()
    with progress.running([str(jsonl), str(other)], console=console, enabled=True, delay=0):
        console.print("stoptriage: a line printed meanwhile")
        pl.scan_lines(jsonl).select(pl.len()).collect()
    raw = console.file.getvalue()
    text = shown(console)
    assert re.search(r"(reading|working) 2 files, " + re.escape(progress.decimal(size)), text)
    assert "0:00:0" in text  # elapsed time
    assert "stoptriage: a line printed meanwhile\n" in text  # above the display, intact
    assert "\x1b[?25l" in raw and raw.rstrip("\r\n").endswith("\x1b[?25h\r\x1b[1A\x1b[2K")  # cursor hidden, then restored and the line erased


def test_an_error_inside_propagates_and_restores_the_cursor(jsonl):
    console = terminal()
    with pytest.raises(ValueError, match="boom"):
        with progress.running([str(jsonl)], console=console, enabled=True, delay=0):
            raise ValueError("boom")
    assert console.file.getvalue().count("\x1b[?25h") == 1


def test_bar_follows_bytes_read_then_pulses_once_all_was_read(jsonl, monkeypatch):
    reads = iter([10_000, 10_000 + 300_000, 10_000 + 2_000_000, 10_000 + 2_000_000])
    monkeypatch.setattr(progress, "bytes_read", lambda: next(reads))
    monkeypatch.setattr(progress, "MOVING_BYTES", 1)
    monkeypatch.setattr(progress, "IDLE_AFTER", 1e9)
    size = jsonl.stat().st_size
    # Driven by hand (never shown): no refresh thread, no clock.
    display = progress._Display([str(jsonl)], terminal(), delay=60)
    try:
        task = display.progress.tasks[0]
        assert (task.total, task.description) == (None, f"reading 1 file, {progress.decimal(size)}")  # nothing read: pulses
        display.poll()  # 300 kB of the ~0.4 MB file
        assert (task.total, task.completed, task.fields["read"]) == (size, 300_000, "300.0 kB read")
        assert not task.finished
        display.poll()  # 2 MB: more than the input (read twice): the bar pulses, the count goes on
        assert (task.total, task.completed, task.fields["read"]) == (None, 2_000_000, "2.0 MB read")
        assert not task.finished and task.description.startswith("reading ")
        monkeypatch.setattr(progress, "IDLE_AFTER", 0)
        display.poll()  # nothing more read: working on what was read
        assert task.description == f"working 1 file, {progress.decimal(size)}"
    finally:
        display.close()



def test_parquet_input_pulses_and_counts_bytes(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    pl.DataFrame({"output_text": ["a"] * 10, "provider_stop_reason": ["stop"] * 10}).write_parquet(path)
    reads = iter([0, 200])
    monkeypatch.setattr(progress, "bytes_read", lambda: next(reads))
    monkeypatch.setattr(progress, "MOVING_BYTES", 1)
    display = progress._Display([str(path)], terminal(), delay=60)
    try:
        task = display.progress.tasks[0]
        assert task.description == f"reading 1 file, {progress.decimal(path.stat().st_size)}, 10 rows"
        display.poll()
        assert (task.total, task.completed, task.fields["read"]) == (None, 200, "200 bytes read")
    finally:
        display.close()

# --- what it knows of the inputs ----------------------------------------------------


def test_describe_counts_files_size_and_parquet_rows(tmp_path, jsonl):
    data = tmp_path / "d"
    data.mkdir()
    pl.DataFrame({"output_text": ["a", "b", "c"], "provider_stop_reason": ["stop"] * 3}).write_parquet(data / "a.parquet")
    pl.DataFrame({"output_text": ["d"] * 4, "provider_stop_reason": ["stop"] * 4}).write_parquet(data / "b.bin")  # sniffed, not named
    (data / ".hidden").write_text("skipped as the readers skip it")
    sizes = (data / "a.parquet").stat().st_size + (data / "b.bin").stat().st_size
    # Parquet: rows from the footers; no bar (a command reads only the columns it needs).
    assert progress.describe([str(data)]) == (f"2 files, {progress.decimal(sizes)}, 7 rows", sizes, None)
    # One file is not Parquet: no row count (it would take a pass), still no bar.
    both = sizes + jsonl.stat().st_size
    assert progress.describe([str(data), str(jsonl)]) == (f"3 files, {progress.decimal(both)}", both, None)


def test_describe_text_inputs_get_a_bar_of_their_size(tmp_path, jsonl):
    csv = tmp_path / "t.csv"
    csv.write_text("output_text,provider_stop_reason\nhello,stop\n")
    size = jsonl.stat().st_size + csv.stat().st_size
    assert progress.describe([str(tmp_path / "t.*")]) == (f"2 files, {progress.decimal(size)}", size, size)
    sqlite = tmp_path / "logs.db"
    sqlite.write_bytes(b"SQLite format 3\x00" + bytes(100))
    assert progress.describe([str(sqlite)]).bar is None


def test_describe_stdin_and_missing_paths_never_raise(tmp_path, jsonl):
    assert progress.describe(["-"]) == ("stdin", None, None)
    assert progress.describe(["-", str(jsonl)]) == (f"stdin, 1 file, {progress.decimal(jsonl.stat().st_size)}", None, None)
    assert progress.describe([str(tmp_path / "missing.jsonl"), str(jsonl)]) == ("2 paths", None, None)


@pytest.mark.skipif(progress.bytes_read() is None, reason="no /proc/self/io on this system")
@pytest.mark.parametrize("reader", ["scan_lines", "scan_csv", "scan_parquet"])
def test_the_polars_scans_the_readers_use_show_in_bytes_read(tmp_path, reader):
    """The premise of the bar: the scans the readers use (ingest/) read local files
    with read(), not a memory map, so what they read counts in /proc/self/io. (Not
    true of scan_ndjson, which maps its file: for it the bar would only pulse.)"""
    df = pl.DataFrame({"i": range(50_000), "output_text": [f"text number {i} " * 8 for i in range(50_000)]})
    path = tmp_path / "t.data"
    {"scan_lines": df.write_ndjson, "scan_csv": df.write_csv, "scan_parquet": df.write_parquet}[reader](path)
    before = progress.bytes_read()
    lengths = getattr(pl, reader)(path).select(pl.all().cast(pl.String).str.len_bytes().sum()).collect()
    assert lengths.row(0)[-1] > 0
    assert progress.bytes_read() - before >= 0.95 * path.stat().st_size  # Parquet: all but some of the footer


# --- in the commands ----------------------------------------------------------------


def _run(args: list[str], console: Console | None, monkeypatch) -> tuple[int, str, str]:
    """A command through CliRunner: (exit code, stdout, stderr); with ``console``, the
    CLI's stderr console is that terminal and the display starts at once."""
    if console is not None:
        monkeypatch.setattr(options, "err_console", console)
        monkeypatch.setattr(progress, "START_DELAY", 0)
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code in (0, 4), (result.output, result.exception)  # 4: alerts fired
    return result.exit_code, result.stdout, result.stderr


COMMANDS = {
    "examples": lambda e: ["examples", str(e[1]), "--rule", "truncated_json"],
    "alerts": lambda e: ["alerts", str(e[1]), "--baseline", str(e[0]), "--all"],
    "compare": lambda e: ["compare", str(e[0]), str(e[1])],
    "trend": lambda e: ["trend", str(e[2]), "--every", "1d"],
    "classify": lambda e: ["classify", str(e[1])],
    "diff": lambda e: ["diff", str(e[1])],
    "summary": lambda e: ["summary", str(e[1])],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_stdout_is_the_same_with_the_display_on(exports, monkeypatch, command):
    args = COMMANDS[command](exports)
    code, out, err = _run(args, None, monkeypatch)
    assert out and "\x1b" not in out + err  # piped: no display, no escape codes
    console = terminal()
    with monkeypatch.context() as m:
        code_on, out_on, _ = _run(args, console, m)
    assert (code_on, out_on) == (code, out)
    drawn = shown(console)
    inputs = sorted({p for p in args if p.endswith(".jsonl")})
    size = sum(p.stat().st_size for p in exports if str(p) in inputs)
    assert f"{len(inputs)} file{'s' * (len(inputs) > 1)}, {progress.decimal(size)}" in drawn
    assert "\x1b[?25l" in console.file.getvalue()  # it was really drawn (cursor hidden, then shown)
    # The command's own stderr lines went to the same console, above the display.
    assert err.splitlines()[-1] in drawn


def test_quiet_draws_nothing_even_on_a_terminal(exports, monkeypatch):
    console = terminal()
    code, out, _ = _run(["examples", str(exports[1]), "--rule", "truncated_json", "-q"], console, monkeypatch)
    assert code == 0 and out
    assert console.file.getvalue() == ""
