"""How the parent process calls a measuring child: its environment, its one-line error, its result line.

Every measurement runs in a child process with a time limit (isolation/subproc.py): a crash or hang there becomes a
failed record with a one-line reason, never a crash of the run.
"""
from __future__ import annotations

import os
from typing import Any

from edgebench.benchmarks.isolation.childguard import parse_result


class MeasureError(RuntimeError):
    """A benchmark that could not be measured; the message is one line."""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def parse_marker(stdout: str) -> dict[str, Any]:
    try:
        return parse_result(stdout)
    except LookupError as exc:
        raise MeasureError(str(exc)) from None
