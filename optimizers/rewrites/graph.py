"""A thin view over an onnx.ModelProto for the rewrite rules: who produces and consumes each tensor, which tensors
are constants, fresh names, and replacing a matched chain of nodes. Everything goes through onnx's own protobuf
API and onnx.helper / numpy_helper."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx


class Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.g = model.graph
        self._names = {n for node in self.g.node for n in [*node.input, *node.output, node.name]}
        self._names |= {t.name for t in self.g.initializer} | {v.name for v in self.g.input}
        self._index: tuple[dict[str, onnx.NodeProto], dict[str, list[onnx.NodeProto]]] | None = None

    def _edges(self) -> tuple[dict[str, onnx.NodeProto], dict[str, list[onnx.NodeProto]]]:
        """(producer, consumers) by tensor name, built once per change of the node list, so matching stays linear."""
        if self._index is None:
            producers: dict[str, onnx.NodeProto] = {}
            consumers: dict[str, list[onnx.NodeProto]] = {}
            for n in self.g.node:
                producers.update((o, n) for o in n.output)
                for i in dict.fromkeys(n.input):
                    consumers.setdefault(i, []).append(n)
            self._index = producers, consumers
        return self._index

    def changed(self) -> None:
        """Say that node inputs or outputs were edited in place."""
        self._index = None

    def producer(self, tensor: str) -> onnx.NodeProto | None:
        return self._edges()[0].get(tensor)

    def consumers(self, tensor: str) -> list[onnx.NodeProto]:
        return list(self._edges()[1].get(tensor, []))

    def is_output(self, tensor: str) -> bool:
        return any(o.name == tensor for o in self.g.output)

    def private(self, tensor: str, reader: onnx.NodeProto) -> bool:
        """True when `reader` is the only consumer of `tensor` and it is not a graph output: the node making it
        may go when `reader` goes."""
        return not self.is_output(tensor) and all(_same(n, reader) for n in self.consumers(tensor))

    def constant(self, tensor: str) -> np.ndarray | None:
        """The value of an initializer (one that is not also a graph input a caller could override) or of a
        Constant node's output; None for anything computed or fed at run time."""
        from onnx import numpy_helper

        if any(i.name == tensor for i in self.g.input):
            return None
        for t in self.g.initializer:
            if t.name == tensor:
                return np.asarray(numpy_helper.to_array(t))
        node = self.producer(tensor)
        if node is not None and node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            return np.asarray(numpy_helper.to_array(node.attribute[0].t))
        return None

    def fresh(self, hint: str) -> str:
        name, i = hint, 0
        while name in self._names:
            i += 1
            name = f"{hint}_{i}"
        self._names.add(name)
        return name

    def add_constant(self, value: np.ndarray, hint: str) -> str:
        from onnx import numpy_helper
        name = self.fresh(hint)
        self.g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def replace(self, old: Sequence[onnx.NodeProto], new: Sequence[onnx.NodeProto]) -> None:
        """Remove the `old` nodes and put `new` where the last of them stood: its inputs were all computed before
        that point, so the graph stays in topological order."""
        gone = {_key(n) for n in old}
        nodes = list(self.g.node)
        at = max(i for i, n in enumerate(nodes) if _key(n) in gone)
        kept = [n for n in nodes[:at] if _key(n) not in gone] + list(new) + nodes[at + 1:]
        del self.g.node[:]
        self.g.node.extend(kept)
        self._index = None

    def drop_unused_initializers(self) -> None:
        used = {i for n in self.g.node for i in n.input} | {o.name for o in self.g.output}
        keep = [t for t in self.g.initializer if t.name in used or any(i.name == t.name for i in self.g.input)]
        del self.g.initializer[:]
        self.g.initializer.extend(keep)


def _key(node: onnx.NodeProto) -> tuple[str, ...]:
    """A node's identity: its output names, unique in a valid graph (protobuf wrappers are not stable objects)."""
    return tuple(node.output)


def _same(a: onnx.NodeProto, b: onnx.NodeProto) -> bool:
    return _key(a) == _key(b)
