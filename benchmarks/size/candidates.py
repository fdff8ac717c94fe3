"""Which variants to size: from a bench run's records, only those within the accuracy budget.

By default the pick of each runtime (reports.decision.decide, the same definition `bench run` prints) and the fp32
baseline of the overall pick; `--variants` names others. Each candidate keeps the settings the run measured it with.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.size.pool import Candidate
from edgebench.reports.decision import decide
from edgebench.results.errors import UserError
from edgebench.results.record import Record, records_in
from edgebench.results.selection import median_or_inf, within_budget


def _batch1_ok(records: list[Record]) -> list[Record]:
    return [r for r in records if r.get("status") == "ok" and int(r.get("batch") or 1) == 1]


def _inputs_npz(doc: dict[str, Any], work: Path) -> str:
    """One batch-1 input in the model's own shapes and types: timing does not depend on the values of a CNN's
    input, and the runtimes quantize float input for an int8-I/O variant themselves."""
    path = work / "sizing-inputs.npz"
    if not path.is_file():
        rng = np.random.default_rng(0)
        arrays = []
        for spec in doc.get("model", {}).get("inputs") or []:
            shape = [1 if not isinstance(d, int) or d < 1 else d for d in spec.get("shape", [])]
            dtype = np.dtype(spec.get("dtype") or "float32")
            arrays.append(rng.uniform(-1, 1, size=shape).astype(dtype) if dtype.kind == "f"
                          else rng.integers(0, 2, size=shape).astype(dtype))
        if not arrays:
            raise UserError("the run's results.json does not describe the model's inputs; run bench run again")
        work.mkdir(parents=True, exist_ok=True)
        np.savez(path, *arrays)
    return str(path)


def _candidate(rec: Record, why: str, inputs: str) -> tuple[Candidate, str]:
    path = (rec.get("artifact") or {}).get("path")
    if not path or not Path(path).is_file():
        raise UserError(f"the file of {rec.get('variant')} ({path}) is gone from the cache: run bench run again")
    lat = rec.get("latency_ms")
    p99 = lat.get("p99") if lat else None
    settings = dict(rec.get("runtime_settings") or {})
    return Candidate(str(rec["variant"]), str(rec["runtime"]), str(path), settings, inputs, p99), why


def pick_candidates(doc: dict[str, Any], work: Path, variants: list[str] | None) -> list[tuple[Candidate, str]]:
    """(candidate, why it was chosen) in the order they are sized; UserError when none qualifies."""
    records = _batch1_ok(records_in(doc))
    inputs = _inputs_npz(doc, work)
    chosen: list[tuple[Record, str]] = []
    if variants:
        for name in variants:
            recs = [r for r in records if r.get("variant") == name]
            if not recs:
                raise UserError(f"--variants: {name} was not measured in the run (measured: "
                                f"{', '.join(sorted({str(r.get('variant')) for r in records}))})")
            good = [r for r in recs if within_budget(r) is True]
            if not good:
                raise UserError(f"--variants: {name} is not within the accuracy budget (or its accuracy was not "
                                "checked): bench size considers only variants within it")
            for runtime in sorted({str(r["runtime"]) for r in good}):
                best = min((r for r in good if r["runtime"] == runtime),
                           key=median_or_inf)
                chosen.append((best, "asked for"))
    else:
        decision = decide(records)
        for choice in decision.per_runtime:
            if choice.pick is not None and choice.within_budget:
                chosen.append((choice.pick.record, f"pick on {choice.scope}"))
        overall = decision.overall.pick
        if overall is not None and overall.baseline is not None and within_budget(overall.baseline) is not False:
            chosen.append((overall.baseline, "fp32 baseline of the overall pick"))
    out: dict[tuple[str, str], tuple[Candidate, str]] = {}
    for rec, why in chosen:
        key = (str(rec.get("variant")), str(rec.get("runtime")))
        if key in out:
            out[key] = (out[key][0], f"{out[key][1]}; {why}")
        else:
            out[key] = _candidate(rec, why, inputs)
    if not out:
        raise UserError("no variant of the run is within the accuracy budget: nothing to size")
    return list(out.values())
