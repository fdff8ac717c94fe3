"""card.json, the deployment card `bench card` and `bench run` write: its name, version and reader.

Versioned "MAJOR.MINOR" like results.json: a reader accepts any minor of the major it knows, refuses a newer major.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.results.contract import read_versioned

CARD_FILE = "card.json"
CARD_MD = "card.md"
CARD_VERSION = "1.0"


def load_card(path: str | Path) -> dict[str, Any] | None:
    """The card in a run directory (or at a card.json path), None when there is none."""
    p = Path(path)
    p = p / CARD_FILE if p.is_dir() else p
    if not p.is_file():
        return None
    doc = read_versioned(p, "card_version", "cards", CARD_VERSION, "card")
    return doc
