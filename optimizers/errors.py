"""Outcomes of a pass other than a new file."""
from __future__ import annotations

from edgebench.results.errors import one_line


class PassSkipped(Exception):
    """The pass does not apply to this model (e.g. no attention pattern to fuse); said plainly, not a failure."""


def converter_error(exc: BaseException, limit: int = 300) -> str:
    """The useful line of a TFLite converter error (MLIR errors open with long source locations)."""
    text = str(exc)
    if "TF Select ops:" in text:
        ops = text.split("TF Select ops:", 1)[1].splitlines()[0].strip()
        return f"ops the TFLite builtin runtime lacks (they would need TF Select / Flex): {ops}"[:limit]
    errors = [ln.rsplit("error:", 1)[1].strip() for ln in text.splitlines() if "error:" in ln]
    useful = [e for e in errors if e and not e.startswith("loc(")]
    return (useful[0] if useful else one_line(exc, limit))[:limit]
