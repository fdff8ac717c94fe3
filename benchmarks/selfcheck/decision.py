"""Self-check: does an adaptive run (screening + early stop) reach the decision an exhaustive run reaches?

Compares two run directories of the same model and profile, typically

    bench run --out A            # default: screening, early stop
    bench run --exhaustive --out B
    python benchmarks/selfcheck/decision.py A B

and prints, for each run: the pick per runtime and overall (the fastest record within the accuracy budget, as the
report names it), the recommended quantized variant per runtime configuration, how the records were measured, and
the run's measuring time. Exit 1 when a runtime's pick names another variant that is not statistically tied with it
(the two picks' median CIs overlap in either run). Two exhaustive runs of a noisy
machine can disagree too: run it on a quiet machine, or twice, before reading much into one difference.
"""
from __future__ import annotations

import collections
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from edgebench.reports.decision import decide
from edgebench.results.contract import load_run
from edgebench.results.record import Record, records_in
from edgebench.results.selection import tied


def _same_config(a: Record, b: Record) -> bool:
    return all(a.get(k) == b.get(k) for k in ("variant", "runtime", "threads", "batch", "settings_label"))


def tied_in(doc: dict[str, Any], pick: Record | None, other: Record | None) -> bool:
    """Whether `doc`'s own figures cannot tell its pick from the other run's pick: their median CIs overlap."""
    if pick is None or other is None:
        return False
    twin = next((r for r in records_in(doc) if _same_config(r, other) and r.get("status") == "ok"), None)
    return twin is not None and tied(pick, twin)


def _picks(doc: dict[str, Any]) -> dict[str, tuple[str, Record | None]]:
    """The pick per runtime and overall ("*"), as `bench run` and the report name it (reports.decision): its
    description and its record."""
    decision = decide(records_in(doc))
    out: dict[str, tuple[str, Record | None]] = {}
    for choice in [*decision.per_runtime, decision.overall]:
        pick = choice.pick
        if pick is None:
            out[choice.scope] = ("none", None)
            continue
        r = pick.record
        tie = f" (tied with {pick.runner_up['variant']})" if pick.runner_up and pick.tied else ""
        out[choice.scope] = (f"{r['variant']} t{r['threads']}" + (f" [{r['settings_label']}]" if r.get("settings_label")
                             else "") + f" {pick.median:.3f} ms{tie}", r)
    return out


def _recommended(doc: dict[str, Any]) -> dict[str, str]:
    return {f"{r['runtime']} t{r['threads']} b{r.get('batch', 1)} {r.get('settings_label') or ''}".strip():
            r["variant"] for r in doc["results"] if r.get("recommended")}


def _summary(run: Path, doc: dict[str, Any]) -> str:
    methods = collections.Counter((r.get("measurement") or {}).get("method", "?") for r in doc["results"])
    start = dt.datetime.fromisoformat(doc["created"])
    end = dt.datetime.fromtimestamp((run / "results.json").stat().st_mtime, dt.timezone.utc)
    return (f"{run}: {dict(methods)}, {sum((r.get('measurement') or {}).get('processes', 0) for r in doc['results'])} "
            f"worker processes, {(end - start).total_seconds():.0f} s from start to the last write")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    runs = [Path(a) for a in argv]
    docs = [load_run(r) for r in runs]
    for run, doc in zip(runs, docs):
        print(_summary(run, doc))
    picks = [_picks(d) for d in docs]
    same = True
    for runtime in sorted(set(picks[0]) | set(picks[1])):
        (a, ra), (b, rb) = picks[0].get(runtime, ("-", None)), picks[1].get(runtime, ("-", None))
        verdict = "same" if a.split(" ")[0] == b.split(" ")[0] else \
            "tied" if tied_in(docs[1], rb, ra) or tied_in(docs[0], ra, rb) else "DIFFERS"
        same &= verdict != "DIFFERS"
        print(f"pick {runtime:12} {verdict:8} {a:55} | {b}")
    print("(tied: another variant, but one run's own 95% CIs of the median cannot tell the two picks apart)")
    rec = [_recommended(d) for d in docs]
    for where in sorted(set(rec[0]) | set(rec[1])):
        a, b = rec[0].get(where, "-"), rec[1].get(where, "-")
        print(f"recommended {where:28} {'same' if a == b else 'differs':8} {a:35} | {b}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
