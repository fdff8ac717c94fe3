"""Reading the results contract (results.json) written by `bench run`.

The format is versioned "MAJOR.MINOR": readers accept any minor version of the major they know and refuse a newer major.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebench.results.errors import ResultsError
from edgebench.results.record import Record, validate_record

SCHEMA_VERSION = "1.4"  # 1.1: latency CIs, how each record was measured, threading. 1.2: optional target_accuracy,
# rewrites, measured_on.ray_node_id/node_ip, measurement method "stopped-cannot-win", per-output accuracy.
# 1.3: optional measurement.from_screening. 1.4: optional top-level `paired` (the decision's comparisons measured
# in interleaved rounds: per-round ratios, their median and sign-test CI, the machine's drift) and
# measurement.paired_processes
RESULTS_FILE = "results.json"
PYPERF_FILE = "pyperf.json"
REQUIRED_RECORD_KEYS = tuple(sorted(Record.__required_keys__))
SKIPPED_KEY = "_skipped"  # set by load_run: one line per damaged record it left out


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write beside `path`, then rename: a reader (or a run killed mid-write) never sees half a file."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def _major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        raise ResultsError(f"invalid schema_version {version!r}") from None


def check_schema(doc: Any, source: str) -> None:
    if not isinstance(doc, dict) or "schema_version" not in doc or not isinstance(doc.get("results"), list):
        raise ResultsError(f"{source} is not an edgebench results file (no schema_version/results)")
    if _major(doc["schema_version"]) > _major(SCHEMA_VERSION):
        raise ResultsError(f"{source} has schema_version {doc['schema_version']}, newer than this edgebench reads "
                           f"({SCHEMA_VERSION}); upgrade edgebench")


def read_versioned(p: Path, version_key: str, list_key: str, supported: str, kind: str) -> dict[str, Any]:
    """A versioned JSON document of ours (sizing.json, card.json): its `list_key` list and a major version this
    edgebench reads, else one ResultsError line saying what is wrong."""
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(list_key), list):
        raise ResultsError(f"{p} is not an edgebench {kind} file (no {version_key}/{list_key})")
    try:
        major = int(str(doc.get(version_key, "")).split(".")[0])
    except ValueError:
        raise ResultsError(f"{p} has an invalid {version_key} {doc.get(version_key)!r}") from None
    if major > _major(supported):
        raise ResultsError(f"{p} has {version_key} {doc[version_key]}, newer than this edgebench reads "
                           f"({supported}); upgrade edgebench")
    return doc


def valid_records(doc: dict[str, Any], source: str, skip_damaged: bool) -> tuple[list[Record], list[str]]:
    """The records that follow the Record type, and one line per damaged one (each names the record and the field).

    With skip_damaged, damaged records are left out as long as one record is usable; otherwise the first is an error.
    """
    good: list[Record] = []
    damaged: list[str] = []
    for i, rec in enumerate(doc["results"]):
        name = rec.get("benchmark") if isinstance(rec, dict) else None
        try:
            good.append(validate_record(rec, f"{source}: record {i}" + (f" ({name})" if isinstance(name, str) else "")))
        except ResultsError as exc:
            damaged.append(str(exc))
    if damaged and (not skip_damaged or not good):
        more = f" (and {len(damaged) - 1} more damaged record(s))" if len(damaged) > 1 else ""
        raise ResultsError(damaged[0] + more)
    return good, damaged


def results_path(path: str | Path) -> Path:
    p = Path(path)
    return p / RESULTS_FILE if p.is_dir() else p


def load_run(path: str | Path, skip_damaged: bool = True) -> dict[str, Any]:
    """Load and validate one run: a run directory or its results.json. Damaged records are left out with one line
    each under SKIPPED_KEY (or, with skip_damaged=False or when none is usable, the first ends in ResultsError)."""
    p = results_path(path)
    if not p.is_file():
        raise ResultsError(f"no results file at {p}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p} is not valid JSON: {exc}") from None
    check_schema(doc, str(p))
    doc["results"], doc[SKIPPED_KEY] = valid_records(doc, str(p), skip_damaged)
    doc.setdefault("_source", str(p))
    return doc
