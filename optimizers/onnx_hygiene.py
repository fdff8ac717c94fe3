"""Weights that reach their ops through Constant / Identity nodes become initializers before ORT quantizes.

Paddle2ONNX and some PyTorch exports feed Conv weights through a Constant node (or an Identity of one): ORT's
`quantize_dynamic` then stops with "Expected conv2d_394.w_0 to be an initializer" and `quantize_static` may quantize
the activations only. ORT's own pre-processing (quant_pre_process: its graph optimizer stores every constant as an
initializer) fixes that without hand-written surgery; onnxsim does not (it writes folded constants back as Constant
nodes). A graph without such nodes is used as it is.
"""
from __future__ import annotations

import dataclasses

from edgebench.optimizers.artifacts import Artifact


def weights_through_nodes(path: str) -> int:
    """How many Constant nodes (and Identity nodes of a constant or initializer) the graph holds."""
    import onnx
    graph = onnx.load(path, load_external_data=False).graph
    consts = {o for n in graph.node if n.op_type == "Constant" for o in n.output} | {t.name for t in graph.initializer}
    return sum(n.op_type == "Constant" or (n.op_type == "Identity" and n.input[0] in consts) for n in graph.node)


def weights_as_initializers(model: Artifact) -> Artifact:
    """`model` itself when its weights are initializers already, else ORT's pre-processed copy (cached)."""
    from edgebench.optimizers.onnx_quant import pre_process
    count = weights_through_nodes(model.path)
    if not count:
        return model
    art = pre_process(model)
    left = weights_through_nodes(art.path)
    note = (f"{count} Constant/Identity weight node(s) made initializers by ORT's quant_pre_process before "
            f"quantization" + (f" ({left} left)" if left else ""))
    return dataclasses.replace(art, notes=[*art.notes, note])
