"""card.json, the deployment card `bench card` and `bench run` write: its name, version and reader.

Versioned "MAJOR.MINOR" like results.json: a reader accepts any minor of the major it knows, refuses a newer major.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebench.results.errors import ResultsError

CARD_FILE = "card.json"
CARD_MD = "card.md"
CARD_VERSION = "1.0"


def load_card(path: str | Path) -> dict[str, Any] | None:
    """The card in a run directory (or at a card.json path), None when there is none."""
    p = Path(path)
    p = p / CARD_FILE if p.is_dir() else p
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cards"), list):
        raise ResultsError(f"{p} is not an edgebench card file (no card_version/cards)")
    try:
        major = int(str(doc.get("card_version", "")).split(".")[0])
    except ValueError:
        raise ResultsError(f"{p} has an invalid card_version {doc.get('card_version')!r}") from None
    if major > int(CARD_VERSION.split(".")[0]):
        raise ResultsError(f"{p} has card_version {doc['card_version']}, newer than this edgebench reads "
                           f"({CARD_VERSION}); upgrade edgebench")
    return doc
