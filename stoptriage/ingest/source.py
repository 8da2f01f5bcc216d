"""What a format reader gets (:class:`Source`) and what it declares (:class:`Format`).

A reader is a small module in this package exposing one or more :class:`Format`
values; ``ingest/__init__.py`` lists them in sniff order (trace-formats.md §11).
Adding the next format is a new module plus one line in that list.

Containers: how the records of a file are laid out on disk, sniffed before the
format. ``jsonl`` (one JSON value a line), ``json`` (one JSON array of records,
or concatenated pretty-printed objects such as the OTel Python
ConsoleSpanExporter writes: converted to JSON lines on read, one record a
"line" numbered from 1), ``parquet``, ``csv``, ``text`` (line-oriented text such
as SSE captures) and ``sqlite``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import polars as pl

JSONL = "jsonl"
JSON = "json"
PARQUET = "parquet"
CSV = "csv"
TEXT = "text"
SQLITE = "sqlite"


@dataclass(frozen=True)
class Source:
    """One input file as a reader sees it.

    ``path``: display name (``<stdin>`` for stdin), also the ``source_file`` value.
    ``data``: the bytes to read instead of opening ``path`` (stdin, or a ``json``
    container already converted to JSON lines); None = read ``path``.
    ``container``: one of the container names above. ``mapping``: the ``--map``
    renames (canonical name -> source column/key).
    """

    path: str
    data: bytes | None
    container: str
    mapping: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str | bytes:
        """What to hand to ``pl.scan_lines`` / ``pl.scan_parquet``: the bytes, else the path."""
        return self.data if self.data is not None else self.path


#: A reader: Source -> (LazyFrame of canonical columns + pass-through columns,
#: problems DataFrame with problems.PROBLEM_SCHEMA columns).
Reader = Callable[[Source], "tuple[pl.LazyFrame, pl.DataFrame]"]


@dataclass(frozen=True)
class Format:
    """An input format: its name, how it is recognised, and its reader.

    Sniffers (any may be None): ``record(obj)`` -> True when one parsed JSON
    record (a dict) is of this format; ``columns(names)`` -> True when a Parquet /
    CSV file with these column names is; ``text(head)`` -> True when a text file
    starting with ``head`` (str) is; ``sqlite(tables)`` -> True for a SQLite file
    holding these table names. ``containers``: the containers it reads.
    ``recognised_by``: one line for ``stoptriage formats``.
    """

    name: str
    recognised_by: str
    read: Reader
    containers: tuple[str, ...] = (JSONL, JSON)
    record: Callable[[dict], bool] | None = None
    columns: Callable[[set[str]], bool] | None = None
    text: Callable[[str], bool] | None = None
    sqlite: Callable[[set[str]], bool] | None = None
