"""Each optimizer pass on tiny real models: the file it writes runs, says what changed, and is cached with lineage."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgebench.optimizers.artifacts import Artifact, sha256_path
from edgebench.optimizers.calibration import CalibrationSet
from edgebench.optimizers.convert import ConversionError

# --- helpers: run a file in its runtime, compare outputs ---------------------------------------------------------

def run_tflite(path: str, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert import interpreter as litert
    it = litert.Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    ys = []
    for i in range(len(x)):
        xi = x[i:i + 1]
        if inp["dtype"] != np.float32:
            scale, zero = inp["quantization"]
            xi = np.clip(np.round(xi / scale + zero), -128, 127).astype(inp["dtype"])
        it.set_tensor(inp["index"], xi)
        it.invoke()
        y = it.get_tensor(out["index"])
        if out["dtype"] != np.float32:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        ys.append(y.copy())
    return np.concatenate(ys)


def run_onnx(path: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).mean())


def op_types(path: str) -> set[str]:
    import onnx
    return {n.op_type for n in onnx.load(path).graph.node}


@pytest.fixture(scope="module")
def base(quant_models):
    """SavedModel, fp32 TFLite and fp32 ONNX of the quantizable classifier, plus calibration and check inputs."""
    from edgebench.optimizers.convert import keras_to_savedmodel, savedmodel_to_onnx, savedmodel_to_tflite
    sm = keras_to_savedmodel(quant_models["keras"])
    onnx_fp32 = savedmodel_to_onnx(sm.path, sm.sha256)
    with np.load(quant_models["data"]) as d:
        x = d["image"]
    return {"sm": sm, "tflite": savedmodel_to_tflite(sm.path, sm.sha256), "onnx": onnx_fp32,
            "x": x[32:], "cal": x[:32]}


def calib(arr: np.ndarray, name: str = "image") -> CalibrationSet:
    return CalibrationSet({name: arr}, "user", "test inputs")


# --- TFLite ---------------------------------------------------------------------------------------------------------

def test_tflite_float16_and_dynamic_range(base):
    from edgebench.optimizers.quant_stats import tflite_quant_stats
    from edgebench.optimizers.tflite_quant import dynamic_range_int8, float16

    ref = run_tflite(base["tflite"].path, base["x"])
    fp16 = float16(base["sm"].path, base["sm"].sha256)
    assert fp16.parent == base["sm"].sha256 and fp16.pass_name == "tflite-float16"
    assert fp16.notes == ["float16 weights: 3 of 3 Conv/MatMul/Gemm-like ops in float16"]
    assert os.path.getsize(fp16.path) < os.path.getsize(base["tflite"].path)
    assert cosine(run_tflite(fp16.path, base["x"]), ref) > 0.999

    dyn = dynamic_range_int8(base["sm"].path, base["sm"].sha256)
    # only the 4,608-weight Conv passes TFLite's 1,024-element threshold
    assert tflite_quant_stats(dyn.path).reduced_ops == 1
    assert dyn.notes == ["partly quantized: 1 of 3 Conv/MatMul/Gemm-like ops in int8"]
    assert cosine(run_tflite(dyn.path, base["x"]), ref) > 0.99


@pytest.mark.parametrize("io_type", ["float32", "int8"])
def test_tflite_full_integer(base, io_type):
    from ai_edge_litert import interpreter as litert

    from edgebench.optimizers.tflite_quant import full_integer_int8

    art = full_integer_int8(base["sm"].path, base["sm"].sha256, calib(base["cal"]), io_type)
    assert art.notes == ["quantized: 3 of 3 Conv/MatMul/Gemm-like ops in int8"]
    assert art.settings["io_type"] == io_type and art.settings["calibration"]["samples"] == 32
    it = litert.Interpreter(model_path=art.path)
    assert np.dtype(it.get_input_details()[0]["dtype"]).name == io_type
    assert cosine(run_tflite(art.path, base["x"]), run_tflite(base["tflite"].path, base["x"])) > 0.98


def test_cache_is_keyed_by_input_settings_and_calibration_data(base):
    from edgebench.optimizers.tflite_quant import full_integer_int8

    first = full_integer_int8(base["sm"].path, base["sm"].sha256, calib(base["cal"]))
    again = full_integer_int8(base["sm"].path, base["sm"].sha256, calib(base["cal"]))
    assert again.reused and again.sha256 == first.sha256 and again.path == first.path
    assert again.notes == first.notes  # what the pass found is kept with the cached file
    other = full_integer_int8(base["sm"].path, base["sm"].sha256, calib(base["cal"][:16]))
    assert not other.reused and Path(other.path).parent != Path(first.path).parent


def test_failing_tflite_pass_gives_one_line_naming_the_op(quant_models, tmp_path):
    import keras

    from edgebench.optimizers.tflite_quant import full_integer_int8

    sm = tmp_path / "det_sm"
    keras.saving.load_model(quant_models["det"], safe_mode=True).export(str(sm), verbose=False)
    with np.load(quant_models["det_data"]) as d:
        cal = calib(d["m"], "m")
    with pytest.raises(ConversionError) as err:
        full_integer_int8(sm, sha256_path(sm), cal)
    msg = str(err.value)
    assert "\n" not in msg and "MatrixDeterminant" in msg and msg.startswith("tflite-full-int8 failed")


# --- ONNX graph passes ----------------------------------------------------------------------------------------------

def test_onnxsim_and_ort_offline_optimization(base):
    from edgebench.optimizers.onnx_passes import ort_optimize, simplify

    ref = run_onnx(base["onnx"].path, base["x"])
    sim = simplify(base["onnx"])
    assert sim.parent == base["onnx"].sha256 and sim.notes[0].startswith("onnxsim")
    np.testing.assert_allclose(run_onnx(sim.path, base["x"]), ref, atol=1e-5)
    for level in ("basic", "all"):
        opt = ort_optimize(base["onnx"], level)
        assert opt.settings["level"] == level
        np.testing.assert_allclose(run_onnx(opt.path, base["x"]), ref, atol=1e-4)
    assert "layout" in opt.notes[-1]  # level "all" is hardware-specific, and the record says so


def test_ort_format(base):
    from edgebench.optimizers.onnx_passes import to_ort_format

    art = to_ort_format(base["onnx"], "arm")
    assert art.path.endswith(".ort") and art.settings["target_platform"] == "arm"
    assert (Path(art.path).parent / "model.required_operators.config").is_file()
    np.testing.assert_allclose(run_onnx(art.path, base["x"]), run_onnx(base["onnx"].path, base["x"]), atol=1e-4)


def test_transformer_fusion_is_skipped_without_attention_or_layer_norm(base):
    from edgebench.optimizers.errors import PassSkipped
    from edgebench.optimizers.onnx_passes import transformer_fusions

    with pytest.raises(PassSkipped, match="no attention or layer-norm"):
        transformer_fusions(base["onnx"])


def _layer_norm_model(path: Path) -> None:
    """x -> MatMul -> layer norm spelled out in primitive ops (as exporters write it) -> output."""
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    rng = np.random.default_rng(0)
    inits = [nh.from_array(rng.standard_normal((8, 8)).astype(np.float32), "W"),
             nh.from_array(np.array(2.0, np.float32), "two"), nh.from_array(np.array(1e-5, np.float32), "eps"),
             nh.from_array(rng.standard_normal(8).astype(np.float32), "gamma"),
             nh.from_array(rng.standard_normal(8).astype(np.float32), "beta")]
    nodes = [h.make_node("MatMul", ["x", "W"], ["a"]),
             h.make_node("ReduceMean", ["a"], ["mean"], axes=[-1]),
             h.make_node("Sub", ["a", "mean"], ["d"]),
             h.make_node("Pow", ["d", "two"], ["sq"]),
             h.make_node("ReduceMean", ["sq"], ["var"], axes=[-1]),
             h.make_node("Add", ["var", "eps"], ["ve"]),
             h.make_node("Sqrt", ["ve"], ["std"]),
             h.make_node("Div", ["d", "std"], ["n"]),
             h.make_node("Mul", ["n", "gamma"], ["g"]),
             h.make_node("Add", ["g", "beta"], ["y"])]
    graph = h.make_graph(nodes, "ln", [h.make_tensor_value_info("x", T.FLOAT, [1, 4, 8])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, 4, 8])], initializer=inits)
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]), str(path))


def test_transformer_fusion_fuses_layer_norm(tmp_path):
    from edgebench.optimizers.onnx_passes import transformer_fusions, transformer_patterns

    src = tmp_path / "ln.onnx"
    _layer_norm_model(src)
    assert transformer_patterns(src)["layer_norm"] == 1
    art = transformer_fusions(Artifact(str(src), sha256_path(src), None, "source"))
    assert "LayerNormalization" in op_types(art.path) and "ReduceMean" not in op_types(art.path)
    assert "LayerNormalization x1" in art.notes[0]
    x = np.random.default_rng(1).standard_normal((3, 4, 8)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(art.path, x), run_onnx(str(src), x), atol=1e-4)


# --- ONNX Runtime quantization --------------------------------------------------------------------------------------

def test_ort_dynamic_quantization(base):
    from edgebench.optimizers.onnx_quant import DynamicOptions, dynamic_quantize

    art = dynamic_quantize(base["onnx"], DynamicOptions(weight_type="int8"))
    assert "ConvInteger" in op_types(art.path) and art.notes[0].startswith("quantized: 3 of 3")
    assert cosine(run_onnx(art.path, base["x"]), run_onnx(base["onnx"].path, base["x"])) > 0.98


@pytest.mark.parametrize("opts", [
    dict(format="QOperator", activation_type="uint8", weight_type="uint8", per_channel=True, calibration="minmax"),
    dict(format="QDQ", activation_type="int8", weight_type="int8", per_channel=True, calibration="entropy"),
    dict(format="QDQ", activation_type="uint8", weight_type="int8", per_channel=False, reduce_range=True,
         calibration="percentile", pre_process=False),
])
def test_ort_static_quantization(base, opts):
    from edgebench.optimizers.onnx_quant import StaticOptions, pre_process, static_quantize

    options = StaticOptions(**opts)
    parent = pre_process(base["onnx"]) if options.pre_process else base["onnx"]
    art = static_quantize(parent, calib(base["cal"], _input_name(parent.path)), options)
    assert art.parent == parent.sha256 and art.settings["format"] == opts["format"]
    assert art.settings["calibration_data"]["samples"] == 32
    assert art.notes == ["quantized: 3 of 3 Conv/MatMul/Gemm-like ops in int8"]
    ops = op_types(art.path)
    assert ("QLinearConv" in ops) if opts["format"] == "QOperator" else ("DequantizeLinear" in ops and "Conv" in ops)
    assert cosine(run_onnx(art.path, base["x"]), run_onnx(base["onnx"].path, base["x"])) > 0.98


def test_static_formats_share_one_calibration_and_match_ort_calibrating_each(base, tmp_path):
    """The second format reads the ranges the first one saved, and both files are byte for byte what ONNX Runtime
    writes when it calibrates each format itself."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    from edgebench.optimizers.calibration_ranges import calibration_dir
    from edgebench.optimizers.onnx_quant import StaticOptions, _reader, static_quantize

    parent = base["onnx"]
    cal = calib(base["cal"][:12], _input_name(parent.path))
    formats = [("QDQ", "int8", "int8"), ("QOperator", "uint8", "uint8")]
    before = set(calibration_dir().glob("ranges-*.json"))
    shared = []
    for i, (fmt, act, wt) in enumerate(formats):
        shared.append(static_quantize(parent, cal, StaticOptions(format=fmt, activation_type=act, weight_type=wt,
                                                                 per_channel=False, pre_process=False)))
        made = set(calibration_dir().glob("ranges-*.json")) - before
        assert len(made) == 1, f"after format {i + 1}: {made}"
    for art, (fmt, act, wt) in zip(shared, formats):
        alone = tmp_path / f"{fmt}.onnx"
        types = {"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}
        quantize_static(parent.path, str(alone), _reader(cal), per_channel=False,
                        quant_format=QuantFormat.QDQ if fmt == "QDQ" else QuantFormat.QOperator,
                        activation_type=types[act], weight_type=types[wt])
        assert Path(art.path).read_bytes() == alone.read_bytes(), fmt


def test_a_damaged_shared_calibration_is_computed_afresh(base):
    from edgebench.optimizers.calibration_ranges import calibration_dir
    from edgebench.optimizers.onnx_quant import StaticOptions, static_quantize

    parent = base["onnx"]
    cal = calib(base["cal"][:10], _input_name(parent.path))
    options = StaticOptions(format="QDQ", per_channel=False, pre_process=False)
    first = static_quantize(parent, cal, options)
    made = sorted(calibration_dir().glob("ranges-*.json"), key=os.path.getmtime)[-1]
    made.write_text("{not json")
    again = static_quantize(parent, cal, StaticOptions(format="QOperator", activation_type="uint8",
                                                       weight_type="uint8", per_channel=False, pre_process=False))
    assert op_types(again.path) >= {"QLinearConv"} and Path(first.path).is_file()
    assert made.read_text().startswith("{") and made.read_text() != "{not json"


def test_ranges_stay_shared_when_one_formats_quantizer_fails_after_calibrating(base, tmp_path):
    """ORT saves the ranges before it quantizes: a format whose quantizer fails (a QOperator graph on an already
    quantized source does) still leaves whole ranges, and the next format reads them instead of calibrating again."""
    from onnxruntime.quantization import quantize_static

    from edgebench.optimizers.calibration_ranges import calibrate_once, calibration_dir
    from edgebench.optimizers.onnx_quant import StaticOptions, _reader

    parent = base["onnx"]
    cal = calib(base["cal"][:11], _input_name(parent.path))
    options = StaticOptions(format="QOperator", per_channel=False, pre_process=False)
    before = set(calibration_dir().glob("ranges-*.json"))
    reads: list[int] = []

    def calibrate_then_fail(cache: dict) -> None:
        quantize_static(parent.path, str(tmp_path / "failed.onnx"), _reader(cal), per_channel=False, **cache)
        raise RuntimeError("the quantizer failed after calibrating")

    def counting_reader():
        reader = _reader(cal)
        get_next = reader.get_next
        reader.get_next = lambda: reads.append(1) or get_next()
        return reader

    with pytest.raises(RuntimeError, match="after calibrating"):
        calibrate_once(parent.sha256, options, cal, calibrate_then_fail)
    assert len(set(calibration_dir().glob("ranges-*.json")) - before) == 1
    calibrate_once(parent.sha256, options, cal, lambda cache: quantize_static(
        parent.path, str(tmp_path / "second.onnx"), counting_reader(), per_channel=False, **cache))
    assert (tmp_path / "second.onnx").is_file() and reads == []  # the shared ranges, no second calibration


def _input_name(path: str) -> str:
    import onnx
    return onnx.load(path).graph.input[0].name


def test_pre_process_leaves_no_files_in_the_working_directory(base, tmp_path, monkeypatch):
    from edgebench.optimizers.onnx_quant import pre_process

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDGEBENCH_CACHE", str(tmp_path / "fresh-cache"))  # force the pass to run, not reuse
    art = pre_process(base["onnx"])
    assert not art.reused and os.getcwd() == str(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["fresh-cache"]


def _constant_weight_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    w = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    nodes = [h.make_node("Constant", [], ["W"], value=nh.from_array(w, "Wv")), h.make_node("MatMul", ["x", "W"], ["y"])]
    graph = h.make_graph(nodes, "c", [h.make_tensor_value_info("x", T.FLOAT, [1, 16])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, 8])])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(path))


def _if_branch_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    w = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)

    def branch(name: str, scale: float):
        return h.make_graph([h.make_node("MatMul", ["x", f"W{name}"], [f"y{name}"])], name, [],
                            [h.make_tensor_value_info(f"y{name}", T.FLOAT, [1, 8])],
                            initializer=[nh.from_array(w * scale, f"W{name}")])
    nodes = [h.make_node("ReduceSum", ["x"], ["s"], keepdims=0), h.make_node("Greater", ["s", "zero"], ["c"]),
             h.make_node("If", ["c"], ["y"], then_branch=branch("then", 1.0), else_branch=branch("else", 2.0))]
    graph = h.make_graph(nodes, "i", [h.make_tensor_value_info("x", T.FLOAT, [1, 16])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, 8])],
                         initializer=[nh.from_array(np.array(0, np.float32), "zero")])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(path))


def test_nothing_quantized_is_reported(tmp_path):
    from edgebench.optimizers.onnx_quant import (
        DynamicOptions,
        StaticOptions,
        dynamic_quantize,
        pre_process,
        static_quantize,
    )

    cal = calib(np.random.default_rng(3).standard_normal((8, 16)).astype(np.float32), "x")
    const, branches = tmp_path / "const.onnx", tmp_path / "if.onnx"
    _constant_weight_model(const)
    _if_branch_model(branches)
    c = Artifact(str(const), sha256_path(const), None, "source")
    i = Artifact(str(branches), sha256_path(branches), None, "source")

    dyn = dynamic_quantize(c, DynamicOptions())
    assert dyn.notes == ["nothing quantized: 0 of 1 Conv/MatMul/Gemm-like ops in int8 "
                         "(1 take weights from Constant nodes, not initializers)"]
    static = static_quantize(c, cal, StaticOptions(pre_process=False))
    assert static.notes[0].startswith("nothing quantized") and "Constant nodes" in static.notes[0]
    # quant_pre_process folds the Constant into an initializer, after which the weight is quantized
    assert static_quantize(pre_process(c), cal, StaticOptions()).notes[0].startswith("quantized: 1 of 1")

    for art in (dynamic_quantize(i, DynamicOptions()),
                static_quantize(i, cal, StaticOptions(format="QOperator", activation_type="uint8"))):
        assert art.notes[0] == ("nothing quantized: 0 of 2 Conv/MatMul/Gemm-like ops in int8 "
                                "(2 sit inside If/Loop branches)")
        x = cal.arrays["x"]
        np.testing.assert_allclose(run_onnx(art.path, x), run_onnx(str(branches), x), atol=1e-5)


def test_per_channel_upgrades_old_opsets(tmp_path):
    """Per-channel QDQ needs opset 13: an opset-11 graph is converted first instead of failing."""
    import onnx

    from edgebench.optimizers.onnx_quant import StaticOptions, static_quantize

    src = tmp_path / "old.onnx"
    _constant_weight_model(src)
    m = onnx.load(str(src))
    m.opset_import[0].version = 11
    onnx.save(m, str(src))
    cal = calib(np.random.default_rng(3).standard_normal((8, 16)).astype(np.float32), "x")
    art = static_quantize(Artifact(str(src), sha256_path(src), None, "source"), cal,
                          StaticOptions(per_channel=True, pre_process=False))
    opset = next(o.version for o in onnx.load(art.path).opset_import if o.domain in ("", "ai.onnx"))
    assert opset >= 13


def test_two_makers_of_one_cache_entry_never_rewrite_each_others_file(tmp_path, monkeypatch):
    """Two runs making the same entry at once (a suite beside a run): the first whole entry wins, the file a reader
    holds is never rewritten in place (a mapped .tflite rewritten under LiteRT dies with SIGBUS)."""
    import threading
    import time

    from edgebench.optimizers.artifacts import cached

    monkeypatch.setenv("EDGEBENCH_CACHE", str(tmp_path))
    started = threading.Barrier(2)

    def make(out: Path) -> list[str]:
        started.wait()
        out.write_bytes(b"x" * 1000)
        time.sleep(0.2)
        return [f"made by {threading.current_thread().name}"]

    got: list = []
    threads = [threading.Thread(target=lambda: got.append(cached("p" * 64, "demo", {}, "m.bin", make)), name=n)
               for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 2 and got[0].path == got[1].path and Path(got[0].path).read_bytes() == b"x" * 1000
    assert sorted(a.reused for a in got) == [False, True]  # one made it, the other took the whole entry
    assert [p.name for p in tmp_path.joinpath("artifacts").iterdir()] == [Path(got[0].path).parent.name]
