"""Reports over a classified frame, each a LazyFrame/DataFrame the CLI renders.

- diff.py: stop_reason x derived_stop per group (``diff``) and the one-screen ``summary``.
- common.py: the ``--by`` check and the per-group metric counts the others share.
- alerts.py: the alert rules per group against thresholds (data/alert_rules.toml + --rules).
- compare.py: two sides (two exports, a column's two values, before/after a time) per
  group and metric, with Fisher's exact test.
- trend.py: the metrics per time bucket and group, with a sparkline per line.
- examples.py: the rows behind a number (a rule, a derived class, the disagreements).
"""

from __future__ import annotations

from . import alerts
from .common import MIN_RATE_ROWS, check_by, metric_counts, metric_names
from .compare import compare, split
from .diff import diff, summary
from .examples import Examples, evidence, examples
from .trend import Trend, sparkline, trend, trend_lines

__all__ = [
    "MIN_RATE_ROWS", "Examples", "Trend", "alerts", "check_by", "compare", "diff", "evidence", "examples",
    "metric_counts", "metric_names", "sparkline", "split", "summary", "trend", "trend_lines",
]
