"""Exception types of the library, each with the CLI exit code it maps to.

The CLI prints ``str(error)`` as one line on stderr and exits with ``error.exit_code``
(documented in README "Exit codes": 1 input error, 2 usage error, 3 --strict found
unreadable records). The library never calls ``sys.exit``.
"""

from __future__ import annotations


class StoptriageError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with (1 unless overridden)."""

    exit_code = 1


class InputFileError(StoptriageError):
    """A path that does not exist, cannot be read, or is empty."""


class InputFormatError(StoptriageError):
    """A file whose format is not one stoptriage reads (or not the one forced)."""


class MissingColumnError(StoptriageError):
    """A flat table without a required canonical column (after ``--map``)."""


class StrictModeError(StoptriageError):
    """``--strict`` and at least one record could not be read."""

    exit_code = 3


class ConfigError(StoptriageError):
    """A bad option value or data file (phrase list, ``--map`` spec, ``--by`` column)."""

    exit_code = 2
