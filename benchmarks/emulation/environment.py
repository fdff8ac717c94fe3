"""Where an emulated target environment lives, what it must hold, and whether it is ready.

An environment is a folder in the user's cache (`$EDGEBENCH_TARGETS/<arch>`, default ~/.cache/edgebench/targets/)
holding the target's CPython (unpacked from Debian packages into `sysroot/`), the target's wheels of the exact
onnxruntime / ai-edge-litert / numpy versions installed on the host (`site/`), and, when the system's qemu is too
old, qemu-aarch64 unpacked from Debian's qemu-user (`qemu/`). `ready.json` is written last: it records what was
prepared, so a half-finished setup is never taken for a ready one and a host upgrade makes it stale.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from edgebench.optimizers.artifacts import cache_root

TARGETS_ENV = "EDGEBENCH_TARGETS"
MANIFEST = "ready.json"
# the packages whose exact host versions the target gets (numpy: the child reads and writes .npz with it)
RUNTIME_PACKAGES = ("onnxruntime", "ai-edge-litert", "numpy")
# target name -> (Debian architecture, qemu program, Python's platform.machine())
TARGETS = {"arm64": ("arm64", "qemu-aarch64", "aarch64")}
SETUP_HINT = "bench target setup {name}"


class TargetError(RuntimeError):
    """The target environment cannot be prepared or used; the message is one line for the user."""


def targets_root() -> Path:
    env = os.environ.get(TARGETS_ENV)
    return Path(env) if env else cache_root() / "targets"


def host_python_minor() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def host_versions() -> dict[str, str]:
    """The runtime packages installed beside this edgebench: the target must run these exact versions."""
    out = {}
    for name in RUNTIME_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise TargetError(f"{name} is not installed on this host, so there is no version to match on the "
                              "target") from None
    return out


@dataclass(frozen=True)
class TargetEnv:
    name: str
    root: Path

    @classmethod
    def for_target(cls, name: str) -> TargetEnv:
        if name not in TARGETS:
            raise TargetError(f"unknown target {name!r} (known: {', '.join(TARGETS)})")
        return cls(name, targets_root() / name)

    @property
    def sysroot(self) -> Path:
        return self.root / "sysroot"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def python(self) -> Path:
        return self.sysroot / "usr" / "bin" / f"python{host_python_minor()}"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def manifest(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def problem(self) -> str | None:
        """None when ready for this host's runtimes, else why not (one line, ending with what to run)."""
        doc = self.manifest()
        hint = SETUP_HINT.format(name=self.name)
        if doc is None:
            return f"the emulated {self.name} environment is not set up (run `{hint}`)"
        try:
            wanted = host_versions()
        except TargetError as exc:
            return str(exc)
        if doc.get("packages") != wanted or doc.get("python_minor") != host_python_minor():
            return f"the emulated {self.name} environment was made for other runtime versions than this host's " \
                   f"(run `{hint}` again)"
        qemu = Path(str(doc.get("qemu", {}).get("path", "")))
        if not (self.python.is_file() and qemu.is_file() and os.access(qemu, os.X_OK)):
            return f"the emulated {self.name} environment is incomplete (run `{hint}` again)"
        return None

    def qemu(self) -> Path:
        doc = self.manifest() or {}
        return Path(str(doc.get("qemu", {}).get("path", "")))

    def write_manifest(self, doc: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        tmp.replace(self.manifest_path)


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
