"""One run as a report sees it: results.json, the raw latency samples from pyperf.json, and a label for merging."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.reports.fields import dig, text
from edgebench.results.contract import PYPERF_FILE, load_run, results_path
from edgebench.results.record import Record, bench_name, records_in
from edgebench.results.selection import batch_of, threads_of


@dataclass
class RunData:
    doc: dict[str, Any]
    source: str
    label: str = ""
    samples_ms: dict[str, list[float]] = field(default_factory=dict)  # benchmark name -> per-inference latencies
    samples_note: str | None = None  # why raw samples are missing, when they are

    @property
    def records(self) -> list[Record]:
        """The run's records: load_run has validated each one (a damaged record is left out and said so)."""
        return records_in(self.doc)

    def samples_for(self, rec: Record) -> list[float]:
        return self.samples_ms.get(benchmark_name(self.doc, rec), [])


def benchmark_name(doc: dict[str, Any], rec: Record) -> str:
    """The record's pyperf benchmark name; rebuilt from its fields for records written before it was stored."""
    if isinstance(rec.get("benchmark"), str):
        return rec["benchmark"]
    model = text(rec.get("model") or dig(doc, "model", "name"), "?")
    return bench_name(model, str(rec.get("runtime")), str(rec.get("variant")), threads_of(rec), batch_of(rec),
                      rec.get("settings_label"))


def load_samples(pyperf_json: Path) -> tuple[dict[str, list[float]], str | None]:
    """Raw per-inference latencies (ms) by benchmark name, or ({}, reason) when the file is absent or unreadable."""
    if not pyperf_json.is_file():
        return {}, f"no {PYPERF_FILE} beside the results: latency distributions are not shown"
    import pyperf  # pure Python and light; only the report needs it

    try:
        suite = pyperf.BenchmarkSuite.load(str(pyperf_json))
    except Exception as exc:  # pyperf raises plain ValueError/KeyError/JSON errors on a damaged file
        return {}, f"{pyperf_json} could not be read ({type(exc).__name__}): latency distributions are not shown"
    out: dict[str, list[float]] = {}
    for bench in suite.get_benchmarks():
        out[bench.get_name()] = [v * 1e3 for v in bench.get_values()]
    return out, None


def _base_label(doc: dict[str, Any]) -> str:
    profile = text(dig(doc, "profile", "name"), "?")
    host = dig(doc, "host", "hostname") or dig(doc, "host", "arch") or "?"
    # a cluster run is labelled by the node that timed it, not by the machine that drove it
    nodes = {f"{dig(r, 'measured_on', 'hostname')} {dig(r, 'measured_on', 'node_ip')}" for r in doc.get("results", [])
             if isinstance(r, dict) and dig(r, "measured_on", "node_ip")}
    return f"{profile} @ {nodes.pop() if len(nodes) == 1 else host}"


def label_runs(runs: Sequence[RunData]) -> None:
    """Short distinct labels: "profile @ host", numbered only when two runs would share one."""
    bases = [_base_label(r.doc) for r in runs]
    for i, (run, base) in enumerate(zip(runs, bases)):
        run.label = base if bases.count(base) == 1 else f"{base} #{i + 1}"


def load_run_data(paths: Sequence[str | Path]) -> list[RunData]:
    """Load runs (run directories or results.json files) for one report, in the order given."""
    runs = []
    for p in paths:
        doc = load_run(p)
        res = results_path(p)
        samples, note = load_samples(res.parent / PYPERF_FILE)
        runs.append(RunData(doc=doc, source=str(res), samples_ms=samples, samples_note=note))
    label_runs(runs)
    return runs
