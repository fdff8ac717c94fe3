"""`bench compare A B`: per matching record, the ratio of medians and whether the difference is significant.

Like `pyperf compare_to`, significance is a two-sided two-sample t-test on the raw samples (Welch's, which does not
assume equal variances) at the 5% level. With thousands of single-inference samples tiny differences test
significant, so a change is only called faster/slower when it is significant *and* beyond `min_change`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from edgebench.reports.rundata import benchmark_name
from edgebench.results.contract import PYPERF_FILE, SKIPPED_KEY, load_run
from edgebench.results.errors import ResultsError
from edgebench.results.record import Record, record_key

ALPHA = 0.05


def _key(rec: Record, with_model: bool) -> tuple[Any, ...]:
    key = tuple(record_key(rec))
    return ((rec.get("model"),) + key) if with_model else key


def load_samples(run_path: str | Path) -> dict[str, list[float]]:
    """Raw samples (seconds) per benchmark name from a run's pyperf.json, read as plain JSON."""
    p = Path(run_path)
    p = (p if p.is_dir() else p.parent) / PYPERF_FILE
    if not p.is_file():
        return {}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        out: dict[str, list[float]] = {}
        for bench in doc.get("benchmarks", []):
            name = bench.get("metadata", {}).get("name") or doc.get("metadata", {}).get("name")
            values = [float(v) for run in bench.get("runs", []) for v in run.get("values", [])]
            if name:
                out[str(name)] = values
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ResultsError(f"{p} is damaged ({' '.join(str(exc).split())[:120]}); re-run the benchmark or delete "
                           "the file to compare medians without significance tests") from None
    except (AttributeError, TypeError):
        raise ResultsError(f"{p} is not a pyperf benchmark suite (unexpected structure)") from None
    return out


def welch_p_value(a: list[float], b: list[float]) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy import stats
    res = stats.ttest_ind(a, b, equal_var=False)
    p = float(res.pvalue)
    return None if math.isnan(p) else p


def compare_runs(path_a: str | Path, path_b: str | Path, min_change: float = 0.02) -> dict[str, Any]:
    """Rows for every record present and ok in both runs; B relative to A (ratio > 1 means B is slower)."""
    a, b = load_run(path_a), load_run(path_b)
    single_model = len({r.get("model") for r in a["results"]}) == 1 and len({r.get("model") for r in b["results"]}) == 1
    with_model = not single_model
    samples_a, samples_b = load_samples(path_a), load_samples(path_b)
    b_by_key = {_key(r, with_model): r for r in b["results"]}
    rows = []
    for ra in a["results"]:
        rb = b_by_key.get(_key(ra, with_model))
        if rb is None:
            continue
        row: dict[str, Any] = {"runtime": ra.get("runtime"), "variant": ra.get("variant"),
                               "settings_label": ra.get("settings_label"), "threads": ra.get("threads"),
                               "batch": ra.get("batch", 1), "a_median_ms": None, "b_median_ms": None, "ratio": None,
                               "p_value": None, "significant": False, "verdict": "not comparable"}
        if ra.get("status") == "ok" and rb.get("status") == "ok":
            ma, mb = ra["latency_ms"]["median"], rb["latency_ms"]["median"]
            p = welch_p_value(samples_a.get(benchmark_name(a, ra), []), samples_b.get(benchmark_name(b, rb), []))
            ratio = mb / ma if ma else None
            significant = p is not None and p < ALPHA
            verdict = "same"
            if ratio is not None and significant and abs(ratio - 1) >= min_change:
                verdict = "slower" if ratio > 1 else "faster"
            elif p is None:
                verdict = "no samples"
            row.update(a_median_ms=ma, b_median_ms=mb, ratio=ratio, p_value=p, significant=significant,
                       verdict=verdict)
        rows.append(row)
    if not rows:
        raise ResultsError(f"no matching records between {path_a} and {path_b} (same runtime, variant, threads, batch)")
    return {"a": str(path_a), "b": str(path_b), "a_host": a.get("host", {}).get("cpu_model"),
            "b_host": b.get("host", {}).get("cpu_model"), "rows": rows,
            "skipped": [*a[SKIPPED_KEY], *b[SKIPPED_KEY]]}


def regressions(result: dict[str, Any], threshold_pct: float) -> list[dict[str, Any]]:
    """Rows where B is significantly slower than A by more than threshold_pct percent."""
    return [r for r in result["rows"] if r["ratio"] is not None and r["significant"]
            and (r["ratio"] - 1) * 100 > threshold_pct]


def compare_text(result: dict[str, Any]) -> str:
    head = ["runtime", "variant", "thr", "batch", "A median ms", "B median ms", "B/A", "p-value", "verdict"]
    rows = [head]
    for r in result["rows"]:
        variant = r["variant"] + (f" [{r['settings_label']}]" if r.get("settings_label") else "")
        rows.append([str(r["runtime"]), variant, str(r["threads"]), str(r["batch"]),
                     _f(r["a_median_ms"], ".4f"), _f(r["b_median_ms"], ".4f"), _f(r["ratio"], ".3f") + "x"
                     if r["ratio"] is not None else "-", _f(r["p_value"], ".3g"), r["verdict"]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"A: {result['a']} ({result['a_host']})", f"B: {result['b']} ({result['b_host']})"]
    lines += ["  ".join(c.ljust(w) if i < 2 or i == len(head) - 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    return "\n".join(lines)


def _f(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)
