"""What earlier attempts of an interrupted run measured: the records to keep and their raw samples."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.benchmarks.run.writer import samples_file
from edgebench.results.contract import load_run
from edgebench.results.errors import ResultsError, UserError
from edgebench.results.record import RecordKey, record_key

OPTIONS_KEY = "run_options"


@dataclass
class Prior:
    """What earlier attempts of this run measured, and what the user is told about it."""

    run_dir: Path
    doc: dict[str, Any]
    done: dict[RecordKey, dict[str, Any]] = field(default_factory=dict)
    samples: dict[RecordKey, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def pending(self, variant: str, runtime: str, threads: int, batch: int, label: str | None = None) -> bool:
        return RecordKey(variant, runtime, threads, batch, label) not in self.done

    def kept(self, variant: str, runtime: str, threads: int, batch: int, label: str | None = None) -> dict[str, Any] | None:
        """The record kept from earlier attempts, if any."""
        return self.done.get(RecordKey(variant, runtime, threads, batch, label))


def load_prior(run_dir: str | Path) -> tuple[dict[str, Any], Prior]:
    """(stored run options, what was measured); UserError when DIR cannot be resumed."""
    d = Path(run_dir)
    if not d.is_dir():
        raise UserError(f"cannot resume {d}: no such directory")
    try:
        doc = load_run(d, skip_damaged=False)
    except ResultsError as exc:
        raise UserError(f"cannot resume {d}: {exc}") from None
    options = doc.get(OPTIONS_KEY)
    if not isinstance(options, dict) or not {"variants", "threads", "batches", "mode"} <= set(options):
        raise UserError(f"cannot resume {d}: its results.json has no run_options (written by an older edgebench?); "
                        "start a new run")
    prior = Prior(run_dir=d, doc=doc)
    work = d / "work"
    retried = 0
    for rec in doc["results"]:
        key = record_key(rec)
        if rec.get("status") != "ok":
            retried += 1
            continue
        samples = samples_file(work, str(rec.get("benchmark", "")))
        if not _samples_match(samples, rec):
            prior.notes.append(f"{rec.get('benchmark')}: its raw samples in {work} are missing or do not match the "
                               "record; measured again")
            continue
        prior.done[key] = rec
        prior.samples[key] = samples
    if prior.done:
        prior.notes.append(f"resumed: {len(prior.done)} benchmark(s) measured before were kept as they were")
    if retried:
        prior.notes.append(f"resumed: {retried} benchmark(s) that had failed were tried again")
    return options, prior


def _samples_match(path: Path, rec: dict[str, Any]) -> bool:
    """The record's raw pyperf samples exist, load, and are as many as the record says (pyperf.json is rebuilt
    from these files, so a damaged one would otherwise break every later write)."""
    if not path.is_file():
        return False
    try:
        import pyperf
        bench = pyperf.Benchmark.load(str(path))
        return bench.get_name() == rec.get("benchmark") and len(bench.get_values()) == rec["latency_ms"]["n"]
    except Exception:  # pyperf raises many types for a damaged file; any of them means "measure it again"
        return False
