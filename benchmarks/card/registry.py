"""The shipped kernel registries (data/ort-<version>.json.gz, made by make_registries) and lookups in them."""
from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().with_name("data")  # resolved: an editable install links files
REGISTRY_FORMAT = 1


def shipped_versions() -> list[str]:
    names = [p.name[len("ort-"):-len(".json.gz")] for p in DATA_DIR.glob("ort-*.json.gz")]
    return sorted(names, key=lambda v: tuple(int(x) for x in v.split(".")))


@functools.cache
def load_registry(version: str) -> dict[str, Any] | None:
    path = DATA_DIR / f"ort-{version}.json.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def nearest_shipped(version: str) -> str | None:
    """The newest shipped version not newer than `version` (a conservative stand-in), else the oldest."""
    key = tuple(int(x) for x in version.split("."))
    have = shipped_versions()
    older = [v for v in have if tuple(int(x) for x in v.split(".")) <= key]
    return older[-1] if older else (have[0] if have else None)
