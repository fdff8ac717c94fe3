"""The sizing contract: sizing.json, written by `bench size` beside a run's results.json and read by the reports.

{"schema_version": "1.1", "sizings": [entry, ...]}: each `bench size` appends one entry (its machine, SLO, rate,
candidates with their layouts' interference curves and raw load points, predictions and the recommendation), so
the sizings of several machines or SLOs merge in one file, as results.json merges runs. Versioned "MAJOR.MINOR": a
reader accepts any minor version of the major it knows and refuses a newer major with one line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebench.results.contract import read_versioned, write_text_atomic

SIZING_VERSION = "1.1"  # 1.1: "checks", per-layout "calibration", per-point "served" and "other_cpu_cores"
SIZING_FILE = "sizing.json"


def sizing_path(run: str | Path) -> Path:
    """sizing.json of a run directory (or the directory of a results.json)."""
    p = Path(run)
    return p / SIZING_FILE if p.is_dir() else p.parent / SIZING_FILE


def load_sizing(run: str | Path) -> dict[str, Any] | None:
    """The sizing document of a run, None when it has none; ResultsError when it is damaged or too new."""
    p = sizing_path(run)
    if not p.is_file():
        return None
    doc = read_versioned(p, "schema_version", "sizings", SIZING_VERSION, "sizing")
    doc["sizings"] = [s for s in doc["sizings"] if isinstance(s, dict)]
    return doc


def save_entry(run: str | Path, entry: dict[str, Any]) -> Path:
    """Write `entry` into the run's sizing.json: replaced when an entry with its id is there, else appended."""
    doc = load_sizing(run) or {"schema_version": SIZING_VERSION, "sizings": []}
    doc["schema_version"] = SIZING_VERSION
    kept = [s for s in doc["sizings"] if s.get("id") != entry.get("id")]
    doc["sizings"] = [*kept, entry]
    return write_text_atomic(sizing_path(run), json.dumps(doc, separators=(",", ":")) + "\n")
