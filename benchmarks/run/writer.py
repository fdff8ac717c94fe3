"""The run directory's writer: results.json and pyperf.json rewritten atomically after every record."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.results.contract import PYPERF_FILE, RESULTS_FILE, write_text_atomic
from edgebench.results.record import Record, record_key


def samples_file(work: Path, benchmark: str) -> Path:
    """Where a record's raw pyperf samples are kept (edgebench.benchmarks.measure.pyperf_timing writes them there)."""
    return work / (benchmark.replace("/", "__") + ".pyperf.json")


class RunWriter:
    """Owns the run directory: results.json and pyperf.json rewritten atomically after every record."""

    def __init__(self, out: Path, doc: dict[str, Any]) -> None:
        self.out = out
        self.work = out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.doc = doc
        self.pyperf_files: list[Path] = []

    def add(self, record: Record, pyperf_json: Path | None = None) -> None:
        self.doc["results"].append(record)
        if pyperf_json is not None:
            self.pyperf_files.append(pyperf_json)
        self.flush()

    def replace(self, record: Record, pyperf_json: Path | None = None) -> None:
        """Put `record` where the record with its key is (a full measurement after a screening one), with the
        samples of this measurement only: pyperf.json always holds exactly the samples each record was computed from."""
        key = record_key(record)
        results = self.doc["results"]
        at = next((i for i, r in enumerate(results) if record_key(r) == key), None)
        if at is None:
            results.append(record)
        else:
            old = samples_file(self.work, str(results[at].get("benchmark", "")))
            self.pyperf_files = [p for p in self.pyperf_files if p != old]
            results[at] = record
        if pyperf_json is not None:
            self.pyperf_files.append(pyperf_json)
        self.flush()

    def flush(self) -> None:
        write_text_atomic(self.out / RESULTS_FILE, json.dumps(self.doc, indent=1, default=_json_default))
        if self.pyperf_files:
            import pyperf
            suite = pyperf.BenchmarkSuite([pyperf.Benchmark.load(str(p)) for p in self.pyperf_files])
            tmp = self.out / (PYPERF_FILE + ".tmp")
            suite.dump(str(tmp), replace=True)
            tmp.replace(self.out / PYPERF_FILE)


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
