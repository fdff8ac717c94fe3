"""The report's "Accuracy per output" section: for every variant, each output's judged figure against the reference
(the fp32 source), its kind (stated or inferred), SQNR and range-relative error, so that a variant over the budget
shows *which* output and by how much."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgebench.reports.fields import dig, fmt
from edgebench.reports.html.parts import e, table
from edgebench.reports.rundata import RunData
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import within_budget

SECTION_ID = "accuracy-outputs"
_LABELS = {"top1_agreement": "top-1 agreement", "score_agreement": "score agreement",
           "mean_rel_error": "mean abs error / range", "cosine": "cosine", "mask_iou": "mask IoU",
           "max_rel_error": "max abs error / range"}


def _outputs(rec: Record, names: list[str]) -> list[dict[str, Any]]:
    acc = rec.get("accuracy")
    if not isinstance(acc, dict) or "error" in acc:
        return []
    outs = acc.get("outputs")
    if isinstance(outs, list):
        return [dict(o) for o in outs if isinstance(o, dict)]
    return [dict(acc, name=names[0] if names else "output")] if "metric" in acc or "cosine" in acc else []


def _figure(o: dict[str, Any]) -> str:
    metric = o.get("metric") or ("top1_agreement" if "top1_agreement" in o else "cosine")
    spec = ".2e" if metric.endswith("rel_error") else ".4f"
    return f"{_LABELS.get(metric, metric)} {fmt(o.get(metric), spec)}"


def _rows(run: RunData, multi: bool) -> list[str]:
    names = [str(n) for n in dig(run.doc, "model", "outputs") or []]
    rows, seen = [], set()
    for rec in run.records:
        key = (rec.get("variant"), rec.get("runtime"))
        if key in seen:  # the same file's outputs at every thread count and setting
            continue
        seen.add(key)
        violations = " ".join(str(v) for v in dig(rec, "accuracy_budget", "violations") or [])
        for o in _outputs(rec, names):
            name = str(o.get("name", "?"))
            over = f"output {name!r}" in violations or (within_budget(rec) is False and len(names) <= 1)
            kind = f"{o.get('kind', '?')}{' (inferred)' if o.get('kind_inferred') else ''}"
            sqnr = "identical" if o.get("identical") else fmt(o.get("sqnr_db"), ".1f")
            cells = ([f"<td>{e(run.label)}</td>"] if multi else []) + [
                f"<td>{e(runtime_name(rec.get('runtime')))}</td>", f"<td>{e(str(rec.get('variant')))}</td>",
                f"<td>{e(name)}</td>", f"<td>{e(kind)}</td>",
                f'<td class="{"bad" if over else "n"}">{e(_figure(o))}</td>', f'<td class="n">{e(sqnr)}</td>',
                f'<td class="n">{e(fmt(o.get("max_rel_error"), ".2e"))}</td>',
                f'<td class="n">{e(fmt(o.get("cosine"), ".5f"))}</td>']
            rows.append("<tr>" + "".join(cells) + "</tr>")
    return rows


def accuracy_section(runs: Sequence[RunData]) -> str:
    """The section, or "" when no record has per-output figures."""
    multi = len(runs) > 1
    head = (["run"] if multi else []) + ["runtime", "variant", "output", "kind", "judged figure (vs reference)",
                                         "SQNR dB", "max abs error / range", "cosine"]
    rows = [row for run in runs for row in _rows(run, multi)]
    if not rows:
        return ""
    return (f'<section id="{SECTION_ID}"><h2>Accuracy per output</h2><p class="muted">Every output of every variant '
            "against the reference's on the same inputs. Each output is judged by the figure its kind calls for "
            "(stated with --output NAME=KIND or the profile's [accuracy.outputs], else inferred from its shape and "
            "name); red marks the outputs over the budget. SQNR and the range-relative error hold for any output; "
            "cosine only where a sample has enough elements.</p>" + table(head, rows, "records") + "</section>")
