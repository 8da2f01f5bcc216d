"""stoptriage: which "successful" LLM responses were not?

Library API (the CLI is a thin layer over these)::

    import stoptriage
    res = stoptriage.classify(["traces.jsonl"])        # Classified
    res.frame          # LazyFrame: one row per response, output contract of taxonomy.md §5
    res.report         # IngestReport: formats, unreadable records (file, line, reason)
    stoptriage.diff(res.frame, by=["route"])           # LazyFrame, worst groups first
    stoptriage.summary(res.frame)                      # dict of small DataFrames
    stoptriage.alerts.evaluate(res.frame, ["route"])   # fired (rule, route) pairs
    stoptriage.compare(base.frame, cand.frame, ["route"])  # two sides, Fisher's exact test
    stoptriage.trend(res.frame, "1d", ["route"])       # Trend(frame, untimed)
    stoptriage.examples(res.frame, rule="truncated_json")  # Examples(frame, matched, rows)

See README.md for the columns and the exit codes of the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import ingest, render, reports, signals, taxonomy
from .errors import ConfigError, InputFileError, InputFormatError, MissingColumnError, StoptriageError, StrictModeError
from .ingest.problems import IngestReport
from .reports import alerts, compare, diff, examples, summary, trend
from .schema import BULKY, CANONICAL

__version__ = "0.1.0"

__all__ = [
    "Classified",
    "classify",
    "read",
    "diff",
    "summary",
    "alerts",
    "compare",
    "trend",
    "examples",
    "output_columns",
    "IngestReport",
    "StoptriageError",
    "InputFileError",
    "InputFormatError",
    "MissingColumnError",
    "ConfigError",
    "StrictModeError",
]


@dataclass
class Classified:
    """Result of :func:`classify`: ``frame`` (LazyFrame, all columns incl. bulky ones)
    and ``report`` (what was read and what could not be)."""

    frame: pl.LazyFrame
    report: IngestReport


def read(paths: list[str | Path], **options) -> tuple[pl.LazyFrame, IngestReport]:
    """Read exports into the canonical frame; see :func:`stoptriage.ingest.read`."""
    return ingest.read([str(p) for p in paths], **options)


def classify(
    paths: list[str | Path],
    input_format: str | None = None,
    mapping: dict[str, str] | None = None,
    route: str | None = None,
    phrases: list[str | Path] | None = None,
    continuation: list[str | Path] | None = None,
    stdin: bytes | None = None,
) -> Classified:
    """Read and classify exports.

    Input: paths/globs/dirs/``-``; ``input_format`` (ingest.FORMATS key) forces a
    format; ``mapping`` canonical->source column; ``route`` the route column/key;
    ``phrases`` / ``continuation`` user files extending the shipped lists.
    Output: :class:`Classified`; its frame is a lazy plan, but the call itself reads
    the input once, for the per-route length statistics
    (:func:`signals.add_length_signals`: a lazy group-by joined back would hold the
    whole frame in a streaming run). Errors: InputFileError, InputFormatError,
    MissingColumnError, ConfigError (all StoptriageError).
    """
    lf, report = ingest.read([str(p) for p in paths], input_format=input_format, mapping=mapping, route=route, stdin=stdin)
    phrase_list = signals.load_list("refusal_phrases.txt", phrases)
    words = signals.load_list("continuation_words.txt", continuation)
    return Classified(taxonomy.classify_frame(lf, phrase_list, words), report)


def output_columns(frame: pl.LazyFrame, include_bulky: bool = False) -> list[str]:
    """Columns of the ``classify`` output contract (taxonomy.md §5), in order:
    canonical identity columns, signals and verdicts, then pass-through columns.
    Bulky columns (output_text, tool_calls, tool_schemas) only with ``include_bulky``."""
    names = frame.collect_schema().names()
    canonical = [c for c in CANONICAL if c in names and (include_bulky or c not in BULKY)]
    computed = [c for c in taxonomy.SIGNAL_COLUMNS if c in names]
    rest = [c for c in names if c not in CANONICAL and c not in computed]
    return canonical + computed + rest
