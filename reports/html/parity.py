"""The report's "Target parity" section: host vs target (emulated) accuracy per variant and CPU model."""
from __future__ import annotations

from collections.abc import Sequence

from edgebench.reports.fields import fmt
from edgebench.reports.html.parts import e, table
from edgebench.reports.rundata import RunData
from edgebench.reports.target_parity import ParityRow, parity_rows
from edgebench.results.runtimes import runtime_name

SECTION_ID = "target-parity"


def _vs_cpu(r: ParityRow) -> str:
    if not r.vs_cpu:
        return "-"
    same = "bit-exact" if r.vs_cpu_exact else f"max |diff| {fmt(r.vs_cpu_diff, '.2g')}"
    return f"{same} vs {r.vs_cpu}"


def parity_section(runs: Sequence[RunData]) -> str:
    """The section, or "" when no run checked accuracy on a target's kernels."""
    multi = len(runs) > 1
    head = (["run"] if multi else []) + ["runtime", "variant", "QEMU_CPU (aarch64)", "samples", "metric",
                                         "host", "target", "max |host - target|", "cosine (host, target)",
                                         "top-1 host = target", "vs first CPU"]
    rows = []
    for run in runs:
        for r in parity_rows(run.records):
            cells = ([f"<td>{e(run.label)}</td>"] if multi else []) + [
                f"<td>{e(runtime_name(r.runtime))}</td>", f"<td>{e(r.variant)}</td>",
                f"<td>{e(r.qemu_cpu)}</td>"]
            if r.error:
                cells.append(f'<td colspan="8" class="bad">failed: {e(r.error)}</td>')
            else:
                diff = "0 (bit-exact)" if r.bit_exact else fmt(r.max_abs_diff, ".2g")
                cells += [f'<td class="n">{e(fmt(r.samples, ".0f"))}</td>', f"<td>{e(r.metric)}</td>",
                          f'<td class="n">{e(fmt(r.host, ".4f"))}</td>',
                          f'<td class="n">{e(fmt(r.target, ".4f"))}</td>', f'<td class="n">{e(diff)}</td>',
                          f'<td class="n">{e(fmt(r.cosine, ".6f"))}</td>',
                          f'<td class="n">{e(fmt(r.top1_agreement, ".3f"))}</td>', f"<td>{e(_vs_cpu(r))}</td>"]
            rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        return ""
    return (f'<section id="{SECTION_ID}"><h2>Target parity</h2><p class="muted">Each variant also ran on the '
            "target's own runtime builds (aarch64 ONNX Runtime and LiteRT) under qemu user-mode emulation, on the "
            "first samples of the same inputs; the CPU model picks the kernels (dotprod or not). Host and target "
            "accuracy are against the reference on those samples; the next three columns compare the target's "
            "outputs with the host's, the last one with the first CPU model's. Emulation checks numerics only and "
            "is never timed.</p>" + table(head, rows, "records") + "</section>")
