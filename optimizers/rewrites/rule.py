"""What a rewrite rule is: a name, the operator types whose time it saves, and a function that rewrites every match
in a graph and says how many it rewrote. Every rule must give outputs equal to the source's; the pass proves it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgebench.optimizers.rewrites.graph import Graph


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str
    ops: tuple[str, ...]  # operator types its pattern removes: what the op-profile trigger looks for
    apply: Callable[[Graph], int]  # rewrites every match in place; returns the number of matches rewritten

    def fire(self, graph: Graph) -> int:
        count = self.apply(graph)
        if count:
            graph.drop_unused_initializers()
        return count
