"""The compatibility matrix: one row per target, static from the shipped registries, load-tested on request."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.benchmarks.card.fixes import suggest
from edgebench.benchmarks.card.model_facts import ModelFacts
from edgebench.benchmarks.card.registry import load_registry, nearest_shipped
from edgebench.benchmarks.card.releases import Target
from edgebench.benchmarks.card.static_check import check


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def static_row(facts: ModelFacts, target: Target) -> dict[str, Any]:
    row: dict[str, Any] = dict(target.to_dict(), checked="static", notes=[])
    used = target.ort if load_registry(target.ort) else nearest_shipped(target.ort)
    registry = load_registry(used) if used else None
    if registry is None:
        return dict(row, ok=None, problems=[], registry=None,
                    notes=["no kernel registry is shipped: regenerate with make_registries"])
    if used != target.ort:
        row["notes"].append(f"no registry shipped for onnxruntime {target.ort}: checked against {used}'s "
                            "(nearest older shipped); --load-test checks the exact release")
    if registry.get("kernels_from"):
        row["notes"].append(f"onnxruntime {used} does not list its kernels: {registry['kernels_from']}'s, cut "
                            "to its opsets, each type probed in the real release where a probe model could be made")
    res = check(facts, registry)
    row.update(ok=res.ok, registry=used, problems=[p.to_dict() for p in res.problems],
               limits={"max_ir_version": registry.get("max_ir_version"),
                       "max_opset": registry.get("max_opset", {}).get("ai.onnx")},
               kernels_checked=res.kernels_checked)
    row["notes"] += res.notes
    return row


def build_matrix(facts: ModelFacts, targets: list[Target], variant: str | None, load_tests: list[str],
                 io_tensors: list[dict[str, Any]], progress: Any = None, tolerance: float = 1e-4
                 ) -> list[dict[str, Any]]:
    """Rows oldest runtime first. `load_tests`: the target keys to load-test (each in its exact onnxruntime)."""
    rows = [static_row(facts, t) for t in sorted(targets, key=lambda t: _vkey(t.ort))]
    for row in rows:
        if row["key"] not in load_tests:
            continue
        if progress:
            progress(f"load test in onnxruntime {row['ort']} (an isolated environment, made once and cached)")
        from edgebench.benchmarks.card.loadtest import load_test
        lt = load_test(Path(facts.path), io_tensors, row["ort"])
        row["load_test"] = lt
        if lt["status"] == "unavailable":
            row["notes"].append(lt["detail"] + "; static check only")
            continue
        row["checked"] = "load-tested"
        static_ok = row["ok"]
        portable = not any(p["kind"] == "portable" for p in row["problems"])
        # loading here proves nothing for NCHWc ops: this is the CPU that wrote them
        row["ok"] = lt["status"] == "passed" and portable
        if lt["status"] == "passed" and not portable:
            row["notes"].append("loaded and ran on this machine, whose CPU wrote its NCHWc ops: a CPU with another "
                                "vector width may not")
        if lt.get("max_abs_diff", 0.0) > tolerance:
            row["notes"].append(f"onnxruntime {row['ort']} loads it but its outputs differ from this machine's by "
                                f"up to {lt['max_abs_diff']:.3g} (more than {tolerance:.3g}): check accuracy there")
        if row["ok"] and not static_ok:  # a static problem the real runtime does not have
            row["notes"].append("the static check found problems, the real runtime loaded it: graph optimizations "
                                "or function expansion cover them")
        elif not row["ok"]:
            row["problems"].append({"kind": "load", "text": lt["detail"]})
    _mlnet_types(rows, io_tensors)
    host = _host_row(facts, targets)
    for i, row in enumerate(rows):
        if row["ok"] is False:
            newer = [r for r in rows[i + 1:] if r["ok"]] or ([host] if host and host["ok"] else [])
            row["fixes"] = suggest(row, newer, variant)
    return rows


def _mlnet_types(rows: list[dict[str, Any]], tensors: list[dict[str, Any]]) -> None:
    """ML.NET's OnnxTransformer maps each input/output to a .NET type: one it cannot map fails the ML.NET rows
    whatever onnxruntime does ("Unsupported ONNX scalar type: Float16")."""
    bad = [t for t in tensors if t.get("clr_type") is None]
    for row in rows:
        if not row["key"].startswith("mlnet-") or not bad:
            continue
        for t in bad:
            row["problems"].append({"kind": "mlnet-type", "text": f"Unsupported ONNX scalar type: "
                                    f"{t['dtype'].capitalize()} ('{t['name']}': ML.NET has no column type for it)"})
        row["ok"] = False


def _host_row(facts: ModelFacts, targets: list[Target]) -> dict[str, Any] | None:
    """This machine's onnxruntime, checked statically only to name it as a newer runtime that would load the model."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("onnxruntime")
    except PackageNotFoundError:
        return None
    if any(t.ort == v for t in targets) or load_registry(v) is None:
        return None
    return static_row(facts, Target(f"onnxruntime-{v}", f"onnxruntime {v} (static check)", v))


def _short_fix(fix: str) -> str:
    return fix.split(":")[0].split(" (")[0]


def answer(rows: list[dict[str, Any]]) -> str:
    """'loads in ML.NET 3.0+; ML.NET 2.0: ai.onnx opset 17 is newer than this runtime's 15 (fix: lower to ...)'.

    Failing rows with the same first reason and fix are named together; the table holds each row's full detail."""
    mlnet = [r for r in rows if r["key"].startswith("mlnet-")]
    parts = []
    if mlnet:
        tail = []
        for r in reversed(mlnet):
            if not r["ok"]:
                break
            tail.append(r)
        if len(tail) == len(mlnet):
            parts.append(f"loads in every ML.NET release checked ({mlnet[0]['label']} and later)")
        elif tail:
            parts.append(f"loads in {tail[-1]['label'].replace('.x', '')}+")
        else:
            parts.append("loads in no ML.NET release as it is")
    plain = [r for r in rows if not r["key"].startswith("mlnet-")]
    parts += [f"{r['label']}: {'loads' if r['ok'] else 'fails'}" for r in plain if r["ok"] is not None]
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r["ok"] is False and r["problems"]:
            first = r["problems"][0]["text"]
            more = f" (+{len(r['problems']) - 1} more)" if len(r["problems"]) > 1 else ""
            fix = f" (fix: {_short_fix(r['fixes'][0])})" if r.get("fixes") else ""
            groups.setdefault(f"{first}{more}{fix}", []).append(r["label"].replace(".x", ""))
    parts += [f"{', '.join(labels)}: {text}" for text, labels in groups.items()]
    return "; ".join(parts)
