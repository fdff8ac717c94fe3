"""How much of a model a quantization pass actually changed, read from the output file.

Quantizers can finish without error and change nothing (weights held in Constant nodes, compute inside If branches,
layers under TFLite's size threshold); a variant that claims "int8" must say so when that happened.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

ONNX_COMPUTE = {"Conv", "ConvTranspose", "MatMul", "Gemm"}
ONNX_QUANTIZED_COMPUTE = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QGemm",
                          "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QAttention", "QLinearConvTranspose"}
TFLITE_COMPUTE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "TRANSPOSE_CONV", "CONV_3D"}


@dataclass
class QuantStats:
    compute_ops: int = 0  # Conv / MatMul / Gemm-like nodes in the file
    reduced_ops: int = 0  # of which run on (or store weights in) the reduced type
    reduced_type: str = "int8"
    in_subgraphs: int = 0  # compute ops inside If/Loop/Scan branches
    constant_weights: int = 0  # float compute ops whose weight comes from a Constant node
    details: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line for the record; "nothing quantized" leads when the pass changed no compute op."""
        if self.compute_ops == 0:
            return ["nothing quantized: the model has no Conv/MatMul/Gemm-like operator"]
        what = f"{self.reduced_ops} of {self.compute_ops} Conv/MatMul/Gemm-like ops in {self.reduced_type}"
        causes = []
        if self.constant_weights:
            causes.append(f"{self.constant_weights} take weights from Constant nodes, not initializers")
        if self.in_subgraphs:
            causes.append(f"{self.in_subgraphs} sit inside If/Loop branches")
        why = f" ({'; '.join(causes)})" if causes else ""
        if self.reduced_ops == 0:
            return [f"nothing quantized: 0 of {self.compute_ops} Conv/MatMul/Gemm-like ops in {self.reduced_type}{why}"]
        if self.reduced_ops < self.compute_ops:
            return [f"partly quantized: {what}{why}"]
        return [f"quantized: {what}"]

    def to_dict(self) -> dict[str, int | str]:
        return {"compute_ops": self.compute_ops, "reduced_ops": self.reduced_ops, "reduced_type": self.reduced_type,
                "in_subgraphs": self.in_subgraphs, "constant_weights": self.constant_weights}


def _graphs(graph: onnx.GraphProto, depth: int = 0) -> Iterator[tuple[onnx.GraphProto, int]]:
    yield graph, depth
    for node in graph.node:
        for attr in node.attribute:
            if attr.g is not None and attr.g.node:
                yield from _graphs(attr.g, depth + 1)
            for g in attr.graphs:
                yield from _graphs(g, depth + 1)


def onnx_quant_stats(path: str | Path) -> QuantStats:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    stats = QuantStats()
    int_types = {onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT4, onnx.TensorProto.UINT4,
                 onnx.TensorProto.INT16, onnx.TensorProto.UINT16}
    for graph, depth in _graphs(model.graph):
        int_inits = {t.name for t in graph.initializer if t.data_type in int_types}
        producers = {out: n for n in graph.node for out in n.output}
        for node in graph.node:
            if node.op_type in ONNX_QUANTIZED_COMPUTE:
                stats.compute_ops += 1
                stats.reduced_ops += 1
            elif node.op_type in ONNX_COMPUTE:
                stats.compute_ops += 1
                stats.in_subgraphs += depth > 0
                weight = producers.get(node.input[1]) if len(node.input) > 1 else None
                # QDQ format keeps the float op and feeds it int8 weights through DequantizeLinear
                if weight is not None and weight.op_type == "DequantizeLinear" and weight.input[0] in int_inits:
                    stats.reduced_ops += 1
                    continue
                # a Constant-node weight may sit behind an activation-style Q/DQ pair the quantizer added
                hops = 0
                while weight is not None and weight.op_type in ("DequantizeLinear", "QuantizeLinear") and hops < 2:
                    weight, hops = producers.get(weight.input[0]), hops + 1
                if weight is not None and weight.op_type == "Constant":
                    stats.constant_weights += 1
    return stats


def tflite_quant_stats(path: str | Path, reduced: str = "int8") -> QuantStats:
    """Compute ops whose weights are stored in `reduced` ("int8" or "float16"), read without any delegate."""
    import numpy as np
    from ai_edge_litert import interpreter as litert

    interp = litert.Interpreter(model_path=str(path),
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    dtypes = {t["index"]: np.dtype(t["dtype"]) for t in interp.get_tensor_details()}
    ops = interp._get_ops_details()  # the only reader of the op list the runtime offers
    made_by = {int(out): op for op in ops for out in op["outputs"]}
    want = np.dtype(np.int8 if reduced == "int8" else np.float16)
    stats = QuantStats(reduced_type=reduced)
    for op in ops:
        if op["op_name"] not in TFLITE_COMPUTE or len(op["inputs"]) < 2:
            continue
        stats.compute_ops += 1
        w = int(op["inputs"][1])
        src = made_by.get(w)
        if src is not None and src["op_name"] == "DEQUANTIZE":  # weights stored reduced, expanded at load
            w = int(src["inputs"][0])
        if dtypes.get(w) == want:
            stats.reduced_ops += 1
    return stats
