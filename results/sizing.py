"""The sizing contract: sizing.json, written by `bench size` beside a run's results.json and read by the reports.

{"schema_version": "1.0", "sizings": [entry, ...]}: each `bench size` appends one entry (its machine, SLO, rate,
candidates with their layouts' interference curves and raw load points, predictions and the recommendation), so
the sizings of several machines or SLOs merge in one file, as results.json merges runs. Versioned "MAJOR.MINOR": a
reader accepts any minor version of the major it knows and refuses a newer major with one line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebench.results.contract import write_text_atomic
from edgebench.results.errors import ResultsError

SIZING_VERSION = "1.0"
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
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sizings"), list):
        raise ResultsError(f"{p} is not an edgebench sizing file (no schema_version/sizings)")
    try:
        major = int(str(doc.get("schema_version", "")).split(".")[0])
    except ValueError:
        raise ResultsError(f"{p}: invalid schema_version {doc.get('schema_version')!r}") from None
    if major > int(SIZING_VERSION.split(".")[0]):
        raise ResultsError(f"{p} has schema_version {doc['schema_version']}, newer than this edgebench reads "
                           f"({SIZING_VERSION}); upgrade edgebench")
    doc["sizings"] = [s for s in doc["sizings"] if isinstance(s, dict)]
    return doc


def save_entry(run: str | Path, entry: dict[str, Any]) -> Path:
    """Write `entry` into the run's sizing.json: replaced when an entry with its id is there, else appended."""
    doc = load_sizing(run) or {"schema_version": SIZING_VERSION, "sizings": []}
    doc["schema_version"] = SIZING_VERSION
    kept = [s for s in doc["sizings"] if s.get("id") != entry.get("id")]
    doc["sizings"] = [*kept, entry]
    return write_text_atomic(sizing_path(run), json.dumps(doc, separators=(",", ":")) + "\n")
