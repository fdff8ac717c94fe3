"""card.json as markdown (card.md) and as the few lines `bench card` prints: the answer first, then the detail."""
from __future__ import annotations

import re
from typing import Any

from edgebench.reports.card.csharp import csharp


def _shape(shape: list[Any]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _status(row: dict[str, Any]) -> str:
    return "?" if row["ok"] is None else "loads" if row["ok"] else "FAILS"


def matrix_rows(card: dict[str, Any]) -> list[list[str]]:
    """[target, onnxruntime, limits, result, how checked, reason / fix] per row (shared with the HTML card)."""
    out = []
    for r in card["rows"]:
        lim = r.get("limits") or {}
        why = "; ".join(p["text"] for p in r["problems"][:3]) + (
            f" (+{len(r['problems']) - 3} more)" if len(r["problems"]) > 3 else "")
        fix = " | fix: " + " / ".join(r["fixes"]) if r.get("fixes") else ""
        lt = r.get("load_test") or {}
        how = r["checked"] + (f" (max abs diff {lt['max_abs_diff']:.2g})" if "max_abs_diff" in lt else "")
        out.append([r["label"], f">= {r['ort']}" if r.get("mlnet") else r["ort"],
                    f"IR {lim.get('max_ir_version', '?')}, opset {lim.get('max_opset', '?')}", _status(r), how,
                    (why + fix) or "-"])
    return out


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    def cell(v: str) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(cell(c) for c in r) + " |" for r in rows]


def _io(card: dict[str, Any]) -> list[str]:
    rows = []
    for kind in ("inputs", "outputs"):
        for t in card["io"][kind]:
            rows.append([kind[:-1], f"`{t['name']}`", t["dtype"], _shape(t["shape"]),
                         str(t["batch_axis"]) if t["batch_axis"] is not None else "-", t["layout"] or "-",
                         _shape(t["ml_shape"]), "yes" if t["needs_shape_dictionary"] else "no",
                         t.get("meaning", "")])
    out = _table(["", "name", "dtype", "shape", "batch axis", "layout", "ML.NET shape", "shapeDictionary",
                  "meaning"], rows)
    out.append("")
    out.append("ML.NET fixes an unknown batch dimension to 1; more than one unknown dimension needs shapeDictionary.")
    if card["io"]["renames"]:
        pairs = ", ".join(f"`{a}` -> `{b}`" for a, b in card["io"]["renames"].items())
        ins = ",".join(b for a, b in card["io"]["renames"].items() if a in {t["name"] for t in card["io"]["inputs"]})
        out.append(f"Cleaner names ({pairs}): re-export with tf2onnx `--rename-inputs {ins or '...'}` / "
                   "`--rename-outputs ...`, or `bench card MODEL --rename`."
                   + (f" Written: `{card['renamed']['file']}`." if card.get("renamed") else ""))
    return out


def _pre(card: dict[str, Any]) -> list[str]:
    pre = card.get("preprocess") or {}
    out = [f"From: {pre.get('origin') or 'nothing in the model'}."]
    if pre.get("note"):
        out.append(pre["note"] + ".")
    if "mean" in pre:
        out.append(f"Normalization: (x - mean) / std with mean {pre['mean']}, std {pre['std']}; layout "
                   f"{pre.get('layout') or '?'}; image {pre.get('image') or '?'}.")
    ml = pre.get("mlnet")
    if ml and ml.get("expressible"):
        out.append(f"ML.NET: ExtractPixels(interleavePixelColors: {str(ml['interleavePixelColors']).lower()}, "
                   f"offsetImage: {ml['offsetImage']}, scaleImage: {ml['scaleImage']}, outputAsFloatArray: true) "
                   f"= {ml['formula']}; ResizeImages with ResizingKind.Fill (the default IsoCrop center-crops).")
    elif ml:
        out.append(f"ML.NET cannot express this in ExtractPixels: {ml['instead']}.")
    if pre.get("labels"):
        out.append("Label files: " + ", ".join(f"`{f['name']}` ({f['type']})" for f in pre["labels"]) +
                   (f"; packed in the .tflite: {', '.join(pre.get('packed_files') or []) or 'none'}" ))
    return out


def card_md(card: dict[str, Any]) -> list[str]:
    cs = csharp(card)
    out = [f"## {card['variant']} (`{card['file']}`)", "", f"**{card['answer']}**", "",
           f"IR {card['ir_version']}, opsets " + ", ".join(f"{d} {v}" for d, v in sorted(card["opsets"].items())) +
           f", {card['op_count']} nodes. sha256 `{card['sha256'][:16]}...`", "", "### Compatibility", ""]
    out += _table(["target", "onnxruntime", "its limits", "result", "checked", "reason / fix"], matrix_rows(card))
    notes = [f"{r['label']}: {n}" for r in card["rows"] for n in r.get("notes", [])]
    notes += [f"{r['label']} FAILS: {p['text']} (evidence: {p['evidence']})" for r in card["rows"] if r["ok"] is False
              for p in r["problems"] if p.get("evidence")]
    out += [""] + [f"- {n}" for n in notes]
    out += ["", "Inputs the load tests and the golden vector used:"] + [
        f"- `{name}` {_shape(s['shape'])}: {s['origin']}" for name, s in (card.get("shapes") or {}).items()]
    if card.get("fix"):
        f = card["fix"]
        out += ["", f"Fix for {f['target']}: {f['detail']}" + (f" -> `{f['file']}`: static check "
                                                                f"{'passes' if f.get('ok') else 'still fails'}"
                                                                if f.get("file") else "")]
    out += ["", "### I/O contract", ""] + _io(card) + ["", "### Pre-processing", ""] + _pre(card)
    out += ["", "### C#", "", "```xml", cs["packages"], "```", "", "```csharp", cs["mlnet"], "```", "",
            "Without ML.NET (onnxruntime's own API):", "", "```csharp", cs["session"], "```"]
    gold = card.get("golden")
    if gold:
        out += ["", "### Golden test vector", ""]
        out.append(f"`{gold['file']}`: inputs and this machine's onnxruntime {gold['onnxruntime']} outputs; assert "
                   f"every output value within {gold['tolerance']['abs']:.3g} ({gold['tolerance']['source']})."
                   if gold.get("file") else gold.get("note", ""))
    perf = card.get("performance")
    if perf:
        best = min((p for p in perf["latency"] if p.get("median_ms")), key=lambda p: p["median_ms"], default=None)
        if best:
            out += ["", "### Expected performance", "",
                    f"onnxruntime median {best['median_ms']:.3g} ms at {best['threads']} thread(s), batch "
                    f"{best['batch']} ({best.get('timing_scope') or '?'} timing). {perf['note']}."]
    out += ["", "### Pitfalls", ""] + [f"- `{p['error']}`: {p['cause']}. Fix: {p['fix']}." for p in card["pitfalls"]]
    return out


def render_card_md(doc: dict[str, Any]) -> str:
    lines = [f"# Deployment card (edgebench {doc['tool']['version']}, card_version {doc['card_version']})", "",
             f"Made {doc['created']}; host onnxruntime {doc['tool'].get('host_onnxruntime') or '?'}.", ""]
    lines += [f"- skipped {s}" for s in doc.get("skipped", [])]
    head, grid = overview(doc)
    lines += _table(head, grid) + ["", "\\* load-tested in that exact onnxruntime; else static (shipped kernel "
                                       "registries). Each variant's reasons and fixes follow."]
    for card in doc["cards"]:
        lines += [""] + card_md(card)
    return "\n".join(lines) + "\n"


def overview(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Variants x targets: "loads" / "FAILS" ("*" when load-tested), for the terminal and the HTML section."""
    cards = doc["cards"]
    keys: list[tuple[str, str]] = []
    for card in cards:
        for r in card["rows"]:
            if (r["key"], r["label"]) not in keys:
                keys.append((r["key"], r["label"]))
    rows = []
    for card in cards:
        by_key = {r["key"]: r for r in card["rows"]}
        cells = [card["variant"]]
        for key, _ in keys:
            r = by_key.get(key)
            cells.append("-" if r is None else _status(r) + ("*" if r["checked"] == "load-tested" else ""))
        rows.append(cells)
    return ["variant"] + [label.replace(".x", "") for _, label in keys], rows


def card_summary(doc: dict[str, Any]) -> str:
    """The answer per variant, then the variants x targets grid and the lines that need action (fits 100 columns)."""
    out = [f"{card['variant']}: {card['answer']}" for card in doc["cards"]]
    head, rows = overview(doc)
    width = max(len(r[0]) for r in [head, *rows]) + 2
    out.append("")
    for r in [head, *rows]:
        out.append((r[0].ljust(width) + "".join(c.replace("onnxruntime ", "ort ")[:12].ljust(13) for c in r[1:]))
                   .rstrip())
    out.append("(* load-tested in that exact onnxruntime; else static, from the shipped kernel registries)")
    out += [f"skipped {s}" for s in doc.get("skipped", [])]
    static: dict[str, list[str]] = {}
    for card in doc["cards"]:
        for raw in card["rows"]:
            lt = raw.get("load_test") or {}
            if lt.get("status") == "unavailable":  # an unreachable index: one line for every row it left static
                why = re.sub(r"onnxruntime==\S+", "onnxruntime", lt["detail"])
                static.setdefault(why, []).append(f"{card['variant']} / {raw['label']}")
            if raw.get("disagreement"):
                out.append(f"{card['variant']} / {raw['label']}: {raw['disagreement']}")
        chosen = [f"{n}={_shape(s['shape'])}" for n, s in (card.get("shapes") or {}).items()
                  if s["origin"].startswith("chosen")]
        if chosen:
            out.append(f"{card['variant']}: load tests ran on {', '.join(chosen)}, chosen from the model's hints "
                       "(see the card; --input-shape overrides)")
        fix = card.get("fix")
        if fix:
            verdict = "" if not fix.get("file") else \
                f" -> {fix['file']} (static check for {fix['target']}: {'passes' if fix.get('ok') else 'still fails'})"
            out.append(f"{card['variant']}: fix {fix['target']}: {fix['detail']}{verdict}")
    out += [f"{why}; static check only for {', '.join(rows)}" for why, rows in static.items()]
    return "\n".join(out)
