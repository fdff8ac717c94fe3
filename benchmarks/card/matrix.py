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
                 io_tensors: list[dict[str, Any]], progress: Any = None, tolerance: float = 1e-4,
                 shapes: dict[str, dict[str, Any]] | None = None, data: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    """Rows oldest runtime first. `load_tests`: the target keys to load-test (each in its exact onnxruntime), on
    inputs of `shapes` (card.shapes) or the --data arrays."""
    rows = [static_row(facts, t) for t in sorted(targets, key=lambda t: _vkey(t.ort))]
    for row in rows:
        if row["key"] not in load_tests:
            continue
        from edgebench.benchmarks.card.loadtest import load_test_once
        try:
            lt = load_test_once(Path(facts.path), io_tensors, row["ort"], shapes, data, progress)
        except Exception as exc:  # noqa: BLE001 (the card's own run failing is a row note, never a traceback)
            from edgebench.results.errors import one_line
            lt = {"status": "unavailable", "detail": f"not load-tested: {type(exc).__name__}: {one_line(exc, 200)}"}
        _apply_load_test(row, lt, tolerance)
    _mlnet_types(rows, io_tensors)
    host = _host_row(facts, targets)
    for i, row in enumerate(rows):
        if row["ok"] is False:
            newer = [r for r in rows[i + 1:] if r["ok"]] or ([host] if host and host["ok"] else [])
            row["fixes"] = suggest(row, newer, variant)
    return rows


def _apply_load_test(row: dict[str, Any], lt: dict[str, Any], tolerance: float) -> None:
    row["load_test"] = lt
    if lt["status"] == "unavailable":
        row["checked"] = "static (offline)" if "cannot be reached" in lt["detail"] else "static"
        row["notes"].append(lt["detail"] + "; static check only")
        return
    row["checked"] = "load-tested"
    static_ok, static_problems = row["ok"], list(row["problems"])
    portable = not any(p["kind"] == "portable" for p in row["problems"])
    # loading here proves nothing for NCHWc ops: this is the CPU that wrote them
    loads = lt["status"] in ("passed", "loaded")
    row["ok"] = loads and portable
    if lt["status"] == "loaded":
        row["notes"].append(lt["detail"])
    if loads and not portable:
        row["notes"].append("loaded and ran on this machine, whose CPU wrote its NCHWc ops: a CPU with another "
                            "vector width may not")
    if lt.get("max_abs_diff", 0.0) > tolerance:
        row["notes"].append(f"onnxruntime {row['ort']} loads it but its outputs differ from this machine's by "
                            f"up to {lt['max_abs_diff']:.3g} (more than {tolerance:.3g}): check accuracy there")
    if loads:  # a static problem the real runtime does not have is no problem: kept as the disagreement's record
        row["problems"] = [p for p in row["problems"] if p["kind"] == "portable"]
    else:
        row["problems"].append({"kind": "load", "text": lt["detail"],
                                "evidence": f"load test in the real onnxruntime {row['ort']}"})
    if static_ok is not None and bool(static_ok) != loads:
        row["disagreement"] = disagreement(row["ort"], static_ok, static_problems, lt)
        row["notes"].append(row["disagreement"])


def disagreement(ort: str, static_ok: bool, problems: list[dict[str, Any]], lt: dict[str, Any]) -> str:
    """What the card says when its load test contradicts its static check: the shipped data are wrong there."""
    if static_ok:
        return (f"static check passed, the real onnxruntime {ort} did not ({lt['detail']}): the shipped registry "
                "misses this; the load test is the verdict")
    what = "; ".join(f"{p['text']}" for p in problems[:3])
    return (f"static check said FAILS ({what}), the real onnxruntime {ort} loaded it: the shipped registry is "
            "wrong for these ops (record them with resolved_probes); the load test is the verdict")


def _mlnet_types(rows: list[dict[str, Any]], tensors: list[dict[str, Any]]) -> None:
    """ML.NET's OnnxTransformer maps each input/output to a .NET type: one it cannot map fails the ML.NET rows
    whatever onnxruntime does ("Unsupported ONNX scalar type: Float16")."""
    bad = [t for t in tensors if t.get("clr_type") is None]
    for row in rows:
        if not row["key"].startswith("mlnet-") or not bad:
            continue
        for t in bad:
            row["problems"].append({"kind": "mlnet-type", "text": f"Unsupported ONNX scalar type: "
                                    f"{t['dtype'].capitalize()} ('{t['name']}': ML.NET has no column type for it)",
                                    "evidence": "ML.NET OnnxTransformer's type map (OnnxTypeParser) has no .NET type "
                                                f"for {t['dtype']}"})
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


def _labels(rows: list[dict[str, Any]]) -> str:
    return ", ".join(r["label"].replace(".x", "") for r in rows)


def answer(rows: list[dict[str, Any]]) -> str:
    """'loads in ML.NET 3.0+; ML.NET 2.0: ai.onnx opset 17 is newer than this runtime's 15 (fix: lower to ...)'.

    Computed from the rows' verdicts only (a row "loads" exactly when its ok is True); failing rows with the same
    first reason and fix are named together; the table holds each row's full detail."""
    mlnet = [r for r in rows if r["key"].startswith("mlnet-")]
    good = [r for r in mlnet if r["ok"]]
    unknown = [r for r in mlnet if r["ok"] is None]
    parts = []
    if mlnet and len(good) == len(mlnet):
        parts.append(f"loads in every ML.NET release checked ({mlnet[0]['label']} and later)")
    elif good and good == mlnet[len(mlnet) - len(good):]:
        parts.append(f"loads in {good[0]['label'].replace('.x', '')}+")
    elif good:
        parts.append(f"loads in {_labels(good)} only")
    elif mlnet:
        parts.append("loads in no ML.NET release checked" + (" as it is" if not unknown else ""))
    if unknown:
        parts.append(f"not checked: {_labels(unknown)}")
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


def claimed_loading(text: str, rows: list[dict[str, Any]]) -> set[str]:
    """The ML.NET row keys an answer line says load, read back from its first part."""
    mlnet = [r for r in rows if r["key"].startswith("mlnet-")]
    head = text.split(";")[0]
    if head.startswith("loads in every"):
        return {r["key"] for r in mlnet}
    if head.endswith("+"):
        first = next((i for i, r in enumerate(mlnet) if head == f"loads in {r['label'].replace('.x', '')}+"), None)
        return {r["key"] for r in mlnet[first:]} if first is not None else set()
    if head.endswith(" only"):
        named = {x.strip() for x in head[len("loads in "):-len(" only")].split(",")}
        return {r["key"] for r in mlnet if r["label"].replace(".x", "") in named}
    return set()


def answer_agrees(text: str, rows: list[dict[str, Any]]) -> bool:
    """The answer line names as loading exactly the ML.NET rows that load (the self-check and tests hold to it)."""
    return claimed_loading(text, rows) == {r["key"] for r in rows if r["key"].startswith("mlnet-") and r["ok"]}
