"""The onnx-rewrite pass: rules applied one by one, each kept only when its outputs are proved equal to the source's
on the evaluation inputs; a rule that is not equivalent is caught by that check and dropped, never shipped."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgebench.optimizers.artifacts import Artifact, sha256_path
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.errors import PassSkipped
from edgebench.optimizers.rewrites.apply import REPORT_FILE, report_for, rewrite
from edgebench.optimizers.rewrites.graph import Graph
from edgebench.optimizers.rewrites.rule import Rule


@pytest.fixture(scope="module")
def prelu_model(tmp_path_factory):
    from edgebench.optimizers.rewrites.sample_models import prelu_mobilenet

    path = tmp_path_factory.mktemp("prelu") / "prelu.onnx"
    onnx.save(prelu_mobilenet(size=32, widths=(8, 16, 16)), str(path))
    x = np.random.default_rng(3).standard_normal((20, 3, 32, 32)).astype(np.float32)
    return Artifact(str(path), sha256_path(path), None, "source", {}), CalibrationSet({"image": x}, "user", "test")


def _prelu_to_relu(graph: Graph) -> int:
    """Not equivalent: drops the negative branch."""
    count = 0
    for node in graph.g.node:
        if node.op_type == "PRelu":
            node.op_type = "Relu"
            del node.input[1:]
            count += 1
    return count


def _max_to_min(graph: Graph) -> int:
    """Not equivalent: turns the prelu rule's Max into a Min."""
    nodes = [n for n in graph.g.node if n.op_type == "Max"]
    for node in nodes:
        node.op_type = "Min"
    return len(nodes)


def test_prelu_model_is_rewritten_and_proved_bit_identical(prelu_model):
    model, data = prelu_model
    art = rewrite(model, data)
    assert art.pass_name == "onnx-rewrite" and art.parent == model.sha256
    assert art.notes == ["rule prelu: 5 match(es), 13 -> 18 nodes; proved bit-identical on 20 evaluation samples "
                         "(1 output)"]
    out = onnx.load(art.path)
    onnx.checker.check_model(out)
    assert {n.op_type for n in out.graph.node} == {"Conv", "Mul", "Max", "GlobalAveragePool", "Flatten", "Gemm"}
    assert all(n.domain == "" for n in out.graph.node) and [o.domain for o in out.opset_import] == [""]
    report = report_for(art.path)
    assert report is not None and report["proof"]["bit_identical"] and report["proof"]["samples"] == 20
    assert report["rules"] == [dict(report["rules"][0], rule="prelu", matches=5, shipped=True)]
    assert art.settings["proof_data"]["sha256"] == data.fingerprint()  # other data, another proof, another file
    again = rewrite(model, data)
    assert again.reused and again.sha256 == art.sha256 and again.notes == art.notes


def test_a_rule_that_is_not_equivalent_is_dropped_and_never_shipped(prelu_model):
    model, data = prelu_model
    wrong = Rule("max-to-min", "deliberately wrong", ("Max",), _max_to_min)
    art = rewrite(model, data, extra_rules=[wrong])
    assert len(art.notes) == 2 and art.notes[0].startswith("rule prelu: 5 match(es)")
    assert art.notes[1].startswith("rule max-to-min: 5 match(es), 18 -> 18 nodes; DROPPED, not shipped: outputs NOT "
                                   "within 1e-06 relative on 20 evaluation samples")
    assert "Min" not in {n.op_type for n in onnx.load(art.path).graph.node}
    report = json.loads((Path(art.path).parent / REPORT_FILE).read_text())
    dropped = report["rules"][1]
    assert not dropped["shipped"] and not dropped["proof"]["ok"] and dropped["proof"]["max_rel_diff"] > 1e-3
    assert report["proof"]["bit_identical"]  # the shipped model's proof is the last rule that passed


def test_nothing_shipped_when_no_rule_matches_or_every_match_fails(prelu_model):
    model, data = prelu_model
    with pytest.raises(PassSkipped, match="no rewrite rule matches this graph"):
        rewrite(model, data, rules=["transpose", "clip"])
    wrong = Rule("prelu-to-relu", "deliberately wrong", ("PRelu",), _prelu_to_relu)
    with pytest.raises(PassSkipped, match="every matching rewrite failed its proof.*DROPPED"):
        rewrite(model, data, rules=["clip"], extra_rules=[wrong])


def test_run_trigger_decides_on_the_profiled_share():
    from edgebench.benchmarks.run.rewrite_stage import decide

    operators = [{"op_type": "PRelu", "share": 0.62}, {"op_type": "Conv", "share": 0.35},
                 {"op_type": "Transpose", "share": 0.03}]
    assert decide({"prelu": 9}, operators, 0.1) == (
        True, "onnx-rewritten added: PRelu took 62% of ONNX Runtime node time in a one-shot profile of onnx-fp32 "
              "(rules matching: prelu x9; threshold 10%)")
    build, why = decide({"transpose": 2}, operators, 0.1)
    assert not build and why.startswith("onnx-rewritten not built: Transpose took 3%")
    assert decide({}, operators, 0.1) == (False, "no rewrite rule matches onnx-fp32: onnx-rewritten not built")


@pytest.mark.parametrize("table, message", [
    ("[optimization]\nrewrite_threshold = 2", "rewrite_threshold must be a share of time between 0 and 1"),
    ("[optimization]\nrewrite_rules = [\"prelu\", \"nope\"]", "rewrite_rules must be a non-empty list of: transpose"),
    ("[quantization.onnx_static]\nsource = \"onnx-simplified\"", "source must be one of onnx-fp32, onnx-rewritten"),
])
def test_profile_rewrite_settings_are_checked(tmp_path, table, message):
    from edgebench.hardware_profiles import ProfileError, load_profile

    path = tmp_path / "p.toml"
    path.write_text(f'name = "p"\ntarget_arch = "x86_64"\n{table}\n')
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_static_quantization_of_the_rewritten_graph(prelu_model):
    """`source = "onnx-rewritten"` in a static candidate: rewrite first, then quantize; the lineage says both."""
    from edgebench.benchmarks.variants.data import DataSet
    from edgebench.benchmarks.variants.sources import ModelSource
    from edgebench.benchmarks.variants.specs import BuildContext
    from edgebench.hardware_profiles import parse_profile

    model, data = prelu_model
    profile = parse_profile({"name": "p", "target_arch": "x86_64", "variants": {"build": ["onnx-static-int8"]},
                             "quantization": {"calibration_samples": 8, "onnx_static": [
                                 {"name": "rw", "source": "onnx-rewritten", "format": "QOperator",
                                  "activation_type": "uint8", "weight_type": "int8", "pre_process": False}]}}, "test")
    path = Path(model.path)
    source = ModelSource(path, "onnx", "prelu", model.sha256, path.stat().st_size)
    ctx = BuildContext(source, profile, DataSet([data.arrays["image"]], None, "user", "test"), input_names=["image"])
    art = ctx.variant("onnx-static-int8-rw")
    assert [a["pass"] for a in ctx.lineage(art)] == ["source", "onnx-rewrite", "ort-static-quant"]
    ops = {n.op_type for n in onnx.load(art.path).graph.node}
    assert "PRelu" not in ops and "QLinearConv" in ops


def test_a_rule_over_the_bound_is_dropped_and_the_exact_rule_takes_its_nodes(tmp_path):
    """prelu-leaky is within 1e-6 but not bit-identical: asked for bit-identical outputs (rtol 0) the pass drops it
    and `prelu` rewrites the same nodes exactly; with the default bound LeakyRelu ships."""
    from edgebench.optimizers.rewrites.sample_models import prelu_mobilenet

    path = tmp_path / "one-slope.onnx"
    onnx.save(prelu_mobilenet(size=32, widths=(8, 16), one_slope=0.2), str(path))
    model = Artifact(str(path), sha256_path(path), None, "source", {})
    x = np.random.default_rng(4).standard_normal((8, 3, 32, 32)).astype(np.float32) * 4
    data = CalibrationSet({"image": x}, "user", "test")
    loose = rewrite(model, data)
    if report_for(loose.path)["proof"]["bit_identical"]:
        pytest.skip("this ONNX Runtime rounds LeakyRelu exactly as PRelu: nothing to drop")
    assert [e["rule"] for e in report_for(loose.path)["rules"]] == ["prelu-leaky"]
    assert "proved within 1e-06 relative" in loose.notes[0]
    exact = rewrite(model, data, rtol=0.0)
    assert "DROPPED, not shipped" in exact.notes[0] and exact.notes[0].startswith("rule prelu-leaky: 3 match(es)")
    assert exact.notes[1].startswith("rule prelu: 3 match(es)") and "proved bit-identical" in exact.notes[1]
    assert "LeakyRelu" not in {n.op_type for n in onnx.load(exact.path).graph.node}


@pytest.mark.slow
def test_keras_prelu_through_tf2onnx_is_rewritten_exactly(tmp_path):
    """The rules against the converter's real output: a Keras PReLU whose alpha is per pixel and channel reaches ONNX
    as Relu/Neg/Relu/Mul/Add with Transposes around the Mul; `transpose` then `keras-prelu` rewrite all of it."""
    import subprocess
    import sys

    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 3), name="image")
    x = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3))(keras.layers.Conv2D(8, 3)(inp))
    x = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.05, 0.3))(keras.layers.Conv2D(8, 1)(x))
    keras.Model(inp, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))).export(str(tmp_path / "sm"),
                                                                                         verbose=False)
    path = tmp_path / "keras-prelu.onnx"
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(tmp_path / "sm"), "--output",
                    str(path), "--opset", "17"], check=True, capture_output=True)
    data = CalibrationSet({"image": np.random.default_rng(6).uniform(-3, 3, (16, 12, 12, 3)).astype(np.float32)},
                          "user", "test")
    art = rewrite(Artifact(str(path), sha256_path(path), None, "source", {}), data)
    report = report_for(art.path)
    assert [(e["rule"], e["matches"], e["shipped"]) for e in report["rules"]] == [("transpose", 2, True),
                                                                                  ("keras-prelu", 2, True)]
    assert report["proof"]["bit_identical"]
    ops = [n.op_type for n in onnx.load(art.path).graph.node]
    assert ops.count("Max") == 2 and not {"Neg", "Relu"} & set(ops) and ops.count("Transpose") == 1  # the input's
