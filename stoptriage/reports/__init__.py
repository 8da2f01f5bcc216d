"""Reports over a classified frame, each a LazyFrame/DataFrame the CLI renders.

- diff.py: stop_reason x derived_stop per group (``diff``) and the one-screen ``summary``.
- common.py: the ``--by`` check and the per-group metric counts the others share.
- alerts.py: the alert rules per group against thresholds (data/alert_rules.toml + --rules).
"""

from __future__ import annotations

from . import alerts
from .common import MIN_RATE_ROWS, check_by, metric_counts, metric_names
from .diff import diff, summary

__all__ = ["MIN_RATE_ROWS", "alerts", "check_by", "diff", "metric_counts", "metric_names", "summary"]
