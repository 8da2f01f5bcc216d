"""``stoptriage trend``: placeholder until issue 5 fills it in."""

from __future__ import annotations

import typer


def trend() -> None:
    """Not built yet."""
    raise typer.Exit(2)
