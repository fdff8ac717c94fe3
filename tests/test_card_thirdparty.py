"""`bench card` on files shaped like third-party exports (card_models stand-ins): Constant nodes are no missing kernel
in any release, symbolic dims get sizes from the model's hints (never an invented 1x1 image), every static FAILS
names its evidence, the answer line is read back from the rows, and no failure of the card's own runs is a traceback.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from card_models import classifier_onnx, fp16_onnx, paddle_style_onnx, reshape_hw_onnx, yolo_head_onnx
from conftest import run_bench


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("third-party")
    return {"paddle": paddle_style_onnx(root / "paddle.onnx"), "reshape": reshape_hw_onnx(root / "reshape.onnx"),
            "yolo": yolo_head_onnx(root / "yolo.onnx"), "op21": classifier_onnx(root / "op21.onnx", 21, 10),
            "fp16": fp16_onnx(root / "fp16.onnx")}


def _static_rows(path: Path) -> list[dict]:
    from edgebench.benchmarks.card.matrix import build_matrix
    from edgebench.benchmarks.card.model_facts import read_model
    from edgebench.benchmarks.card.releases import MLNET

    return build_matrix(read_model(path), list(MLNET), "v", [], [])


def test_every_shipped_release_resolves_constant_before_kernels():
    """Probed in each real release (resolved_probes): every Constant version up to its opset loads without a kernel."""
    from onnx import defs

    from edgebench.benchmarks.card.registry import load_registry, shipped_versions
    for version in shipped_versions():
        reg = load_registry(version)
        got = reg["resolved_before_kernels"]["resolved"]["ai.onnx"]["Constant"]
        want = {s.since_version for s in defs.get_all_schemas_with_history() if s.name == "Constant" and not s.domain
                and s.since_version <= reg["max_opset"]["ai.onnx"]}
        assert want <= set(got), version
        assert "Constant" not in reg["resolved_before_kernels"]["no_kernel"].get("ai.onnx", {}), version


def test_paddle_style_constants_load_in_every_release_statically(models):
    from edgebench.benchmarks.card.matrix import answer, answer_agrees
    rows = _static_rows(models["paddle"])
    assert all(r["ok"] for r in rows), [r["problems"] for r in rows]
    text = answer(rows)
    assert text.startswith("loads in every ML.NET release") and answer_agrees(text, rows)


def test_every_static_fails_names_its_evidence(models):
    failing = [r for m in ("op21", "fp16") for r in _static_rows(models[m]) if r["ok"] is False]
    assert failing
    for row in failing:
        assert row["problems"] and all(p.get("evidence") for p in row["problems"]), row["problems"]


def test_answer_line_is_read_from_the_rows():
    from edgebench.benchmarks.card.matrix import answer, answer_agrees, claimed_loading

    def rows(*oks):
        return [{"key": f"mlnet-{v}", "label": f"ML.NET {v}.x", "ok": ok, "problems": [{"text": "x"}] if not ok else []}
                for v, ok in zip(("2.0", "3.0", "4.0", "5.0"), oks)]
    for oks in [(True,) * 4, (False, True, True, True), (False, True, True, False), (False,) * 4,
                (True, False, True, False), (None, True, True, True)]:
        text = answer(rows(*oks))
        assert answer_agrees(text, rows(*oks)), (oks, text)
    assert claimed_loading(answer(rows(False, True, True, False)), rows(False, True, True, False)) == \
        {"mlnet-3.0", "mlnet-4.0"}


def test_symbolic_dims_come_from_the_model_and_are_never_an_invented_1x1(models):
    import onnx

    from edgebench.benchmarks.card.iocontract import io_contract
    from edgebench.benchmarks.card.shapes import card_shapes

    def chosen(path: Path, overrides=None) -> dict:
        model = onnx.load(str(path))
        return card_shapes(model, io_contract(model)["inputs"], overrides)
    assert chosen(models["paddle"])["x"]["shape"] == [1, 3, 224, 224]
    yolo = chosen(models["yolo"])["images"]
    assert yolo["shape"] == [1, 3, 640, 640] and "detector" in yolo["origin"]  # stride metadata: a detector
    given = chosen(models["reshape"], {"x": [1, 3, 32, 64]})["x"]
    assert given == {"shape": [1, 3, 32, 64], "origin": "--input-shape"}
    ocr = onnx.load(str(models["paddle"]))  # a text-line recogniser: H fixed at 48, W symbolic
    ocr.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 48
    assert card_shapes(ocr, io_contract(ocr)["inputs"])["x"]["shape"] == [1, 3, 48, 320]
    ocr.metadata_props.add(key="imgsz", value="[48, 256]")
    assert card_shapes(ocr, io_contract(ocr)["inputs"])["x"]["shape"] == [1, 3, 48, 256]


@pytest.mark.parametrize("args, message", [
    (["--input-shape", "nope=1,3,8,8"], "names input 'nope', which the model does not have"),
    (["--input-shape", "x=1,3,8"], "does not fit the model's input 'x'"),
    (["--input-shape", "x=1,3,0,8"], "every dimension must be a positive integer"),
])
def test_bad_input_shape_is_one_line(models, tmp_path, args, message):
    proc = run_bench("card", str(models["reshape"]), *args, "--static", "--quiet", "--out", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and message in proc.stderr, proc.stderr


def test_a_model_the_card_cannot_run_gives_a_note_not_a_traceback(models, tmp_path):
    """A 1x1 image makes the YOLOv8-style Concat fail ('Non concat axis dimensions must match'): the golden vector
    becomes a note, the card is written."""
    proc = run_bench("card", str(models["yolo"]), "--input-shape", "images=1,3,2,2", "--static", "--quiet",
                     "--out", str(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    card = json.loads((tmp_path / "card.json").read_text())["cards"][0]
    assert card["golden"]["file"] is None and "--input-shape" in card["golden"]["note"]


@pytest.mark.slow
def test_stand_ins_load_tested_by_default_with_the_shapes_stated(models, tmp_path):
    """No --input-shape: every row is load-tested (cached environments, made on first use) on the shapes the card
    chose, and each load test passes where the runtime loads the model: the static verdicts agree."""
    for name in ("paddle", "reshape", "yolo"):
        out = tmp_path / name
        proc = run_bench("card", str(models[name]), "--out", str(out))
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        card = json.loads((out / "card.json").read_text())["cards"][0]
        rows = {r["key"]: r for r in card["rows"]}
        if any("cannot be reached" in (r.get("load_test") or {}).get("detail", "") for r in rows.values()):
            pytest.skip("offline: the package index cannot be reached")
        tested = [r for r in rows.values() if r["checked"] == "load-tested"]
        assert tested and all(not r.get("disagreement") for r in tested), [r["notes"] for r in tested]
        assert all(r["ok"] for k, r in rows.items() if k != "mlnet-2.0" or name != "yolo")
        md = (out / "card.md").read_text()
        assert "Inputs the load tests and the golden vector used:" in md and "chosen here" in md
        gold = card["golden"]  # a 640x640 image is more values than a golden JSON file holds: said instead
        assert gold["file"] or "no golden vector written (limit" in gold["note"], gold
