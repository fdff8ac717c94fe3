"""Reading the results contract (results.json) written by `bench run`.

The format is versioned "MAJOR.MINOR": readers accept any minor version of the major they know and refuse a newer major.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.0"
RESULTS_FILE = "results.json"
PYPERF_FILE = "pyperf.json"
REQUIRED_RECORD_KEYS = ("runtime", "variant", "threads", "status", "latency_ms", "cold_start_ms", "peak_rss_mb",
                        "model_bytes", "accuracy", "artifact")


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write beside `path`, then rename: a reader (or a run killed mid-write) never sees half a file."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


class ResultsError(ValueError):
    """A results file that cannot be read; the message is one line for the user."""


def _major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        raise ResultsError(f"invalid schema_version {version!r}") from None


def check_schema(doc: dict[str, Any], source: str) -> None:
    if not isinstance(doc, dict) or "schema_version" not in doc or not isinstance(doc.get("results"), list):
        raise ResultsError(f"{source} is not an edgebench results file (no schema_version/results)")
    if _major(doc["schema_version"]) > _major(SCHEMA_VERSION):
        raise ResultsError(f"{source} has schema_version {doc['schema_version']}, newer than this edgebench reads "
                           f"({SCHEMA_VERSION}); upgrade edgebench")
    for i, rec in enumerate(doc["results"]):
        missing = [k for k in REQUIRED_RECORD_KEYS if k not in rec]
        if missing:
            raise ResultsError(f"{source}: record {i} lacks {', '.join(missing)}")


def results_path(path: str | Path) -> Path:
    p = Path(path)
    return p / RESULTS_FILE if p.is_dir() else p


def load_run(path: str | Path) -> dict[str, Any]:
    """Load and validate one run: a run directory or its results.json."""
    p = results_path(path)
    if not p.is_file():
        raise ResultsError(f"no results file at {p}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p} is not valid JSON: {exc}") from None
    check_schema(doc, str(p))
    doc.setdefault("_source", str(p))
    return doc
