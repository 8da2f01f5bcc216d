"""Helpers shared by the benchmark scripts (run as ``python benchmarks/<script>.py``, so
this folder is on ``sys.path``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def fmt_table(rows: list[list[str]], header: list[str]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned, two
    spaces between columns, a dashed line under the header."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def child_env(repo: Path) -> dict[str, str]:
    """This process's environment with ``repo`` first on PYTHONPATH, so that a child
    process imports this checkout's stoptriage."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def warm_cache(path: Path) -> None:
    """Read ``path`` once, so that every timed run finds it in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def run_child(cmd: list[str], result: Path, log: Path, repo: Path) -> dict:
    """Run one timed child (``cmd``: a benchmark script in its child mode, which writes
    its result as JSON to ``result``), its stdout and stderr to ``log``, in ``repo``
    with :func:`child_env`. Returns the child's result dict plus ``maxrss_kb`` (its
    peak RSS over its whole life, from ``os.wait4``; Linux: kilobytes) and ``log``
    (the text); or ``{"error": "exit N", "log": text}`` when it failed or wrote no result."""
    result.unlink(missing_ok=True)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=child_env(repo), cwd=repo)
        _, status, ru = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if code != 0 or not result.exists():
        return {"error": f"exit {code}", "log": text}
    return {**json.loads(result.read_text()), "maxrss_kb": ru.ru_maxrss, "log": text}
