"""What a run reads: the model source (the user's file or the embedded default) and the data to evaluate it on."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.benchmarks.run.options import RunOptions
from edgebench.benchmarks.variants.data import DataSet, embedded_data, load_user_data, random_data
from edgebench.benchmarks.variants.sources import ModelSource, detect_source


def resolve_source(model: str | None) -> tuple[ModelSource, str]:
    """(source, kind): kind is "default" for the embedded model, else "user"."""
    if model is None:
        from edgebench.benchmarks.variants.default_model import NAME, ensure_default_model
        path = ensure_default_model()
        src = detect_source(path)
        return ModelSource(src.path, src.format, NAME, src.sha256, src.size_bytes), "default"
    return detect_source(model), "user"


def dataset_for(data: str | None, kind: str, specs: list[dict[str, Any]], vocab: int | None = None) -> DataSet:
    """The user's --data, else the embedded digits for the default model, else random inputs (flagged)."""
    if data:
        return load_user_data(data, specs)
    if kind == "default":
        return embedded_data()
    return random_data(specs, vocab=vocab)


def model_inputs(source: ModelSource, kind: str, specs: list[dict[str, Any]], opts: RunOptions
                 ) -> tuple[list[dict[str, Any]], DataSet]:
    """(input specs with every dimension but the batch axis fixed, data set): --input-shape first, then the data's
    own shapes; a symbolic dimension neither fixes, or a shape the model rejects, ends the run with one line."""
    from edgebench.benchmarks.variants.shapes import fix_shapes, from_data, infer_batch_axes
    fixed = fix_shapes(infer_batch_axes(specs), opts.input_shapes)
    if opts.data and Path(opts.data).is_dir():  # a folder of images, preprocessed as the model says
        from edgebench.benchmarks.run.image_data import load_image_folder
        dataset = load_image_folder(opts.data, source, fixed, opts.preprocess)
    else:
        dataset = dataset_for(opts.data, kind, fixed, opts.vocab_size)
    fixed = from_data(fixed, [x.shape for x in dataset.inputs], dataset.batch_axes)
    if source.format in ("onnx", "tflite") and any("declared_shape" in s for s in fixed):
        _probe(source, fixed, dataset, opts.timeout)
    return fixed, dataset


def _probe(source: ModelSource, specs: list[dict[str, Any]], data: DataSet, timeout: float) -> None:
    """Run the source file on one sample of the shapes the user chose: a shape its operators cannot take (a Reshape
    to a fixed size, a too-small image) is the user's input at fault, said before anything is converted. A model
    its runtime cannot even load is left to the run, where the variants that need it fail on their own."""
    import tempfile
    from pathlib import Path

    from edgebench.benchmarks.isolation.npzio import encode_axes, take_samples, write_arrays
    from edgebench.benchmarks.measure.child_call import MeasureError
    from edgebench.benchmarks.measure.model_check import describe, evaluate
    from edgebench.results.errors import UserError, one_line
    runtime = "litert" if source.format == "tflite" else "onnxruntime"
    try:
        describe(runtime, str(source.path), {}, timeout)
    except MeasureError:
        return
    with tempfile.TemporaryDirectory(prefix="edgebench-probe-") as tmp:
        write_arrays(Path(tmp) / "in.npz", take_samples(data.inputs, data.batch_axes, 0, 1),
                     batch_axes=encode_axes(data.batch_axes))
        try:
            evaluate(runtime, str(source.path), {}, Path(tmp) / "in.npz", Path(tmp) / "out.npz", timeout)
        except MeasureError as exc:
            shapes = ", ".join(f"{s['name']}={_one_sample(s)}" for s in specs)
            raise UserError(f"the model rejects the input shapes {shapes}: {one_line(exc, 300)}") from None


def _one_sample(spec: dict[str, Any]) -> str:
    """The shape of one sample of an input, its batch axis at 1."""
    return ",".join(str(1 if i == spec.get("batch_axis") else d) for i, d in enumerate(spec["shape"]))
