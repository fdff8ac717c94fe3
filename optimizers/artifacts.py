"""Artifacts: deployable files with lineage, cached by content hash + pass + settings."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Artifact:
    """One model file and how it was made: which parent, which pass, which settings."""

    path: str
    sha256: str
    parent: str | None
    pass_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    # What the pass found out about its output (e.g. "nothing quantized"); kept with the file so a cached run says it too.
    notes: list[str] = field(default_factory=list)
    # True when this run took the file from the cache instead of running the pass; never written to the cache.
    reused: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass"] = d.pop("pass_name")
        return d

    def stored_dict(self) -> dict[str, Any]:
        d = self.to_dict()
        d.pop("reused")
        return d


def cache_root() -> Path:
    """Where converted files and the default model live: $EDGEBENCH_CACHE, else $XDG_CACHE_HOME/edgebench."""
    env = os.environ.get("EDGEBENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgebench"


def sha256_path(path: str | Path) -> str:
    """Content hash of a file, or of a directory tree (relative names and contents, in sorted order)."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(str(f.relative_to(p)).encode())
            h.update(b"\0")
            for chunk in _chunks(f):
                h.update(chunk)
    else:
        for chunk in _chunks(p):
            h.update(chunk)
    return h.hexdigest()


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(1 << 20), b"")


def size_bytes(path: str | Path) -> int:
    p = Path(path)
    if p.is_dir():
        return sum(q.stat().st_size for q in p.rglob("*") if q.is_file())
    return p.stat().st_size


def cache_dir_for(parent_sha: str, pass_name: str, settings: dict[str, Any]) -> Path:
    """Deterministic cache folder for (input content, pass, settings)."""
    key = hashlib.sha256(json.dumps([parent_sha, pass_name, settings], sort_keys=True, default=str).encode())
    return cache_root() / "artifacts" / f"{pass_name}-{key.hexdigest()[:20]}"


def load_cached(folder: Path) -> Artifact | None:
    """The artifact already made in a cache folder, if any, checked against its hash."""
    meta = folder / "artifact.json"
    if not meta.is_file():
        return None
    try:
        d = json.loads(meta.read_text())
        art = Artifact(path=d["path"], sha256=d["sha256"], parent=d["parent"], pass_name=d["pass"],
                       settings=d.get("settings", {}), notes=list(d.get("notes", [])), reused=True)
    except (ValueError, KeyError):
        return None
    if not Path(art.path).exists() or sha256_path(art.path) != art.sha256:
        return None
    return art


def _store(folder: Path, produced: Path, parent_sha: str, pass_name: str, settings: dict[str, Any],
           notes: list[str] | None, final: Path | None = None) -> Artifact:
    """Record a finished pass output (already inside `folder`); written last so a half-made entry never counts.
    `final` is where the output will be once its folder is moved into place (the path the entry names)."""
    art = Artifact(path=str(final or produced), sha256=sha256_path(produced), parent=parent_sha, pass_name=pass_name,
                   settings=settings, notes=list(notes or []))
    tmp = folder / "artifact.json.tmp"
    tmp.write_text(json.dumps(art.stored_dict(), indent=1, default=str))
    tmp.replace(folder / "artifact.json")
    return art


def cached(parent_sha: str, pass_name: str, settings: dict[str, Any], output: str,
           make: Callable[[Path], list[str] | None]) -> Artifact:
    """A pass's artifact: taken from the cache when this input content, pass and settings made it before (and it is
    intact), else made now. `make(path)` writes the output at `path` (the file or folder `output` in a fresh cache
    folder) and returns the notes for the record; the entry is recorded last, so a failed pass leaves none.

    Two runs may make the same entry at once (two `bench run`s, a test suite beside a run). Each makes it in a
    private folder that is renamed into place whole: a file another process has open (a runtime maps .tflite files)
    is never rewritten under it, which would kill that process with SIGBUS."""
    folder = cache_dir_for(parent_sha, pass_name, settings)
    hit = load_cached(folder)
    if hit is not None:
        return hit
    private = folder.with_name(f"{folder.name}.making-{os.getpid()}-{time.monotonic_ns()}")
    private.mkdir(parents=True)
    try:
        notes = make(private / output)
        made = _store(private, private / output, parent_sha, pass_name, settings, notes, folder / output)
        return _publish(private, folder, made)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _publish(private: Path, folder: Path, made: Artifact) -> Artifact:
    """Move a finished entry into place; when another process got there first with an intact entry, use theirs."""
    for _ in range(3):
        try:
            private.rename(folder)
        except OSError:  # the folder exists: someone else's entry, whole or a stale half-made one
            hit = load_cached(folder)
            if hit is not None:
                return hit
            stale = folder.with_name(f"{folder.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
            try:
                folder.rename(stale)
            except OSError:
                continue
            shutil.rmtree(stale, ignore_errors=True)
            continue
        return made
    raise RuntimeError(f"cache entry {folder.name} could not be published")
