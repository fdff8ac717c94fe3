"""Mixed-precision static quantization for ONNX Runtime: which layers lose the most accuracy, and a QDQ/QOperator
model that keeps the chosen ones in float (quantize_static's nodes_to_exclude).

Sensitivity comes from ONNX Runtime's own tool, onnxruntime.quantization.qdq_loss_debug: the float model and a QDQ
model of it are run with every activation made an output (modify_model_output_intermediate_tensors,
collect_activations) and matched tensor by tensor (create_activation_matching). A layer is ranked by the SQNR (dB,
averaged over channels) of its *own* quantization: its output's QDQ pair, after against before (`qdq_err`), and for a
first layer the model input's. The cross-model SQNR (`xmodel_err`) is recorded (loss_db: what the layer loses
between its inputs and its output) but does not rank: it accumulates downstream, so a destroyed first layer hides
every later one (on the cnn stand-in its classifier, whose int8 output ties nine logits, gained 5 dB by it).
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.optimizers.artifacts import Artifact
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.onnx_quant import StaticOptions, _quiet_quantizer, static_quantize

PASS_NAME = "ort-static-quant-mixed"
SQNR_CAP_DB = 100.0  # an exact tensor: a finite figure, so that differences stay meaningful
SENSITIVITY_SAMPLES = 16  # activations of every tensor are held in memory: a few samples rank the layers already


@dataclass(frozen=True)
class LayerError:
    """One node's share of the quantization error: the SQNR (dB) it loses, and the SQNR of its output."""

    node: str
    op_type: str
    own_sqnr_db: float  # its own quantization's SQNR (output QDQ; a first layer's input QDQ): what ranks it
    loss_db: float
    output_sqnr_db: float
    nodes: tuple[str, ...] = ()  # the nodes to keep in float for this layer: it and its unquantized feeders

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op_type": self.op_type, "own_sqnr_db": round(self.own_sqnr_db, 2),
                "loss_db": round(self.loss_db, 2),
                "output_sqnr_db": round(self.output_sqnr_db, 2), "nodes": list(self.nodes)}


def _sqnr(ref: list[np.ndarray], got: list[np.ndarray], channels: int) -> float:
    """Mean over the tensor's channels (axis 1) with a signal of the SQNR in dB. A whole-tensor SQNR (what
    qdq_loss_debug's compute_signal_to_quantization_noice_ratio gives) is the large channels' alone: a logit biased
    to -1000 hides nine logits that int8 ties, a depth channel in millimetres hides the colours."""
    try:
        r = np.stack([np.asarray(a, np.float64).reshape(channels, -1) for a in ref])
        g = np.stack([np.asarray(a, np.float64).reshape(channels, -1) for a in got])
    except ValueError:  # shapes that differ between the models: no figure rather than a wrong one
        return math.nan
    signal = np.sqrt((r ** 2).sum(axis=(0, 2)))
    noise = np.sqrt(((r - g) ** 2).sum(axis=(0, 2)))
    live = signal > 1e-9 * max(float(signal.max()), 1e-30)
    if not live.any():
        return SQNR_CAP_DB
    db = 20 * np.log10(signal[live] / np.maximum(noise[live], signal[live] * 10 ** (-SQNR_CAP_DB / 20)))
    return float(np.mean(db))


def _activations(model_path: str, calibration: CalibrationSet, folder: Path) -> dict[str, list[np.ndarray]]:
    from onnxruntime.quantization.qdq_loss_debug import collect_activations, modify_model_output_intermediate_tensors
    augmented = folder / (Path(model_path).stem + ".augmented.onnx")
    modify_model_output_intermediate_tensors(model_path, str(augmented))
    feeds = list(calibration.feeds())[:SENSITIVITY_SAMPLES]
    return collect_activations(str(augmented), iter(feeds))


def _channels(model_path: str) -> dict[str, int]:
    """Axis 1 of every tensor whose shape the (pre-processed, shape-inferred) model states."""
    import onnx
    graph = onnx.load(model_path, load_external_data=False).graph
    out = {}
    for vi in [*graph.value_info, *graph.output, *graph.input]:
        dims = vi.type.tensor_type.shape.dim
        if len(dims) >= 2 and dims[1].dim_value > 0:
            out[vi.name] = int(dims[1].dim_value)
    return out


def tensor_figures(float_path: str, qdq_path: str, calibration: CalibrationSet) -> dict[str, tuple[float, float, float]]:
    """Per activation tensor of the float model: SQNR before its QDQ and after it, both against the float model, and
    its QDQ's own SQNR (after against before, in the QDQ model: qdq_loss_debug's `qdq_err`)."""
    from onnxruntime.quantization.qdq_loss_debug import create_activation_matching
    with tempfile.TemporaryDirectory(prefix="edgebench-qdq-debug-") as scratch, _quiet_quantizer():
        float_acts = _activations(float_path, calibration, Path(scratch))
        qdq_acts = _activations(qdq_path, calibration, Path(scratch))
    matched = create_activation_matching(qdq_acts, float_acts)
    channels = _channels(float_path)
    out = {}
    for name, m in matched.items():
        if m.get("float"):
            c, ref = channels.get(name, 1), list(m["float"])
            if any(a.size % c for a in ref):
                c = 1
            out[name] = (_sqnr(ref, list(m["pre_qdq"]), c), _sqnr(ref, list(m["post_qdq"]), c),
                         _sqnr(list(m["pre_qdq"]), list(m["post_qdq"]), c))
    return out


def _group(node: Any, producers: dict[str, Any], figures: dict[str, tuple[float, float, float]],
           graph_inputs: set[str]) -> tuple[list[str], float, float]:
    """The node plus the nodes upstream whose outputs the QDQ model does not quantize (a Conv fused with its Relu:
    only the Relu's output has a QDQ pair), and the worst SQNR entering that group (before its inputs' QDQ)."""
    nodes, entering, own, todo, seen = [node], [], [], list(node.input), set()
    while todo:
        t = todo.pop()
        if t in seen or not t:
            continue
        seen.add(t)
        if t in graph_inputs:  # the model input's own QDQ is this layer's: nothing upstream shares it
            entering.append(figures[t][0] if t in figures else SQNR_CAP_DB)
            own.append(figures[t][2] if t in figures else SQNR_CAP_DB)
        elif t in figures:  # after its QDQ: the producer's output quantization is charged to the producer
            entering.append(figures[t][1])
        elif t in producers:  # an unquantized intermediate: its producer belongs to this layer
            nodes.append(producers[t])
            todo.extend(producers[t].input)
    entering = [x for x in entering if not math.isnan(x)]
    own = [x for x in own if not math.isnan(x)]
    return [n.name for n in nodes if n.name], min(entering, default=SQNR_CAP_DB), min(own, default=SQNR_CAP_DB)


def layer_sensitivity(float_model: Artifact, qdq_model: Artifact, calibration: CalibrationSet) -> list[LayerError]:
    """Every layer of `float_model` (a node whose outputs the QDQ model quantizes, with the unquantized nodes that
    feed it), most sensitive first. A layer is named after its last node; `nodes` are what to keep in float."""
    import onnx
    figures = tensor_figures(float_model.path, qdq_model.path, calibration)
    graph = onnx.load(float_model.path, load_external_data=False).graph
    graph_inputs = {i.name for i in graph.input} - {t.name for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    layers = []
    for node in graph.node:
        outs = [figures[o][1] for o in node.output if o in figures and not math.isnan(figures[o][1])]
        if not node.name or not outs:
            continue
        nodes, before, own_in = _group(node, producers, figures, graph_inputs)
        own = [figures[o][2] for o in node.output if o in figures and not math.isnan(figures[o][2])]
        layers.append(LayerError(node.name, node.op_type, min([own_in, *own]), before - min(outs), min(outs),
                                 tuple(nodes)))
    return sorted(layers, key=lambda e: (e.own_sqnr_db, -e.loss_db))


def static_quantize_excluding(model: Artifact, calibration: CalibrationSet, options: StaticOptions,
                              exclude: list[str]) -> Artifact:
    """onnx_quant.static_quantize with the named nodes kept in float, cached under its own pass name."""
    return static_quantize(model, calibration, options, exclude, PASS_NAME)


def layer_links(float_model: Artifact, ranked: list[LayerError]
                ) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """The graph around the ranked layers: per layer, the layers that consume its output (keeping a tensor in float
    needs its producer *and* its consumers excluded: a quantized consumer quantizes its input again), and per model
    output, the layers upstream of it with their distance in nodes (0: the layer that makes the output)."""
    import onnx
    graph = onnx.load(float_model.path, load_external_data=False).graph
    layer_of: dict[str, str] = {}
    for layer in ranked:
        for n in layer.nodes or (layer.node,):
            layer_of.setdefault(n, layer.node)
    producers = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[str]] = {}
    for n in graph.node:
        for t in n.input:
            consumers.setdefault(t, []).append(n.name)
    successors = {}
    for layer in ranked:
        node = next((n for n in graph.node if n.name == layer.node), None)
        outs = list(node.output) if node is not None else []
        found = [layer_of[c] for o in outs for c in consumers.get(o, []) if c in layer_of]
        successors[layer.node] = [s for s in dict.fromkeys(found) if s != layer.node]
    upstream: dict[str, dict[str, int]] = {}
    for out in graph.output:
        dist: dict[str, int] = {}
        todo = [(producers[out.name], 0)] if out.name in producers else []
        while todo:
            node, d = todo.pop(0)
            if node.name in dist:
                continue
            dist[node.name] = d
            todo += [(producers[t], d + 1) for t in node.input if t in producers]
        upstream[out.name] = {}
        for n, d in dist.items():
            if n in layer_of:
                upstream[out.name][layer_of[n]] = min(d, upstream[out.name].get(layer_of[n], d))
    return successors, upstream
