"""Fault injection for the reliability tests, driven by EDGEBENCH_FAULT; a no-op when the variable is unset.

EDGEBENCH_FAULT is a comma-separated list of `stage:kind[@target]`:
  stage   where the fault fires: `load` or `run` (pyperf worker, before/after the model is loaded), `evaluate`
          (load test and accuracy child), `convert` (converter child, before a variant is built), `reference`
          (converter child, before the source model's reference outputs), `fleet` (a cluster run's Ray task on
          the node, before it starts the pyperf workers)
  kind    `crash` (a real SIGSEGV), `abort` (SIGABRT), `hang` (sleeps), `oom` (allocates and touches memory),
          `error` (a Python exception), `perturb` (evaluate only: the model's second output comes back with
          a large error added, the first untouched: an accuracy fault in one head of a model),
          `delay=MS` (run only: every timed inference takes MS milliseconds longer, spent busy, as slower code
          would: the regression gate's power is checked with it)
  target  optional: fire only where this word names the benchmark's runtime, variant or `t<threads>`
The variable reaches pyperf workers through --inherit-environ. Standard library only: workers import it.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable

# The `oom` fault stops growing here and then hangs, so a run whose memory limit is not enforced fails by its
# timeout instead of exhausting a shared machine.
OOM_CAP_BYTES = 4 << 30
_CHUNK = 32 << 20


class InjectedFault(RuntimeError):
    pass


def _matching(stage: str, context: Iterable[str]) -> list[str]:
    spec = os.environ.get("EDGEBENCH_FAULT", "")
    words = set(context)
    kinds = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        where, _, rest = item.partition(":")
        kind, _, target = rest.partition("@")
        if where == stage and (not target or target in words):
            kinds.append(kind)
    return kinds


def inject(stage: str, context: Iterable[str] = ()) -> None:
    """Fire the faults configured for `stage` whose target is in `context` (runtime, variant, t<threads> ...)."""
    for kind in _matching(stage, context):
        if kind != "perturb" and not kind.startswith("delay="):
            _fire(kind, stage)


def delay_s(stage: str, context: Iterable[str] = ()) -> float:
    """Seconds the `delay=MS` faults configured for `stage` and this context add to every inference (0.0: none)."""
    total = 0.0
    for kind in _matching(stage, context):
        if kind.startswith("delay="):
            try:
                total += float(kind.partition("=")[2]) / 1e3
            except ValueError:
                raise ValueError(f"EDGEBENCH_FAULT: {kind!r} needs a delay in milliseconds, e.g. delay=0.05") from None
    return total


def perturbing(stage: str, context: Iterable[str] = ()) -> bool:
    """Whether a `perturb` fault is configured for `stage` and this context."""
    return "perturb" in _matching(stage, context)


def _fire(kind: str, stage: str) -> None:
    if kind == "crash":
        import ctypes
        ctypes.string_at(0)  # a genuine segmentation fault, as a broken kernel would cause
    elif kind == "abort":
        os.abort()
    elif kind == "hang":
        while True:
            time.sleep(60)
    elif kind == "oom":
        hog: list[bytearray] = []
        while len(hog) * _CHUNK < OOM_CAP_BYTES:
            buf = bytearray(_CHUNK)
            buf[::4096] = b"\x01" * (_CHUNK // 4096)  # touch every page so it is resident, not just reserved
            hog.append(buf)
        while True:
            time.sleep(60)
    elif kind == "error":
        raise InjectedFault(f"injected fault at stage {stage}")
    else:
        raise ValueError(f"EDGEBENCH_FAULT: unknown fault kind {kind!r}")
