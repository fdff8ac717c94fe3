"""The rule library, in the order the pass applies them: `transpose` first, since it uncovers `keras-prelu`;
`prelu-leaky` before `prelu`, which rewrites exactly whatever PRelu is left (or whatever a dropped rule left)."""
from __future__ import annotations

from typing import Any

from edgebench.optimizers.rewrites import clip, keras_prelu, prelu, transpose
from edgebench.optimizers.rewrites.rule import Rule

RULES: dict[str, Rule] = {r.name: r for r in (transpose.RULE, prelu.RULE_LEAKY, prelu.RULE, keras_prelu.RULE,
                                                clip.RULE)}


def pick(names: list[str] | None) -> list[Rule]:
    """The named rules (all when None), in library order; an unknown name is a ValueError naming the known ones."""
    unknown = sorted(set(names or []) - set(RULES))
    if unknown:
        raise ValueError(f"unknown rewrite rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    return [r for name, r in RULES.items() if names is None or name in names]


def matches(model_path: str, names: list[str] | None = None) -> dict[str, int]:
    """How many places each rule (the named ones, else all) would rewrite in the model (nothing changes on disk)."""
    import onnx

    from edgebench.optimizers.rewrites.graph import Graph

    graph = Graph(onnx.load(model_path, load_external_data=False))
    return {r.name: n for r in pick(names) if (n := r.fire(graph))}


def model_inputs(model_path: str) -> list[str]:
    """The names of the inputs a caller feeds (initializers listed as inputs left out)."""
    import onnx

    graph = onnx.load(model_path, load_external_data=False).graph
    inits = {t.name for t in graph.initializer}
    return [i.name for i in graph.input if i.name not in inits]


def trigger_share(found: dict[str, int], operators: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """The share of node time (from an op profile's `operators`) of the operator types that the matching rules
    replace, and those types, largest first."""
    ops = {op for name in found for op in RULES[name].ops}
    hits = [o for o in operators if o.get("op_type") in ops]
    return float(sum(o.get("share", 0.0) for o in hits)), [str(o["op_type"]) for o in hits]
