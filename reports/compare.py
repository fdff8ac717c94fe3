"""`bench compare A B`: per matching record, the ratio of medians and whether it changed beyond the noise.

The unit of the test is the worker process, not the sample: samples of one process share its moment on the machine,
so a test on raw samples calls unchanged code "significantly" slower whenever the VM's speed moved between the
runs. A change is called faster/slower only when (1) Welch's test on the logs of the two records' process medians
is significant at 5%, (2) it is larger than the noise both runs show (the two medians' 95% CIs, which include
how much each run's processes disagree, do not touch) and (3) it is beyond `min_change`. Records screened in either run (one or
two short processes) are never called either: "not compared: screened".
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from edgebench.reports.rundata import benchmark_name
from edgebench.results.contract import PYPERF_FILE, SKIPPED_KEY, load_run
from edgebench.results.errors import ResultsError
from edgebench.results.ratios import process_shift
from edgebench.results.record import Record, record_key, records_in
from edgebench.results.selection import interval, median_ms, overlaps, process_medians, why_not_compared
from edgebench.results.stats import ci_half_width_pct

ALPHA = 0.05


def _key(rec: Record, with_model: bool) -> tuple[Any, ...]:
    key = tuple(record_key(rec))
    return ((rec.get("model"),) + key) if with_model else key


def load_process_medians(run_path: str | Path) -> dict[str, list[float]]:
    """Each worker process's median (ms) per benchmark name from a run's pyperf.json, read as plain JSON."""
    p = Path(run_path)
    p = (p if p.is_dir() else p.parent) / PYPERF_FILE
    if not p.is_file():
        return {}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        out: dict[str, list[float]] = {}
        for bench in doc.get("benchmarks", []):
            name = bench.get("metadata", {}).get("name") or doc.get("metadata", {}).get("name")
            runs = [[float(v) for v in run.get("values", [])] for run in bench.get("runs", [])]
            if name:
                out[str(name)] = [statistics.median(r) * 1e3 for r in runs if r]
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ResultsError(f"{p} is damaged ({' '.join(str(exc).split())[:120]}); re-run the benchmark or delete "
                           "the file to compare medians without significance tests") from None
    except (AttributeError, TypeError):
        raise ResultsError(f"{p} is not a pyperf benchmark suite (unexpected structure)") from None
    return out


def compare_runs(path_a: str | Path, path_b: str | Path, min_change: float = 0.02) -> dict[str, Any]:
    """Rows for every record present in both runs; B relative to A (ratio > 1 means B is slower)."""
    a, b = load_run(path_a), load_run(path_b)
    single_model = len({r.get("model") for r in a["results"]}) == 1 and len({r.get("model") for r in b["results"]}) == 1
    with_model = not single_model
    medians_a, medians_b = load_process_medians(path_a), load_process_medians(path_b)
    b_by_key = {_key(r, with_model): r for r in records_in(b)}
    rows = []
    for ra in records_in(a):
        rb = b_by_key.get(_key(ra, with_model))
        if rb is None:
            continue
        row: dict[str, Any] = {"runtime": ra.get("runtime"), "variant": ra.get("variant"),
                               "settings_label": ra.get("settings_label"), "threads": ra.get("threads"),
                               "batch": ra.get("batch", 1), "a_median_ms": median_ms(ra), "b_median_ms": median_ms(rb),
                               "ratio": None, "ratio_ci": None, "p_value": None, "noise_pct": None,
                               "significant": False, "verdict": why_not_compared(ra, rb)}
        ma, mb = row["a_median_ms"], row["b_median_ms"]
        if ma and mb:
            row["ratio"] = mb / ma
        if row["verdict"] is None:
            row.update(_tested(medians_a.get(benchmark_name(a, ra)) or process_medians(ra),
                               medians_b.get(benchmark_name(b, rb)) or process_medians(rb), ra, rb, min_change))
        rows.append(row)
    if not rows:
        raise ResultsError(f"no matching records between {path_a} and {path_b} (same runtime, variant, threads, batch)")
    return {"a": str(path_a), "b": str(path_b), "a_host": a.get("host", {}).get("cpu_model"),
            "b_host": b.get("host", {}).get("cpu_model"), "rows": rows, "alpha": ALPHA,
            "skipped": [*a[SKIPPED_KEY], *b[SKIPPED_KEY]]}


def _tested(pa: list[float], pb: list[float], ra: Record, rb: Record, min_change: float) -> dict[str, Any]:
    """The verdict of one pair of comparable records from their process medians."""
    shift = process_shift(pa, pb)
    if shift is None:
        return {"verdict": "not compared: one process"}
    noise = sum(ci_half_width_pct(r["latency_ms"]) or 0.0 for r in (ra, rb) if r["latency_ms"])
    ratio = (median_ms(rb) or 0.0) / (median_ms(ra) or 1.0)
    significant = shift.p_value is not None and shift.p_value < ALPHA
    change = abs(ratio - 1) * 100
    # beyond the noise both runs show: the two medians' 95% CIs (clustered by process) do not touch
    apart = not overlaps(interval(ra, "median_ci"), interval(rb, "median_ci"))
    verdict = "same"
    if significant and apart and change >= min_change * 100:
        verdict = "slower" if ratio > 1 else "faster"
    return {"p_value": shift.p_value, "ratio_ci": list(shift.ci) if shift.ci else None, "noise_pct": noise,
            "significant": significant, "verdict": verdict, "processes": [len(pa), len(pb)]}


def regressions(result: dict[str, Any], threshold_pct: float) -> list[dict[str, Any]]:
    """Rows called slower (significant and beyond both runs' noise) by more than threshold_pct percent."""
    return [r for r in result["rows"] if r["verdict"] == "slower" and (r["ratio"] - 1) * 100 > threshold_pct]


def compare_text(result: dict[str, Any]) -> str:
    head = ["runtime", "variant", "thr", "batch", "A median ms", "B median ms", "B/A", "95% CI of B/A", "noise",
            "p-value", "verdict"]
    rows = [head]
    for r in result["rows"]:
        variant = r["variant"] + (f" [{r['settings_label']}]" if r.get("settings_label") else "")
        ci = r.get("ratio_ci")
        rows.append([str(r["runtime"]), variant, str(r["threads"]), str(r["batch"]),
                     _f(r["a_median_ms"], ".4f"), _f(r["b_median_ms"], ".4f"),
                     "-" if r["ratio"] is None else f"{r['ratio']:.3f}x",
                     f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
                     "-" if r.get("noise_pct") is None else f"{r['noise_pct']:.1f}%", _f(r["p_value"], ".2g"),
                     r["verdict"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"A: {result['a']} ({result['a_host']})", f"B: {result['b']} ({result['b_host']})"]
    lines += ["  ".join(c.ljust(w) if i < 2 or i == len(head) - 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.append("tested per worker process (Welch on the logs of process medians, 5%); called slower/faster only "
                 "when significant and beyond the noise: the medians' 95% CIs (noise: their half-widths summed) "
                 "do not touch")
    return "\n".join(lines)


def _f(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)
