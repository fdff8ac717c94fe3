"""Recognise what the user handed us (Keras file, SavedModel folder, .tflite, .onnx) by content, not by name alone."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.errors import UserError
from optimizers.artifacts import sha256_path, size_bytes

FORMATS = ("keras", "savedmodel", "tflite", "onnx")


@dataclass(frozen=True)
class ModelSource:
    path: Path
    format: str
    name: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict:
        return {"name": self.name, "path": str(self.path), "format": self.format, "sha256": self.sha256,
                "size_bytes": self.size_bytes}


def _check_tflite(p: Path) -> None:
    head = p.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise UserError(f"{p} is not a TFLite flatbuffer (no TFL3 identifier): the file is empty, truncated or not a .tflite")


def _check_keras(p: Path) -> None:
    if not zipfile.is_zipfile(p):
        raise UserError(f"{p} is not a Keras v3 archive (.keras files are zip files); legacy .h5 is not supported")
    with zipfile.ZipFile(p) as zf:
        names = set(zf.namelist())
        if "config.json" not in names:
            raise UserError(f"{p} is a zip file but not a Keras model (no config.json inside)")
        bad = zf.testzip()
        if bad:
            raise UserError(f"{p} is corrupt: member {bad} fails its CRC check")


def _check_onnx(p: Path) -> None:
    from optimizers.onnx_safety import check_onnx_file
    check_onnx_file(p)


def detect_source(path: str | Path) -> ModelSource:
    """Identify a model; raises UserError with one line when it is missing, unknown or unreadable."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"model not found: {p}")
    if p.is_dir():
        if not (p / "saved_model.pb").is_file():
            raise UserError(f"{p} is a directory but not a SavedModel (no saved_model.pb inside)")
        fmt = "savedmodel"
    else:
        suffix = p.suffix.lower()
        fmt = {".keras": "keras", ".tflite": "tflite", ".onnx": "onnx"}.get(suffix)
        if fmt is None:
            raise UserError(f"unknown model format {suffix or '(no extension)'!r} for {p}; expected .keras, .tflite, "
                            ".onnx or a SavedModel directory")
        if p.stat().st_size == 0:
            raise UserError(f"{p} is empty")
        {"keras": _check_keras, "tflite": _check_tflite, "onnx": _check_onnx}[fmt](p)
    name = p.name[: -len(p.suffix)] if p.suffix and not p.is_dir() else p.name
    return ModelSource(path=p.resolve(), format=fmt, name=name or "model", sha256=sha256_path(p),
                       size_bytes=size_bytes(p))
