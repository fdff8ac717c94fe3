"""The rule library, in the order the pass applies them: `transpose` first, since it uncovers `keras-prelu`."""
from __future__ import annotations

from edgebench.optimizers.rewrites import clip, keras_prelu, prelu, transpose
from edgebench.optimizers.rewrites.rule import Rule

RULES: dict[str, Rule] = {r.name: r for r in (transpose.RULE, prelu.RULE, keras_prelu.RULE, clip.RULE)}


def pick(names: list[str] | None) -> list[Rule]:
    """The named rules (all when None), in library order; an unknown name is a ValueError naming the known ones."""
    unknown = sorted(set(names or []) - set(RULES))
    if unknown:
        raise ValueError(f"unknown rewrite rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    return [r for name, r in RULES.items() if names is None or name in names]


def matches(model_path: str) -> dict[str, int]:
    """How many places each rule would rewrite in the model (nothing is changed on disk)."""
    import onnx

    from edgebench.optimizers.rewrites.graph import Graph

    graph = Graph(onnx.load(model_path, load_external_data=False))
    return {r.name: n for r in RULES.values() if (n := r.fire(graph))}
