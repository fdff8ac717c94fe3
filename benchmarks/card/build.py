"""One deployment card per ONNX variant, and card.json / card.md on disk (the markdown comes from reports/)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgebench.benchmarks.card.golden import tolerance
from edgebench.benchmarks.card.inputs import CardInput, OnnxVariant
from edgebench.benchmarks.card.iocontract import io_contract
from edgebench.benchmarks.card.matrix import answer, build_matrix
from edgebench.benchmarks.card.model_facts import read_model
from edgebench.benchmarks.card.pitfalls import pitfalls
from edgebench.benchmarks.card.preprocess import recipe
from edgebench.benchmarks.card.releases import Target
from edgebench.results import __version__
from edgebench.results.card_contract import CARD_FILE, CARD_MD, CARD_VERSION
from edgebench.results.contract import write_text_atomic


def _installed_ort() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnxruntime")
    except PackageNotFoundError:
        return None


def variant_card(v: OnnxVariant, found: CardInput, targets: list[Target], load_tests: list[str],
                 preprocess_text: str | None, progress: Callable[[str], None] | None = None,
                 default_preprocess: str | None = None, input_shapes: dict[str, list[int]] | None = None,
                 data_path: str | None = None) -> dict[str, Any]:
    """The card of one variant; `input_shapes` (--input-shape) and `data_path` (--data) fix the inputs its load
    tests and golden vector use, else card.shapes chooses them from the model's hints (stated in the card)."""
    from edgebench.benchmarks.card.shapes import card_shapes, read_data
    from edgebench.optimizers.artifacts import sha256_path

    facts = read_model(v.path)
    io = io_contract(facts.model)
    data = read_data(data_path, io["inputs"]) if data_path else None
    shapes = card_shapes(facts.model, io["inputs"], input_shapes, data)
    rows = build_matrix(facts, targets, v.name, load_tests, io["inputs"] + io["outputs"], progress,
                        tolerance(v.accuracy)["abs"], shapes, data)
    card: dict[str, Any] = {
        "variant": v.name, "file": v.path.name, "path": str(v.path), "sha256": sha256_path(v.path),
        "ir_version": facts.ir_version, "opsets": facts.opsets,
        "op_count": sum(len(n.names) for n in facts.nodes),
        "answer": answer(rows), "rows": rows, "io": io, "shapes": shapes,
        "preprocess": recipe(found.source, found.source_format, io, preprocess_text, default_preprocess),
        "performance": {"latency": v.latency, "accuracy": v.accuracy,
                        "note": "onnxruntime latency measured by edgebench; ML.NET runs one onnxruntime call per row "
                                "and adds its own per-row overhead on top"} if v.latency else None,
    }
    card["pitfalls"] = pitfalls(card)
    return card


def _cross_variant_fixes(cards: list[dict[str, Any]]) -> None:
    """A failing row names the variants of the same model that pass it: choosing one is the simplest fix."""
    for card in cards:
        for row in card["rows"]:
            if row["ok"] is not False:
                continue
            others = [c["variant"] for c in cards if c is not card and any(
                r["key"] == row["key"] and r["ok"] for r in c["rows"])]
            if others:
                row.setdefault("fixes", []).insert(0, f"choose a variant that loads here: {', '.join(others[:4])}")


def card_document(cards: list[dict[str, Any]], found: CardInput) -> dict[str, Any]:
    _cross_variant_fixes(cards)
    return {"card_version": CARD_VERSION, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "tool": {"name": "edgebench", "version": __version__, "host_onnxruntime": _installed_ort()},
            "source": {"path": str(found.source) if found.source else None, "format": found.source_format},
            "skipped": found.skipped, "cards": cards}


def write_card(doc: dict[str, Any], out: Path) -> tuple[Path, Path]:
    from edgebench.reports.card.markdown import render_card_md

    out.mkdir(parents=True, exist_ok=True)
    js = write_text_atomic(out / CARD_FILE, json.dumps(doc, indent=1, default=str))
    md = write_text_atomic(out / CARD_MD, render_card_md(doc))
    return js, md
