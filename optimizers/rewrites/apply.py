"""The `onnx-rewrite` pass: apply the rule library to an ONNX model, rule by rule, and keep a rule's changes only
when the rewritten model's outputs equal the source's on the evaluation inputs (edgebench.optimizers.rewrites.proof).
A rule that fails its proof is dropped with a note and never shipped. What fired, how many nodes each rule rewrote
and the proof figures go to `rewrites.json` beside the model and into the artifact's notes."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.optimizers.artifacts import Artifact, cached
from edgebench.optimizers.convert import ConversionError, tool_versions
from edgebench.optimizers.errors import PassSkipped
from edgebench.optimizers.rewrites.proof import RTOL, compare, in_words, run_outputs, summary
from edgebench.optimizers.rewrites.rule import Rule
from edgebench.optimizers.rewrites.rules import pick

if TYPE_CHECKING:
    import onnx

    from edgebench.optimizers.calibration import CalibrationSet

PASS_NAME = "onnx-rewrite"
REPORT_FILE = "rewrites.json"


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnx
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def _try_rule(rule: Rule, current: onnx.ModelProto, reference: dict[str, Any], data: CalibrationSet,
              rtol: float) -> tuple[onnx.ModelProto | None, dict[str, Any]]:
    """(the model with the rule applied, or None when it fails its proof; what happened)."""
    import onnx

    from edgebench.optimizers.rewrites.graph import Graph

    candidate = _copy(current)
    nodes_before = len(candidate.graph.node)
    count = rule.fire(Graph(candidate))
    entry: dict[str, Any] = {"rule": rule.name, "matches": count, "nodes_before": nodes_before,
                             "nodes_after": len(candidate.graph.node)}
    if not count:
        return None, entry
    try:
        onnx.checker.check_model(candidate)
        proof = summary(compare(reference, run_outputs(candidate, data), rtol), data.samples)
    except Exception as exc:  # a rule that makes an invalid or unloadable graph is dropped like a wrong one
        from edgebench.results.errors import one_line
        proof = {"ok": False, "error": one_line(exc, 200)}
    entry["proof"] = proof
    return (candidate if proof["ok"] else None), entry


def _note(entry: dict[str, Any], rtol: float) -> str:
    proof = entry["proof"]
    what = f"rule {entry['rule']}: {entry['matches']} match(es), {entry['nodes_before']} -> {entry['nodes_after']} nodes"
    if proof["ok"]:
        return f"{what}; proved {in_words(proof, rtol)}"
    why = proof.get("error") or in_words(proof, rtol)
    return f"{what}; DROPPED, not shipped: outputs {why}"


def rewrite(model: Artifact, data: CalibrationSet, rules: Sequence[str] | None = None, rtol: float = RTOL,
            extra_rules: Sequence[Rule] = ()) -> Artifact:
    """The rewritten model, or PassSkipped when no rule matches or every rule that matched failed its proof.

    `extra_rules` run after the library's (tests inject a rule that is not equivalent, to see it dropped)."""
    chosen = pick(list(rules) if rules is not None else None) + list(extra_rules)
    settings = {"rules": [r.name for r in chosen], "rtol": rtol, "proof_data": data.settings(),
                "tool": tool_versions("onnx", "onnxruntime", "edgebench")}  # a new rule library, a new file

    def run(out: Path) -> list[str]:
        import onnx
        source = onnx.load(model.path)
        reference = run_outputs(source, data)
        current, entries = source, []
        for rule in chosen:
            kept, entry = _try_rule(rule, current, reference, data, rtol)
            if entry["matches"]:
                entries.append(dict(entry, shipped=kept is not None))
            current = kept or current
        if not any(e["shipped"] for e in entries):
            raise PassSkipped(_nothing(entries, rtol))
        onnx.save(current, str(out))
        report = {"source_nodes": len(source.graph.node), "nodes": len(current.graph.node), "rules": entries,
                  "proof": next(e["proof"] for e in reversed(entries) if e["shipped"]), "rtol": rtol}
        out.with_name(REPORT_FILE).write_text(json.dumps(report, indent=1))
        return [_note(e, rtol) for e in entries]

    try:
        return cached(model.sha256, PASS_NAME, settings, "model.onnx", run)
    except (PassSkipped, ConversionError):
        raise
    except Exception as exc:
        from edgebench.results.errors import one_line
        raise ConversionError(f"graph rewrite failed: {one_line(exc)}") from None


def _nothing(entries: list[dict[str, Any]], rtol: float) -> str:
    if not entries:
        return "no rewrite rule matches this graph (nothing to rewrite)"
    return "every matching rewrite failed its proof and was dropped: " + "; ".join(_note(e, rtol) for e in entries)


def report_for(artifact_path: str | Path) -> dict[str, Any] | None:
    """The rewrites.json beside a rewritten model, or None for a model made by another pass."""
    path = Path(artifact_path).with_name(REPORT_FILE)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None
