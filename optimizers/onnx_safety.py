"""Safe loading of untrusted ONNX files: parse errors become one line; external data may not leave the model's folder."""
from __future__ import annotations

from pathlib import Path


class UnsafeModelError(ValueError):
    pass


def external_data_locations(model) -> list[str]:
    from onnx.external_data_helper import _get_all_tensors

    locations = []
    for tensor in _get_all_tensors(model):
        if tensor.data_location == 1:  # onnx.TensorProto.EXTERNAL
            for entry in tensor.external_data:
                if entry.key == "location":
                    locations.append(entry.value)
    return locations


def check_onnx_file(path: str | Path) -> None:
    """Parse the graph without its external data, then refuse any external data path outside the model's folder."""
    import onnx

    from benchmarks.errors import UserError

    p = Path(path)
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:
        raise UserError(f"{p} is not a valid ONNX model: {' '.join(str(exc).split())[:200]}") from None
    if not model.graph.node and not model.graph.output:
        raise UserError(f"{p} is not a valid ONNX model: the graph is empty")
    root = p.resolve().parent
    for loc in external_data_locations(model):
        target = (root / loc).resolve()
        if Path(loc).is_absolute() or not target.is_relative_to(root):
            raise UserError(f"{p} refers to external data outside its own folder ({loc!r}); refused, nothing was read")
        if not target.is_file():
            raise UserError(f"{p} refers to missing external data file {loc!r}")
