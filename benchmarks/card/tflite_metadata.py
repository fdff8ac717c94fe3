"""TFLite metadata without tflite-support (it needs protobuf < 4, which cannot share an environment with onnx).

The Model flatbuffer's metadata entry "TFLITE_METADATA" names a buffer holding a ModelMetadata flatbuffer (file
identifier "M001", metadata_schema.fbs); label files are a zip appended to the .tflite. Only the `flatbuffers`
runtime is needed, and only the fields the pre-processing recipe uses are read. A table field's slot is
4 + 2 * its index in the schema, a union taking two (type, value).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

_ASSOCIATED_TYPES = {0: "UNKNOWN", 1: "DESCRIPTIONS", 2: "TENSOR_AXIS_LABELS", 3: "TENSOR_VALUE_LABELS",
                     4: "TENSOR_AXIS_SCORE_CALIBRATION", 5: "VOCABULARY", 6: "SCANN_INDEX_FILE"}
_COLOR_SPACES = {0: "UNKNOWN", 1: "RGB", 2: "GRAYSCALE"}


class _T:
    """A flatbuffer table: fields by slot index."""

    def __init__(self, buf: bytes | bytearray, pos: int) -> None:
        from flatbuffers.table import Table
        self.t = Table(bytearray(buf) if isinstance(buf, bytes) else buf, pos)

    def _off(self, i: int) -> int:
        return int(self.t.Offset(4 + 2 * i))

    def table(self, i: int) -> _T | None:
        o = self._off(i)
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, i: int) -> list[_T]:
        o = self._off(i)
        if not o:
            return []
        start = self.t.Vector(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * k)) for k in range(self.t.VectorLen(o))]

    def string(self, i: int) -> str | None:
        o = self._off(i)
        return bytes(self.t.String(o + self.t.Pos)).decode("utf-8", "replace") if o else None

    def scalar(self, i: int, fmt: str, default: Any = 0) -> Any:
        import flatbuffers.number_types as nt
        o = self._off(i)
        kind = {"b": nt.Int8Flags, "B": nt.Uint8Flags, "I": nt.Uint32Flags, "i": nt.Int32Flags}[fmt]
        return self.t.Get(kind, o + self.t.Pos) if o else default

    def floats(self, i: int) -> list[float]:
        import flatbuffers.number_types as nt
        o = self._off(i)
        if not o:
            return []
        start = self.t.Vector(o)
        return [float(self.t.Get(nt.Float32Flags, start + 4 * k)) for k in range(self.t.VectorLen(o))]

    def bytes_vector(self, i: int) -> bytes:
        o = self._off(i)
        if not o:
            return b""
        start = self.t.Vector(o)
        return bytes(self.t.Bytes[start:start + self.t.VectorLen(o)])


def _root(buf: bytes) -> _T:
    import flatbuffers.encode as enc
    import flatbuffers.number_types as nt
    return _T(buf, enc.Get(nt.UOffsetTFlags.packer_type, buf, 0))


def _files(table: _T | None, slot: int) -> list[dict[str, Any]]:
    if table is None:
        return []
    return [{"name": f.string(0), "description": f.string(1), "type": _ASSOCIATED_TYPES.get(f.scalar(2, "b"), "?")}
            for f in table.tables(slot)]


def _tensor(tm: _T) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tm.string(0), "description": tm.string(1), "files": _files(tm, 6)}
    content = tm.table(3)
    if content is not None and content.scalar(0, "B") == 2:  # ContentProperties.ImageProperties
        img = content.table(1)
        if img is not None:
            size = img.table(1)
            out["image"] = {"color_space": _COLOR_SPACES.get(img.scalar(0, "b"), "?"),
                            "width": size.scalar(0, "I") if size else None,
                            "height": size.scalar(1, "I") if size else None}
    for unit in tm.tables(4):
        if unit.scalar(0, "B") == 1:  # ProcessUnitOptions.NormalizationOptions
            opts = unit.table(1)
            if opts is not None:
                out["normalization"] = {"mean": opts.floats(0), "std": opts.floats(1)}
    stats = tm.table(5)
    if stats is not None and (stats.floats(0) or stats.floats(1)):
        out["stats"] = {"max": stats.floats(0), "min": stats.floats(1)}
    return out


def read_tflite_metadata(path: Path) -> dict[str, Any] | None:
    """{"name", "description", "inputs": [...], "outputs": [...], "files": [...], "packed_files": [...]}, or None
    when the file carries no TFLITE_METADATA entry."""
    data = path.read_bytes()
    model = _root(data)
    buffers = model.tables(4)
    meta_buf = None
    for entry in model.tables(6):
        if entry.string(0) == "TFLITE_METADATA":
            idx = entry.scalar(1, "I")
            if idx < len(buffers):
                meta_buf = buffers[idx].bytes_vector(0)
    if not meta_buf or meta_buf[4:8] != b"M001":
        return None
    meta = _root(meta_buf)
    subgraphs = meta.tables(3)
    sg = subgraphs[0] if subgraphs else None
    doc: dict[str, Any] = {"name": meta.string(0), "description": meta.string(1), "files": _files(meta, 6),
                           "inputs": [_tensor(t) for t in sg.tables(2)] if sg else [],
                           "outputs": [_tensor(t) for t in sg.tables(3)] if sg else []}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            doc["packed_files"] = sorted(zf.namelist())
    except zipfile.BadZipFile:
        doc["packed_files"] = []
    return doc
