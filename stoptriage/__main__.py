"""``python -m stoptriage`` runs the CLI."""

from .cli import main

main()
