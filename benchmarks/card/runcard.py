"""The card `bench run` writes into its run directory (static check only: a run never installs anything)."""
from __future__ import annotations

from pathlib import Path

from edgebench.results.errors import one_line


def write_run_card(run_dir: Path) -> str | None:
    """Write card.json and card.md for the run's ONNX variants; returns a note when it could not (never raises:
    the measurements are on disk already and a card problem must not fail the run)."""
    try:
        from edgebench.benchmarks.card.build import card_document, variant_card, write_card
        from edgebench.benchmarks.card.inputs import default_statement, resolve
        from edgebench.benchmarks.card.releases import MLNET

        found = resolve(str(run_dir), None)
        default_pre = default_statement(found)
        cards = [variant_card(v, found, list(MLNET), [], None, None, default_pre) for v in found.variants]
        write_card(card_document(cards, found), run_dir)
    except Exception as exc:  # noqa: BLE001 (any failure becomes a note)
        return f"deployment card not written ({type(exc).__name__}: {one_line(exc, 200)}); try: bench card {run_dir}"
    return None
