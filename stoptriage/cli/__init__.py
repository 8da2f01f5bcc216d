"""The command-line interface: a thin Typer layer over the library.

Exit codes (README "Exit codes"): 0 success (unreadable records are reported on
stderr but do not fail the run); 1 input error (missing/empty/unreadable file,
unknown format, missing required column); 2 usage error (bad option or value,
unknown --by column); 3 ``--strict`` and some record could not be read;
70 internal error (a bug: set STOPTRIAGE_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import StoptriageError
from ..ingest import FORMATS
from .alerts import alerts
from .classify import classify
from .compare import compare
from .diff import diff
from .examples import examples
from .options import err_console
from .summary import summary
from .trend import trend

app = typer.Typer(
    name="stoptriage",
    help="Which 'successful' LLM responses were not? Classify exports, diff the provider's stop reason against a derived one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(classify)
app.command()(diff)
app.command()(summary)
app.command()(alerts)
app.command()(compare)
app.command()(trend)
app.command()(examples)


@app.command()
def formats() -> None:
    """List the input formats and how each is recognised."""
    for name, fmt in FORMATS.items():
        typer.echo(f"{name:16s} {fmt.recognised_by}  [{', '.join(fmt.containers)}]")


def main() -> None:
    """Console entry point: run the app, map library errors to one line + exit code.

    Usage errors (unknown option, bad value) are Typer's own: exit 2.
    """
    try:
        app()
    except StoptriageError as exc:
        err_console.print(f"stoptriage: error: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug: one line unless debugging
        if os.environ.get("STOPTRIAGE_DEBUG"):
            raise
        err_console.print(
            f"stoptriage: internal error: {type(exc).__name__}: {exc} (set STOPTRIAGE_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(70)
