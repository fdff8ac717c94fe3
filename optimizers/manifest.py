"""The manifest `bench optimize` writes beside the deployable files: what each file is and how it was made."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from edgebench.optimizers.artifacts import Artifact, sha256_path, size_bytes
from edgebench.results.contract import write_text_atomic

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


def deploy_copy(art: Artifact, out: Path, variant: str) -> Path:
    """Copy the artifact to out/<variant><suffix> (with the operator config an .ort file comes with) and check the
    copy is byte-identical, so the manifest's sha256 is the file's own."""
    src = Path(art.path)
    dest = out / f"{variant}{src.suffix}"
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest)
        for extra in src.parent.glob(f"{src.stem}*.config"):
            shutil.copy2(extra, out / f"{variant}{extra.name[len(src.stem):]}")
    if sha256_path(dest) != art.sha256:
        raise OSError(f"copy of {src} to {dest} does not match its sha256")
    return dest


def variant_entry(variant: str, runtime: str, summary: str, art: Artifact | None, file: Path | None,
                  lineage: list[dict[str, Any]], error: str | None = None, skipped: str | None = None
                  ) -> dict[str, Any]:
    entry: dict[str, Any] = {"variant": variant, "runtime": runtime, "summary": summary,
                             "status": "skipped" if skipped else "failed" if error or art is None else "ok"}
    if skipped:
        entry["reason"] = skipped
    if error:
        entry["error"] = error
    if art is not None and file is not None:
        entry.update(file=file.name, sha256=art.sha256, size_bytes=size_bytes(file), parent=art.parent,
                     **{"pass": art.pass_name}, settings=art.settings, notes=list(art.notes), lineage=lineage)
        from edgebench.optimizers.rewrites.apply import PASS_NAME, report_for
        if art.pass_name == PASS_NAME:
            entry["rewrites"] = report_for(art.path)  # rules fired, nodes per rule, and the proof on data
    return entry


def write_manifest(out: Path, doc: dict[str, Any]) -> Path:
    return write_text_atomic(out / MANIFEST_FILE,
                             json.dumps(dict(doc, manifest_version=MANIFEST_VERSION), indent=1, default=str))
