"""The sizing answer in the user's units, then a compact table (100 columns): words for a sizing.json entry."""
from __future__ import annotations

from typing import Any

from edgebench.reports.sizing.checks import reliability_lines, unreliable_line, worst_text
from edgebench.reports.sizing.checks import span_text as _span
from edgebench.results.runtimes import runtime_name as _rt

WIDTH = 100


def _pct(value: Any, signed: bool = True) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.0f}%"


def _n(value: Any, spec: str = ".0f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def slo_text(entry: dict[str, Any]) -> str:
    pct = entry["slo"]["percentile"] * 100
    return f"p{pct:g} <= {entry['slo']['bound_ms']:g} ms"


def held_out_text(rec: dict[str, Any]) -> str:
    """The prediction error on held-out measured points, as the label of a predicted number."""
    return worst_text(rec)


def _config(entry: dict[str, Any], rec: dict[str, Any]) -> str:
    cpu = (entry.get("host") or {}).get("cpu_model") or "this CPU"
    threads = f"{rec['threads']} thread{'s' * (rec['threads'] != 1)}"
    return (f"{rec['cores']} core{'s' * (rec['cores'] != 1)} of {cpu} as {rec['instances']} instance"
            f"{'s' * (rec['instances'] != 1)} x {threads} of {rec['variant']} on {_rt(rec['runtime'])}")


def answer_lines(entry: dict[str, Any]) -> list[str]:
    """The answer first: cores, layout, variant and runtime, capacity and headroom, memory, cost; each number
    labelled measured or predicted (with its held-out error)."""
    rec = entry.get("recommendation") or {}
    head = f"{entry['rate']:g} req/s at {slo_text(entry)}"
    status = rec.get("status")
    if status == "impossible":
        lines = [f"{head}: cannot be met on this CPU at any size: a single request alone takes "
                 f"{rec['single_ms']:.3g} ms at p{entry['slo']['percentile'] * 100:g} "
                 f"({rec['variant']} on {_rt(rec['runtime'])}, {rec['layout']}), more instances only add queueing"]
        if any("machine busy" in w for w in entry.get("warnings") or []):
            lines.append("  (measured on a busy machine, which inflates one request's latency: size again on a quiet "
                         "one before trusting 'at any size')")
    elif status in ("measured", "predicted"):
        label = "measured" if status == "measured" else (
            f"predicted (90% interval {_span(rec.get('capacity_interval'))}; {rec.get('beyond')}): M/G/c simulation"
            f" + USL, {held_out_text(rec)}")
        mem = f"resident memory {rec['instances']} x {_n(rec.get('memory_mb'))} MB"
        cost = (f"; ${rec['cost_per_million']:.4g} per million inferences at ${entry['price_per_core_hour']:g} per "
                "core-hour" if rec.get("cost_per_million") is not None else "")
        lines = [f"{head}: {_config(entry, rec)}; capacity {_n(rec['capacity'])} req/s at the SLO "
                 f"({_pct(rec['headroom'], False)} headroom), {label}; {mem}{cost}"]
        if status == "measured":
            lines.append(f"  prediction check ({held_out_text(rec)})")
    elif status == "unreliable":
        lines = [unreliable_line(head, rec), f"  prediction check ({held_out_text(rec)})"]
    else:
        lines = [f"{head}: no answer: {rec.get('reason', 'nothing was measured')}"]
    lines += reliability_lines(rec)
    if rec.get("warning"):
        lines.append(f"warning: {rec['warning']}")
    lines += [f"warning: {w}" for w in entry.get("warnings") or []]
    if entry.get("timing_scope") == "host":
        lines.append(f"note: profile {entry.get('profile')} targets {entry.get('target_arch')}, but this was measured "
                     f"on the host ({(entry.get('host') or {}).get('arch')}): the answer is about the host, not the "
                     "target")
    if entry.get("status") not in ("complete", None):
        lines.append(f"note: sizing {entry['status']}: only what was measured is shown")
    return lines


_HEAD = (f"{'variant':<22} {'rt':<6} {'layout':<10} {'cores':>5} {'cap/s':>6} {'pred/s':>6} "
         f"{'headroom':>8} {'1-req':>6} {'MB':>4}  status")


def table_lines(entry: dict[str, Any]) -> list[str]:
    """Every measured candidate x layout: measured capacity (highest VALID rate), predicted capacity, headroom
    against the rate, one request's own latency at the percentile, peak memory per instance."""
    rec = entry.get("recommendation") or {}
    rows = rec.get("layouts") or []
    points = [p for c in entry.get("candidates", []) for lay in c["layouts"] for p in lay.get("points") or []]
    gen = max((p.get("generator_cpu_cores") or 0 for p in points), default=0.0)
    driver = entry.get("driver") or {}
    out = ["", f"capacity at {slo_text(entry)} per layout (cap/s: highest VALID rate, measured; pred/s: predicted)",
           _HEAD]
    for r in rows:
        status = ("FAILED (below)" if r.get("stopped") else "ok" if r.get("capacity")
                  else "SLO < 1 request" if r.get("skipped")
                  else "no VALID (budget)" if r.get("search_note") else "no VALID rate")
        line = (f"{str(r['variant'])[:22]:<22} {('LiteRT' if r['runtime'] == 'litert' else 'ORT'):<6} "
                f"{str(r['layout'])[:10]:<10} {r['cores']:>5} {_n(r.get('capacity')):>6} "
                f"{_n(r.get('predicted_capacity')):>6} {_pct(r.get('headroom')):>8} {_n(r.get('single_ms'), '.3g'):>6} "
                f"{_n(r.get('memory_mb')):>4}  {status}")
        out.append(line[:WIDTH])
    out += [f"FAILED: {r['stopped']}" for r in rows if r.get("stopped")]
    valid = sum(1 for p in points if p.get("valid"))
    out.append(f"1-req: one request alone at the percentile, ms. {len(points)} load points ({valid} VALID) by "
               f"{driver.get('name', '?')} {driver.get('version') or ''}; generator CPU <= {gen:.2f} cores")
    return out
