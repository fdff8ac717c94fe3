"""Models as they are exported (issue 25): stand-ins from edgebench.benchmarks.selfcheck.exported_models."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import load_results, run_bench

from edgebench.benchmarks.selfcheck.exported_models import bert_like, constant_weights, paddle_style, with_if
from edgebench.optimizers.converter_log import REASON_CHARS, first_error

ONNX2TF_BANNER = ("ERROR: Read this and deal with it. https://github.com/PINTO0309/onnx2tf#parameter-replacement\n"
                  "ERROR: Also, for models that include NonMaxSuppression in the post-processing, try the -onwdt "
                  "option.\n")


def test_the_reason_is_the_first_real_error_with_its_node_not_the_banner_nor_a_path():
    log = ("ERROR: The trace log is below.\nTraceback (most recent call last):\n  File \"/usr/lib/x.py\", line 3\n"
           "ValueError: Dimension -1 must be >= 0\nERROR: input_onnx_file_path: /tmp/abc/model.onnx\n"
           "ERROR: onnx_op_name: node7_Concat\n" + ONNX2TF_BANNER)
    exc = ValueError("Dimension -1 must be >= 0 in /home/user/.cache/thing/model.onnx")
    why = first_error(exc, log, {"node7_Concat": "/model.22/Concat"})
    assert why.startswith("ONNX Concat node '/model.22/Concat': ValueError: Dimension -1 must be >= 0")
    assert "/home" not in why and "-onwdt" not in why and len(why) <= REASON_CHARS
    assert first_error(SystemExit(1), "ERROR: Unsupported op: BitwiseNot\n" + ONNX2TF_BANNER, None) == \
        "Unsupported op: BitwiseNot"
    assert len(first_error(RuntimeError("x" * 1000), "")) == REASON_CHARS


def test_paddle_dims_are_set_in_the_graph(tmp_path):
    import onnx
    import onnxruntime as ort

    from edgebench.optimizers.onnx_static import make_static
    path, _ = paddle_style(tmp_path / "p.onnx")
    model, notes = make_static(onnx.load(str(path)), {"x": [1, 3, 24, 24]})
    (x,) = model.graph.input
    assert [d.dim_value for d in x.type.tensor_type.shape.dim] == [1, 3, 24, 24]
    assert [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim] == [1, 4]  # inferred again
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": np.ones((1, 3, 24, 24), np.float32)})
    assert y.shape == (1, 4) and any("onnxsim" in n for n in notes)


def test_an_open_batch_axis_stays_symbolic_and_a_fixed_one_stays_fixed(tmp_path):
    """Every other dim static, the batch axis the source leaves open symbolic: the file still runs a batch of two."""
    import onnx
    import onnxruntime as ort

    from edgebench.optimizers.onnx_static import make_static
    path, _ = paddle_style(tmp_path / "p.onnx")
    model, notes = make_static(onnx.load(str(path)), {"x": [1, 3, 24, 24]}, {"x": 0})
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 24, 24]
    assert "batch axis kept symbolic: x" in notes[0]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert sess.run(None, {"x": np.ones((2, 3, 24, 24), np.float32)})[0].shape == (2, 4)
    fixed, _ = make_static(onnx.load(str(path)), {"x": [1, 3, 24, 24]})  # a source whose batch is fixed at 1...
    again, notes = make_static(fixed, {"x": [1, 3, 24, 24]}, {"x": 0})
    assert again.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1  # ...is not reopened
    assert "kept symbolic" not in notes[0]


def test_constant_weights_become_initializers_so_ort_dynamic_quantization_accepts_them(tmp_path, monkeypatch):
    from edgebench.optimizers.artifacts import Artifact, sha256_path
    from edgebench.optimizers.onnx_hygiene import weights_as_initializers, weights_through_nodes
    from edgebench.optimizers.onnx_quant import DynamicOptions, dynamic_quantize
    monkeypatch.setenv("EDGEBENCH_CACHE", str(tmp_path / "cache"))
    path, _ = constant_weights(tmp_path / "c.onnx")
    src = Artifact(str(path), sha256_path(path), None, "source", {})
    fixed = weights_as_initializers(src)
    assert weights_through_nodes(str(path)) == 3 and weights_through_nodes(fixed.path) == 0
    assert any("initializers" in n for n in fixed.notes)
    quantized = dynamic_quantize(fixed, DynamicOptions())
    assert any("1 of 1" in n for n in quantized.notes)


@pytest.mark.slow
def test_a_failed_conversion_names_the_op_in_one_line_and_keeps_the_log(tmp_path):
    path, _ = with_if(tmp_path / "if.onnx")
    out = tmp_path / "run"
    proc = run_bench("run", str(path), "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32",
                     "--out", str(out), env={"EDGEBENCH_ONNX2TF_FALLBACK": "0"})
    doc = load_results(out)
    (rec,) = [r for r in doc["results"] if r["variant"] == "tflite-fp32"]
    assert rec["status"] == "failed" and "\n" not in rec["error"], proc.stderr
    m = re.fullmatch(r"conversion failed: (.*) \(full log: logs/tflite-fp32\.log\)", rec["error"])
    assert m and len(m.group(1)) <= REASON_CHARS and "If node 'branch'" in m.group(1)
    assert not re.search(r"/(tmp|home|root|usr)/", rec["error"]) and "-onwdt" not in rec["error"]
    log = (out / "logs" / "tflite-fp32.log").read_text()
    assert "onnx_op_name" in log and len(log) > 10 * len(rec["error"])  # the converter's whole output
    assert all(r["status"] == "ok" for r in doc["results"] if r["runtime"] == "onnxruntime")


@pytest.mark.slow
def test_a_lossy_default_conversion_is_retried_and_the_record_says_so(tmp_path):
    path, flags = bert_like(tmp_path / "bert.onnx")
    out = tmp_path / "run"
    proc = run_bench("run", str(path), *flags, "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (rec,) = [r for r in load_results(out)["results"] if r["runtime"] == "litert"]
    assert rec["accuracy"]["cosine"] > 0.9999 and rec["accuracy_budget"]["ok"]
    assert any("kept the retry" in n for n in rec["pass_notes"])


@pytest.mark.slow  # a TFLite conversion and a whole run
def test_a_tflite_with_convolution2d_transpose_bias_reaches_onnx_runtime(tmp_path):
    """MediaPipe's custom op (LiteRT runs it only through XNNPACK) becomes ConvTranspose with its bias: the ONNX
    file matches the source .tflite on LiteRT, and the record names the op."""
    import onnx

    from edgebench.benchmarks.selfcheck.tflite_stand_ins import tflite_conv_transpose_bias
    from edgebench.optimizers.tflite_custom_ops import custom_ops

    src = tflite_conv_transpose_bias(tmp_path / "seg.tflite")
    assert custom_ops(src) == ["Convolution2DTransposeBias"]
    out = tmp_path / "seg"
    proc = run_bench("run", str(src), "--fast", "--threads", "1", "--variants", "tflite-fp32,onnx-fp32", "--out",
                     str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    by_variant = {r["variant"]: r for r in doc["results"] if r["settings_label"] != "arena-off"}
    onnx_rec = by_variant["onnx-fp32"]
    assert onnx_rec["status"] == "ok" and onnx_rec["accuracy"]["max_abs_error"] < 1e-4
    assert any("Convolution2DTransposeBias (1 node(s))" in n for n in onnx_rec["pass_notes"])
    ops = {n.op_type for n in onnx.load(onnx_rec["artifact"]["path"]).graph.node}
    assert "ConvTranspose" in ops
