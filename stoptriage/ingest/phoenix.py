"""Reader stub: filled in by its format's work (issue 3)."""

from __future__ import annotations

from .source import Format

FORMATS: list[Format] = []
