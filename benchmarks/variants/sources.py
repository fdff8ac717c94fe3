"""Recognise what the user handed us (Keras file, SavedModel folder, .tflite, .onnx) by content, not by name alone."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.optimizers.artifacts import sha256_path, size_bytes
from edgebench.results.errors import UserError, one_line

# A .keras archive whose members inflate this much more than they are stored is refused before anything is
# decompressed: real weights compress about 1.1x, a zip bomb thousands of times.
MAX_INFLATE_RATIO = 200
MAX_INFLATE_BYTES = 64 << 20  # below this size any ratio is harmless
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _content_hint(p: Path) -> str:
    """What the file's first bytes say it is, as advice for a file with the wrong extension."""
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head[4:8] == b"TFL3":
        return " (its content is a TFLite flatbuffer: rename it to .tflite)"
    if head[:4] == b"PK\x03\x04":
        if p.suffix.lower() == ".keras":
            return " (it starts like one, so it is damaged or truncated)"
        return " (its content is a zip archive: a .keras model?)"
    if p.suffix.lower() != ".onnx":
        try:
            import onnx
            if onnx.load(str(p), load_external_data=False).graph.node:
                return " (its content is an ONNX model: rename it to .onnx)"
        except Exception:  # not ONNX either: no hint
            pass
    return ""


@dataclass(frozen=True)
class ModelSource:
    path: Path
    format: str
    name: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "format": self.format, "sha256": self.sha256,
                "size_bytes": self.size_bytes}


def _check_tflite(p: Path) -> None:
    head = p.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise UserError(f"{p} is not a TFLite flatbuffer (no TFL3 identifier): the file is empty, truncated or not a "
                        f".tflite{_content_hint(p)}")


def _check_keras(p: Path) -> None:
    if not zipfile.is_zipfile(p):
        raise UserError(f"{p} is not a Keras v3 archive (.keras files are zip files; a legacy HDF5 model must end "
                        f"in .h5){_content_hint(p)}")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "config.json" not in names:
                raise UserError(f"{p} is a zip file but not a Keras model (no config.json inside)")
            unsafe = [n for n in names if n.startswith(("/", "\\")) or ".." in Path(n).parts]
            if unsafe:
                raise UserError(f"{p} has archive members with unsafe paths ({unsafe[0]!r}); refused")
            stored = sum(i.compress_size for i in infos)
            inflated = sum(i.file_size for i in infos)
            if inflated > MAX_INFLATE_BYTES and inflated > MAX_INFLATE_RATIO * max(stored, 1):
                raise UserError(f"{p} would inflate from {stored} to {inflated} bytes (a zip bomb?); refused")
            bad = zf.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise UserError(f"{p} is a damaged zip archive: {one_line(exc, 200)}") from None
    if bad:
        raise UserError(f"{p} is corrupt: member {bad} fails its CRC check")


def _check_h5(p: Path) -> None:
    """A legacy Keras HDF5 model: loaded by Keras 3's legacy loader in safe mode, like a .keras file (a Lambda
    layer's marshalled bytecode is refused, never run)."""
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head != HDF5_SIGNATURE:
        raise UserError(f"{p} is not an HDF5 file (no HDF5 signature): the file is empty, truncated or not a legacy "
                        f"Keras .h5 model{_content_hint(p)}")


def _check_onnx(p: Path) -> None:
    from edgebench.optimizers.onnx_safety import check_onnx_file
    try:
        check_onnx_file(p)
    except UserError as exc:
        hint = _content_hint(p) if "not a valid ONNX" in str(exc) else ""
        if hint:
            raise UserError(f"{exc}{hint}") from None
        raise


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
        known = {".keras": "keras", ".h5": "keras", ".hdf5": "keras", ".tflite": "tflite", ".onnx": "onnx"}
        if suffix not in known:
            raise UserError(f"unknown model format {suffix or '(no extension)'!r} for {p}; expected .keras, .h5, "
                            ".tflite, .onnx or a SavedModel directory")
        fmt = known[suffix]
        if p.stat().st_size == 0:
            raise UserError(f"{p} is empty")
        check = _check_h5 if suffix in (".h5", ".hdf5") else {"keras": _check_keras, "tflite": _check_tflite,
                                                               "onnx": _check_onnx}[fmt]
        check(p)
    name = p.name[: -len(p.suffix)] if p.suffix and not p.is_dir() else p.name
    return ModelSource(path=p.resolve(), format=fmt, name=name or "model", sha256=sha256_path(p),
                       size_bytes=size_bytes(p))
