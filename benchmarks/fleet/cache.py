"""A node's local store of the files it measures, keyed by content: a file is fetched once per node, and checked
against its sha256 before every use, so a node never times a file other than the one the driver built."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from edgebench.optimizers.artifacts import cache_root


class ArtifactMismatch(RuntimeError):
    """The bytes received are not the file the driver hashed."""


def fleet_cache() -> Path:
    return cache_root() / "fleet"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_file(sha256: str, suffix: str, fetch: Callable[[], bytes], root: Path | None = None) -> Path:
    """The file with content `sha256` in this node's cache; `fetch()` gives its bytes when it is missing or damaged."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ArtifactMismatch(f"not a sha256: {sha256[:80]!r}")
    folder = root or fleet_cache()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256}{suffix if suffix.isascii() and len(suffix) <= 16 else ''}"
    if path.is_file() and _sha256(path) == sha256:
        return path
    data = fetch()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactMismatch(f"received file does not match sha256 {sha256[:12]}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # atomic: two tasks fetching the same file never see half of it
    return path
