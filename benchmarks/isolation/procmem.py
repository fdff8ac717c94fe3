"""Resident memory of the current process, read from /proc (Linux); falls back to getrusage elsewhere."""
from __future__ import annotations

import resource
import sys


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _kb_or_maxrss(field: str) -> int:
    """The /proc figure, or getrusage's lifetime peak where /proc is missing (macOS reports bytes there)."""
    v = _status_kb(field)
    if v is not None:
        return v
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru // 1024 if sys.platform == "darwin" else ru


def rss_kb() -> int:
    return _kb_or_maxrss("VmRSS")


def peak_rss_kb() -> int:
    return _kb_or_maxrss("VmHWM")


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS so a later peak excludes load-time transients; False if the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False
