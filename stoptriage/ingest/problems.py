"""Records we could not read: counted and reported, never silently dropped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

#: Columns of the problems frame every reader returns.
PROBLEM_SCHEMA = {
    "source_file": pl.String,
    "source_line": pl.Int64,
    "kind": pl.String,
    "reason": pl.String,
}

#: Problem kinds (the ``kind`` column).
MALFORMED_JSON = "malformed_json"
UNKNOWN_SHAPE = "unknown_shape"
ERROR_BODY = "error_body"
BATCH_ERRORED = "batch_errored"
BAD_VALUE = "bad_value"
BLANK = "blank_line"
#: A file found in a directory or by a glob that no format recognises (or empty);
#: ``source_line`` null. A file named on the command line is an error instead.
UNREADABLE_FILE = "unreadable_file"
#: Records of a readable format that are not model calls (non-LLM spans, other
#: run types): one summary row per file, ``source_line`` null, the reason giving
#: the count (and kinds). Counted, never an error (issue 3).
SKIPPED = "not_a_model_call"
#: Kinds that are informational only: never counted as failures by ``--strict``.
INFO_KINDS = frozenset({BLANK, SKIPPED})


@dataclass
class IngestReport:
    """What ingest read and what it could not.

    ``problems``: DataFrame with :data:`PROBLEM_SCHEMA` (one row per unreadable
    record or bad value, with 1-based JSONL line / 0-based table row index).
    ``formats``: input path -> detected (or forced) format name.
    """

    problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROBLEM_SCHEMA))
    formats: dict[str, str] = field(default_factory=dict)

    def add(self, problems: pl.DataFrame) -> None:
        """Append problem rows (must have :data:`PROBLEM_SCHEMA` columns)."""
        if problems.height:
            self.problems = pl.concat(
                [self.problems, problems.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA)]
            )

    @property
    def failures(self) -> pl.DataFrame:
        """Problems that count for ``--strict`` (everything but blank lines)."""
        return self.problems.filter(~pl.col("kind").is_in(list(INFO_KINDS)))

    def counts(self) -> Counter:
        """Problem count per kind (records not read; ``not_a_model_call`` summaries excluded)."""
        return Counter(dict(self.problems.filter(pl.col("kind") != SKIPPED).group_by("kind").len().iter_rows()))

    @property
    def skipped(self) -> pl.DataFrame:
        """The ``not_a_model_call`` summary rows (source_file, reason)."""
        return self.problems.filter(pl.col("kind") == SKIPPED).select("source_file", "reason")
