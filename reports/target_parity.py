"""Target parity: each variant's accuracy on the target's kernels (emulated) beside the host's, and host vs target.

Read from the records' `target_accuracy` (bench run with an arm64/mobile profile on another architecture). Rows
are data; `parity_lines` and reports.html.parity present them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgebench.reports.fields import dig, dig_num, text
from edgebench.results.record import Record, records_in
from edgebench.results.runtimes import short_runtime_name


@dataclass(frozen=True)
class ParityRow:
    variant: str
    runtime: str
    qemu_cpu: str
    samples: int | None
    metric: str  # "top-1 agreement" or "cosine": the accuracy figure shown for host and target
    host: float | None
    target: float | None
    max_abs_diff: float | None
    cosine: float | None
    top1_agreement: float | None
    bit_exact: bool | None
    error: str | None
    vs_cpu: str | None = None  # the first CPU model, when this row's outputs were compared with its outputs
    vs_cpu_diff: float | None = None
    vs_cpu_exact: bool | None = None


def _metric(acc: Any) -> str:
    return "top1_agreement" if dig_num(acc, "top1_agreement") is not None else "cosine"


def parity_rows(records: list[Record]) -> list[ParityRow]:
    """One row per (variant, runtime, emulated CPU model); a variant's several records share the same figures."""
    rows, seen = [], set()
    for rec in records:
        entries = rec.get("target_accuracy")
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            key = (text(rec.get("variant")), text(rec.get("runtime")), text(entry.get("qemu_cpu")))
            if key in seen:
                continue
            seen.add(key)
            metric = _metric(rec.get("accuracy"))
            bit = dig(entry, "vs_host", "bit_exact")
            rows.append(ParityRow(
                variant=key[0], runtime=key[1], qemu_cpu=key[2], samples=_int(entry.get("samples")),
                metric=metric.replace("top1_agreement", "top-1 agreement"),
                host=dig_num(entry, "host_accuracy", metric), target=dig_num(entry, "accuracy", metric),
                max_abs_diff=dig_num(entry, "vs_host", "max_abs_diff"), cosine=dig_num(entry, "vs_host", "cosine"),
                top1_agreement=dig_num(entry, "vs_host", "top1_agreement"),
                bit_exact=bit if isinstance(bit, bool) else None,
                error=text(entry["error"]) if entry.get("error") else None,
                vs_cpu=text(dig(entry, "vs_cpu", "qemu_cpu")) or None,
                vs_cpu_diff=dig_num(entry, "vs_cpu", "max_abs_diff"),
                vs_cpu_exact=exact if isinstance(exact := dig(entry, "vs_cpu", "bit_exact"), bool) else None))
    return rows


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def parity_lines(doc: dict[str, Any]) -> list[str]:
    """The terminal's target-parity table (fits 100 columns), or nothing when the run has no target figures."""
    rows = parity_rows(records_in(doc))
    if not rows:
        return []
    metric = rows[0].metric if len({r.metric for r in rows}) == 1 else "accuracy"
    out = ["", f"target parity: {metric} vs the reference on the host's kernels and on the target's (emulated "
               "aarch64, never timed), on the same n samples; then the target's outputs against the host's",
           f"{'variant':26} {'runtime':8} {'QEMU_CPU':12} {'n':>4} {'host':>7} {'target':>7} "
           f"{'max|h-t|':>9} {'cos(h,t)':>9} {'top1 h=t':>8}"]
    for r in rows:
        name = f"{r.variant[:26]:26} {short_runtime_name(r.runtime)[:8]:8} {r.qemu_cpu[:12]:12}"
        if r.error:
            out.append(f"{name} FAILED: {r.error}"[:160])
            continue
        diff = "0 (same)" if r.bit_exact else _f(r.max_abs_diff, ".2g")
        out.append(f"{name} {_f(r.samples, 'd'):>4} {_f(r.host, '.4f'):>7} {_f(r.target, '.4f'):>7} "
                   f"{diff:>9} {_f(r.cosine, '.6f'):>9} {_f(r.top1_agreement, '.3f'):>8}")
    return out + cpu_lines(rows)


def cpu_lines(rows: list[ParityRow]) -> list[str]:
    """Where the emulated CPU models (with and without dotprod, ...) give different outputs, or that none do."""
    compared = [r for r in rows if r.vs_cpu and not r.error]
    if not compared:
        return []
    differ = [r for r in compared if not r.vs_cpu_exact]
    pairs = sorted({f"{r.qemu_cpu} vs {r.vs_cpu}" for r in compared})
    if not differ:
        return [f"CPU models ({', '.join(pairs)}): bit-exact outputs on all {len(compared)} variants compared"]
    shown = "; ".join(f"{r.variant} ({short_runtime_name(r.runtime)}, {r.qemu_cpu} vs {r.vs_cpu}: max "
                      f"|diff| {_f(r.vs_cpu_diff, '.2g')})" for r in differ)
    return [f"CPU models differ on {len(differ)} of {len(compared)} variants: {shown}; the others are bit-exact"]


def target_summary(rec: Record) -> str | None:
    """One decision line: the pick's accuracy on the target's kernels and how far they are from the host's."""
    rows = parity_rows([rec])
    if not rows:
        return None
    parts = []
    for r in rows:
        if r.error:
            parts.append(f"QEMU_CPU={r.qemu_cpu} failed: {r.error}")
            continue
        same = "bit-exact with the host" if r.bit_exact else f"max |host-target| {_f(r.max_abs_diff, '.2g')}"
        parts.append(f"QEMU_CPU={r.qemu_cpu} {r.metric} {_f(r.target, '.4f')} ({same})")
    n = min((r.samples for r in rows if r.samples), default=None)
    return f"on target kernels (emulated aarch64, {n} samples): " + "; ".join(parts)
