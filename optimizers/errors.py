"""Outcomes of a pass other than a new file."""
from __future__ import annotations


class PassSkipped(Exception):
    """The pass does not apply to this model (e.g. no attention pattern to fuse); said plainly, not a failure."""


class PassFailed(RuntimeError):
    """The pass ran and failed; the message is one line naming the cause."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:limit]
