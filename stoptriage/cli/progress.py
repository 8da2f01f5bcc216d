"""A progress display on stderr while a command reads and classifies its input.

What Polars (2.1) lets an observer see of a running plan, and what this uses:

- no progress callback: ``collect`` / ``sink_parquet`` run to the end in Rust.
  ``collect_batches`` / ``sink_batches`` call back per *output* batch: progress
  only for a row-preserving plan, and only once its blocking stages (the
  per-route statistics) are done. A row counter put in the plan
  (``LazyFrame.map_batches``) saw its first row after ~80% of a 1M-row classify,
  and made Polars panic with projection pushdown on. Neither is used.
- bytes read: the scans the readers use (``scan_lines``, ``scan_csv``,
  ``scan_parquet``) read local files with ``read`` system calls, not a memory
  map, so the process's ``rchar`` (``/proc/self/io``, Linux) grows as input is
  read (``scan_ndjson`` maps its file: nothing would show). In a streaming plan
  reading is paced by the work (back-pressure: a 10M-row Parquet scan read
  linearly over its 30 s), so bytes read are real progress. When a stage needs
  the whole input first (today's JSON-lines readers, the per-route statistics)
  or the input is small (Polars reads a 56 MB Parquet file ahead in 2-5 s), the
  input is read early and the rest of the run is work on it: the display then
  says ``working`` and only the clock and the spinner move.

The display, one line: spinner; ``reading`` (input bytes read in the last
IDLE_AFTER s) or ``working``; the inputs (file count, total size, rows when every
file is Parquet, from the footers); a bar of bytes read over the input size for
text inputs (JSON lines, JSON, CSV: a pass reads every byte) while part of them
has been read; else the bar pulses (nothing read yet, all read, Parquet or
SQLite whose unneeded columns/pages are never read, stdin, no ``/proc/self/io``
as on macOS and Windows); bytes read so far; elapsed time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

#: Seconds before the display appears: a run shorter than this shows nothing.
START_DELAY = 1.0
#: Redraws per second (each reads /proc/self/io once: ~10 µs; draws: ~0.7-1.8 ms of CPU).
REFRESH_PER_SECOND = 4
#: "reading" while this many bytes were read in the last IDLE_AFTER seconds, else "working".
#: (The display's own reads of /proc/self/io add ~150 bytes a redraw.)
MOVING_BYTES = 64 * 1024
IDLE_AFTER = 1.0
#: Files whose first bytes are read to tell Parquet/SQLite from text (more: no bar, no
#: row count), and whose footers are read for the row count when all are Parquet.
MAX_SNIFF = 1000

_IO = "/proc/self/io"


def bytes_read() -> int | None:
    """Bytes this process has read so far through read-like system calls
    (``rchar`` of ``/proc/self/io``: every thread, page cache hits included).
    None where the file does not exist or cannot be read (not Linux)."""
    try:
        with open(_IO, "rb") as fh:
            for line in fh:
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def wanted(console: Console, quiet: bool) -> bool:
    """Whether to show the display: False with ``--quiet``; else True only when rich
    calls ``console`` interactive (a terminal, TERM not dumb, TTY_INTERACTIVE not 0)
    and its file is a TTY. FORCE_COLOR / TTY_COMPATIBLE (colours in a CI log) do not
    turn it on; TTY_INTERACTIVE=1 does."""
    if quiet or not console.is_interactive:
        return False
    if os.environ.get("TTY_INTERACTIVE") == "1":
        return True
    isatty = getattr(console.file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed file
        return False


class Inputs(NamedTuple):
    """What :func:`describe` finds: ``text`` ("2 files, 1.9 GB"), ``size`` (total
    bytes; None with stdin or a file that cannot be sized), ``bar`` (the bar's total
    in bytes: the size when every file is read whole, else None)."""

    text: str
    size: int | None
    bar: int | None


def describe(paths: Sequence[str]) -> Inputs:
    """The inputs in a few words, their total size, and whether a bar of bytes read
    over that size means anything.

    Input: the command's paths (files, directories, globs, ``-``), expanded as the
    readers expand them. Output: :class:`Inputs`. ``text``: file count and total
    size, plus the rows from the footers when every file is Parquet ("1 file,
    56.2 MB, 1,000,000 rows"), "stdin" for ``-``. ``bar``: the size when every file
    is text (JSON lines, JSON, CSV, SSE: a pass reads every byte); None when one is
    Parquet or SQLite (only the columns or pages a command needs are read: such a
    bar would stop short, e.g. at ~55% for ``diff`` on a flat table whose ids and
    timestamps it skips), with stdin, or past MAX_SNIFF files. Never raises: a
    path that cannot be expanded or read (the readers report it) leaves size and
    bar None.
    """
    from ..errors import StoptriageError
    from ..ingest import PARQUET_MAGIC, SQLITE_MAGIC, STDIN, expand_paths

    try:
        files = expand_paths(list(paths))
    except StoptriageError:
        return Inputs(f"{len(paths)} path{'s' * (len(paths) != 1)}", None, None)
    stdin = STDIN in files
    files = [f for f in files if f != STDIN]
    try:
        size: int | None = sum(os.path.getsize(f) for f in files)
        heads = [_head(f) for f in files] if len(files) <= MAX_SNIFF else None
    except OSError:
        size, heads = None, None
    words = ["stdin"] if stdin else []
    if files:
        words.append(f"{len(files)} file{'s' * (len(files) != 1)}" + ("" if size is None else f", {decimal(size)}"))
    whole = heads is not None and not any(h.startswith((PARQUET_MAGIC, SQLITE_MAGIC)) for h in heads)
    if heads and all(h.startswith(PARQUET_MAGIC) for h in heads):
        rows = _parquet_rows(files)
        if rows is not None:
            words.append(f"{rows:,} rows")
    size = None if stdin else size
    return Inputs(", ".join(words), size, size if whole else None)


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(16)


def _parquet_rows(files: list[str]) -> int | None:
    """Total rows from the Parquet footers; None when one cannot be read."""
    import polars as pl

    try:
        return sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
    except Exception:  # noqa: BLE001 - a bad file is the readers' to report
        return None


class _Polling(Progress):
    """A rich Progress that calls ``poll`` before each redraw (on rich's refresh thread)."""

    def __init__(self, *columns, poll, **kwargs) -> None:
        self._poll = poll  # first: rich renders once while building the display
        super().__init__(*columns, **kwargs)

    def get_renderables(self):
        self._poll()
        yield from super().get_renderables()


class _Display:
    """The display of one ``running`` block: built at entry, shown after ``delay``."""

    def __init__(self, paths: Sequence[str], console: Console, delay: float) -> None:
        self.inputs, _, self.bar = describe(paths)  # the bar's total in bytes; None: it pulses
        self.start_read = bytes_read()
        self.last_read, self.last_move = self.start_read, time.monotonic()
        self.progress = _Polling(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[read]}"),
            TimeElapsedColumn(),
            poll=self.poll,
            console=console,
            transient=True,
            redirect_stdout=False,  # stdout is the command's data: never touched
            redirect_stderr=True,  # a stray warning prints above the display
            refresh_per_second=REFRESH_PER_SECOND,
        )
        self.task = self.progress.add_task(f"reading {self.inputs}", total=None, read="")
        self.lock = threading.Lock()
        self.shown = self.closed = False
        self.timer: threading.Timer | None = None
        if delay > 0:
            self.timer = threading.Timer(delay, self.show)
            self.timer.daemon = True
            self.timer.start()
        else:
            self.show()

    def poll(self) -> None:
        """Bytes read since entry -> the bar, the byte count and reading/working."""
        if self.start_read is None or not hasattr(self, "task"):
            return
        now_read = bytes_read()
        if now_read is None:
            return
        now = time.monotonic()
        if now_read - self.last_read >= MOVING_BYTES:
            self.last_read, self.last_move = now_read, now
        done = now_read - self.start_read
        # A bar of bytes read over the input size while some but not all of it has
        # been read; else it pulses: nothing read yet (or a reader that maps its file),
        # or all read and the work goes on (a full bar would end rich's task: its
        # clock and spinner would stop). update() cannot unset a total; poll runs
        # inside rich's redraw, under its lock, one call at a time.
        measured = self.bar is not None and MOVING_BYTES <= done < self.bar
        self.progress.tasks[0].total = self.bar if measured else None
        phase = "reading" if now - self.last_move < IDLE_AFTER else "working"
        self.progress.update(self.task, completed=done, description=f"{phase} {self.inputs}", read=f"{decimal(done)} read")

    def show(self) -> None:
        with self.lock:
            if not self.closed:
                self.progress.start()
                self.shown = True

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.timer is not None:
                self.timer.cancel()
            if self.shown:
                self.progress.stop()


@contextmanager
def running(paths: Sequence[str], console: Console, enabled: bool, delay: float | None = None) -> Iterator[None]:
    """Show a progress display on ``console`` while the block runs (reading,
    classifying, aggregating); erase it when the block ends or raises.

    Input: ``paths`` as given to the command (files, directories, globs, ``-``);
    ``console``: where to draw (the CLI's stderr console); ``enabled``: normally
    :func:`wanted` (False with --quiet or when stderr is not an interactive
    terminal: then this does nothing at all, writes nothing, starts no thread);
    ``delay``: seconds before it appears (default START_DELAY; a shorter run shows
    nothing; 0: at once).

    Shown (one line, redrawn REFRESH_PER_SECOND times a second; the module
    docstring says why): a spinner; ``reading`` while input bytes are being read,
    ``working`` when none were for IDLE_AFTER s; the inputs (:func:`describe`); a bar
    of bytes read over the input size for text inputs, pulsing otherwise; the
    bytes read (``/proc/self/io``: every read of the process, so a command that
    reads its input twice shows twice its size); the elapsed time. Lines printed
    on ``console`` meanwhile appear above it; stdout is never touched, so the
    block must not write the command's output (write it after the block).
    """
    if not enabled:
        yield
        return
    display = _Display(paths, console, START_DELAY if delay is None else delay)
    try:
        yield
    finally:
        display.close()
