"""Re-rank the sensitivity ranking's head by the budget metric itself, before the search grows its float set.

A layer's own-quantization SQNR misses decisions that flip near a threshold: on the detector stand-in the score
head's Add of a -40 prior scores 55 dB (the prior *is* the tensor's signal) while its int8 step (0.16) is half the
spread of the logits that decide against 0.5, so ORT ranked it last and the search kept 7 of 10 layers in float.
So a few layers are probed: the ranking's first TOP and the NEAR layers closest upstream of each output over the
budget. A probe keeps that one layer in float (quantized with the shared calibration ranges), runs the accuracy
check (no screening) and reads the failing outputs' own figures. A near layer that changes nothing alone is probed
again with the layers consuming its output: a tensor stays float only when its producer and its consumers do (a
quantized consumer quantizes it again: the prior's Add alone left score agreement at 0.952, Add+Sigmoid fixed it).
The layers that improve the failing figures (by GAIN of the gap at least) come first, best first; the rest keep
their order.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgebench.benchmarks.measure.accuracy import budget_violations
from edgebench.benchmarks.run.mixed_steps import figures
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget

TOP = 3  # the sensitivity ranking's first layers: probed too, so that a right ranking is confirmed, not undone
NEAR = 3  # the layers closest upstream of each failing output (the score or class head)
GAIN = 0.1  # a probe improves when it closes this share of the gap to the bound: less is sampling noise (on the
# detector, keeping `neck` in float moved score agreement by 0.0002 of a 0.039 gap)


@dataclass
class Probe:
    layer: str
    nodes: list[str]
    margin: float  # the worst failing output's distance to its bound (positive: within it)
    figures: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "nodes": self.nodes, "margin": round(self.margin, 5), "figures": self.figures,
                "seconds": round(self.seconds, 2)}


def failing(accuracy: dict[str, Any], budget: AccuracyBudget) -> dict[str, tuple[str, float, bool]]:
    """Per output over the budget: its figure's key (as mixed_steps.figures names it) -> (output name, bound,
    higher is better)."""
    out = {}
    for o in accuracy.get("outputs") or [accuracy]:
        if not budget_violations(o, budget):
            continue
        key = next(iter(figures({"outputs": [o]})), None)
        bound = budget.bound(key.rsplit(" ", 1)[1]) if key else None
        if key and bound:
            out[key] = (str(o.get("name", "")), bound[0], bound[1])
    return out


def margin(figs: dict[str, float], fail: dict[str, tuple[str, float, bool]]) -> float:
    margins = [(figs[k] - lim) if hb else (lim - figs[k]) if k in figs else float("-inf")
               for k, (_, lim, hb) in fail.items()]
    return min(margins, default=float("-inf"))


def candidates(order: list[str], upstream: dict[str, dict[str, int]], outputs: list[str]) -> tuple[list[str], set[str]]:
    """The layers to probe (ranking's first TOP, then the NEAR closest to each failing output) and the near ones."""
    near: list[str] = []
    for out in outputs:
        dist = upstream.get(out, {})
        near += sorted(dist, key=lambda layer: dist[layer])[:NEAR]
    return list(dict.fromkeys(order[:TOP] + near)), set(near)


def rescore(order: list[str], groups: dict[str, list[str]], successors: dict[str, list[str]],
            probe_set: tuple[list[str], set[str]], fail: dict[str, tuple[str, float, bool]],
            base: dict[str, float], evaluate: Callable[[list[str]], dict[str, float]]
            ) -> tuple[list[str], dict[str, list[str]], list[Probe]]:
    """The new order and groups (a layer that needed its consumers carries them), and every probe made."""
    todo, near = probe_set
    probes, best = [], []
    base_margin = margin(base, fail)  # the full int8 variant's: what a probe must beat
    better = base_margin + GAIN * abs(base_margin) if base_margin > float("-inf") else float("-inf")
    for layer in todo:
        t0 = time.monotonic()
        nodes = list(groups[layer])
        figs = evaluate(nodes)
        got = margin(figs, fail)
        if got <= better and layer in near and successors.get(layer):
            wider = list(dict.fromkeys(nodes + [n for s in successors[layer] for n in groups.get(s, [s])]))
            wider_figs = evaluate(wider)
            if margin(wider_figs, fail) > got:
                nodes, figs, got = wider, wider_figs, margin(wider_figs, fail)
        probes.append(Probe(layer, nodes, got, figs, time.monotonic() - t0))
        if got > better:
            best.append(probes[-1])
    best.sort(key=lambda p: -p.margin)
    first = [p.layer for p in best]
    new_groups = dict(groups, **{p.layer: p.nodes for p in best})
    return first + [layer for layer in order if layer not in first], new_groups, probes
