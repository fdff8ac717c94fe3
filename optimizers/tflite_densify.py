"""Sparse weight tensors of a published .tflite made dense again, so that tf2onnx can read them.

TFLite's converter can store mostly-zero weights in its sparse format (EXPERIMENTAL_SPARSITY: per-dimension DENSE
or SPARSE_CSR metadata) with a DENSIFY operator in front of each; tf2onnx reads the buffer as if it were dense and
fails ("cannot reshape array of size 77 into shape (8,1,1,32)"). This decodes every such tensor into its dense
buffer and removes the DENSIFY operators (their consumers read the dense constant): the same function, in the form
every converter understands. Block-sparse tensors (a block map) are refused with one line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DENSE, SPARSE_CSR = 0, 1
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8, 7: np.int16}


def _vector(v: Any) -> np.ndarray:
    return np.asarray(getattr(v, "values", v) if v is not None else [], dtype=np.int64)


def dense_values(values: np.ndarray, shape: list[int], sparsity: Any) -> np.ndarray:
    """The dense array a sparse tensor stands for: walk its dimensions in traversal order, level by level (all
    paths at once), a DENSE level multiplying the paths, a SPARSE_CSR level taking each path's segment."""
    order = list(sparsity.traversalOrder)
    if len(order) != len(shape) or sparsity.blockMap is not None and len(sparsity.blockMap):
        raise ValueError("block-sparse TFLite weights are not supported (only per-dimension sparsity)")
    pos = np.zeros(1, np.int64)
    idx = np.zeros((1, 0), np.int64)
    for meta in sparsity.dimMetadata:
        if meta.format == DENSE:
            size = int(meta.denseSize)
            pos = (pos[:, None] * size + np.arange(size)[None, :]).ravel()
            idx = np.concatenate([np.repeat(idx, size, axis=0),
                                  np.tile(np.arange(size), len(idx))[:, None]], axis=1)
        else:
            segs, inds = _vector(meta.arraySegments), _vector(meta.arrayIndices)
            counts = segs[pos + 1] - segs[pos]
            pos = np.concatenate([np.arange(segs[p], segs[p + 1]) for p in pos]) if len(pos) else pos
            idx = np.concatenate([np.repeat(idx, counts, axis=0), inds[pos][:, None]], axis=1)
    dense = np.zeros(shape, values.dtype)
    coords = [None] * len(shape)
    for level, dim in enumerate(order):
        coords[dim] = idx[:, level]
    dense[tuple(coords)] = values[pos]
    return dense


def sparse_tensors(path: str | Path) -> int:
    """How many tensors of the file are stored sparse, read without unpacking the whole model (large files)."""
    from tensorflow.lite.python import schema_py_generated as schema

    buf = Path(path).read_bytes()
    model = schema.Model.GetRootAs(buf, 0)
    return sum(1 for g in range(model.SubgraphsLength()) for t in range(model.Subgraphs(g).TensorsLength())
               if model.Subgraphs(g).Tensors(t).Sparsity() is not None)


def densify(src: str | Path, dst: str | Path) -> int:
    """Write `src` with its sparse weights dense and its DENSIFY operators gone to `dst`; returns how many tensors
    were sparse (0: nothing written)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    count = 0
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            if tensor.sparsity is None:
                continue
            buf = model.buffers[tensor.buffer]
            dtype = _DTYPES.get(int(tensor.type))
            if dtype is None:
                raise ValueError(f"sparse tensor {tensor.name!r} has a type this densifier does not read")
            values = np.frombuffer(bytes(bytearray(buf.data)), dtype=dtype)
            dense = dense_values(values, [int(d) for d in tensor.shape], tensor.sparsity)
            buf.data = np.frombuffer(dense.astype(dense.dtype.newbyteorder("<")).tobytes(), np.uint8)
            tensor.sparsity = None
            count += 1
        _drop_densify(model, graph, schema)
    if count:
        flatbuffer_utils.write_model(model, str(dst))
    return count


def _drop_densify(model: Any, graph: Any, schema: Any) -> None:
    """Consumers of a DENSIFY output read its (now dense) input instead; the operator goes."""
    codes = model.operatorCodes
    kept, alias = [], {}
    for op in graph.operators:
        code = codes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY:
            alias[int(op.outputs[0])] = int(op.inputs[0])
        else:
            kept.append(op)
    for op in kept:
        op.inputs = np.array([alias.get(int(i), int(i)) for i in op.inputs], np.int32)
    graph.outputs = np.array([alias.get(int(i), int(i)) for i in graph.outputs], np.int32)
    graph.operators = kept
