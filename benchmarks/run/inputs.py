"""What a run reads: the model source (the user's file or the embedded default) and the data to evaluate it on."""
from __future__ import annotations

from typing import Any

from edgebench.benchmarks.build.data import DataSet, embedded_data, load_user_data, random_data
from edgebench.benchmarks.build.sources import ModelSource, detect_source


def resolve_source(model: str | None) -> tuple[ModelSource, str]:
    """(source, kind): kind is "default" for the embedded model, else "user"."""
    if model is None:
        from edgebench.benchmarks.build.default_model import NAME, ensure_default_model
        path = ensure_default_model()
        src = detect_source(path)
        return ModelSource(src.path, src.format, NAME, src.sha256, src.size_bytes), "default"
    return detect_source(model), "user"


def dataset_for(data: str | None, kind: str, specs: list[dict[str, Any]]) -> DataSet:
    """The user's --data, else the embedded digits for the default model, else random inputs (flagged)."""
    if data:
        return load_user_data(data, specs)
    if kind == "default":
        return embedded_data()
    return random_data(specs)
