"""User errors end with one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import os
import shutil
import zipfile

import numpy as np
import pytest
from conftest import run_bench
from reliability_models import keras_naming, keras_with_lambda, onnx_with_external_data


def _assert_user_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0]


def test_missing_model(tmp_path):
    _assert_user_error(run_bench("run", str(tmp_path / "nope.keras"), "--out", str(tmp_path / "o")), "not found")


def test_unknown_format(tmp_path):
    f = tmp_path / "model.pt"
    f.write_bytes(b"\x00" * 64)
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "unknown model format")


def test_unknown_profile(tmp_path, tiny_models):
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", "pentium", "--out", str(tmp_path / "o")),
                       "unknown profile", "x86_64")


@pytest.mark.parametrize("name,content", [("empty.tflite", b""), ("junk.tflite", b"not a flatbuffer at all"),
                                          ("junk.onnx", b"\x08\x07garbage\xff\xff"), ("junk.keras", b"PK\x03\x04broken")])
def test_corrupt_files(tmp_path, name, content):
    f = tmp_path / name
    f.write_bytes(content)
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), name)


def test_directory_that_is_not_a_savedmodel(tmp_path):
    _assert_user_error(run_bench("run", str(tmp_path), "--out", str(tmp_path / "o")), "not a SavedModel")


def test_bad_threads_flag(tmp_path):
    _assert_user_error(run_bench("run", "--threads", "0,x", "--out", str(tmp_path / "o")), "--threads")


def test_invalid_user_profile(tmp_path, tiny_models):
    prof = tmp_path / "p.toml"
    prof.write_text('name = "mine"\ntarget_arch = "sparc"\n')
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", str(prof), "--out", str(tmp_path / "o")),
                       "target_arch")


# --- every model format, broken in the ways files get broken -------------------------------------------------------

def _damaged(kind: str, good: bytes) -> bytes:
    if kind == "empty":
        return b""
    if kind == "truncated":
        return good[: len(good) // 2]
    return np.random.default_rng(7).integers(0, 256, len(good), dtype=np.uint8).tobytes()


@pytest.mark.parametrize("kind", ["empty", "truncated", "random"])
@pytest.mark.parametrize("fmt", ["keras", "tflite", "onnx"])
def test_damaged_model_files(tiny_models, tmp_path, fmt, kind):
    f = tmp_path / f"{kind}.{fmt}"
    f.write_bytes(_damaged(kind, tiny_models[fmt].read_bytes()))
    proc = run_bench("run", str(f), "--fast", "--out", str(tmp_path / "o"))
    _assert_user_error(proc, f.name)


@pytest.mark.parametrize("real,named,hint", [("onnx", "tflite", "rename it to .onnx"),
                                             ("tflite", "onnx", "rename it to .tflite"),
                                             ("keras", "onnx", "zip archive: a .keras model?"),
                                             ("onnx", "keras", "rename it to .onnx")])
def test_wrong_extension_says_what_the_file_is(tiny_models, tmp_path, real, named, hint):
    f = tmp_path / f"model.{named}"
    f.write_bytes(tiny_models[real].read_bytes())
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), hint)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["empty", "truncated", "random"])
def test_savedmodel_with_a_damaged_graph(tiny_models, tmp_path, kind):
    sm = tmp_path / "sm"
    shutil.copytree(tiny_models["savedmodel"], sm)
    (sm / "saved_model.pb").write_bytes(_damaged(kind, (sm / "saved_model.pb").read_bytes()))
    _assert_user_error(run_bench("run", str(sm), "--out", str(tmp_path / "o")), "cannot be loaded by TensorFlow")


# --- Keras: safe mode, and zip archives that try to escape or explode ----------------------------------------------

@pytest.mark.slow
def test_keras_lambda_layer_is_refused_by_safe_mode(tmp_path):
    f = keras_with_lambda(tmp_path / "lambda.keras")
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "refused by Keras safe mode",
                       "Lambda layer", "could run anything on load")


@pytest.mark.slow
def test_keras_config_naming_os_system_runs_nothing(tiny_models, tmp_path):
    marker = tmp_path / "PWNED"
    f = keras_naming(tmp_path / "evil.keras", tiny_models["keras"], "os", "system", {"command": f"touch {marker}"})
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "names os.system",
                       "nothing was executed")
    assert not marker.exists()


def test_keras_archive_with_a_path_traversal_member(tiny_models, tmp_path):
    f = tmp_path / "traversal.keras"
    with zipfile.ZipFile(tiny_models["keras"]) as src, zipfile.ZipFile(f, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        dst.writestr("../../outside.txt", b"x")
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "unsafe paths", "../../outside.txt")


def test_keras_zip_bomb_is_refused_before_inflating(tiny_models, tmp_path):
    f = tmp_path / "bomb.keras"
    with zipfile.ZipFile(tiny_models["keras"]) as src, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("config.json", src.read("config.json"))
        with dst.open("model.weights.h5", "w") as fh:
            for _ in range(80):
                fh.write(bytes(1 << 20))
    assert f.stat().st_size < 1 << 20
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "zip bomb")


# --- ONNX external data may not leave the model's folder ------------------------------------------------------------

@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "sparse"])
def test_onnx_external_data_outside_the_model_folder_is_refused_unread(tmp_path, case):
    folder = tmp_path / "model"
    folder.mkdir()
    # A FIFO: opening it for reading would block until a writer comes, so any read would hang this test.
    trap = tmp_path / "secret.bin"
    os.mkfifo(trap)
    location = {"dotdot": "../secret.bin", "absolute": str(trap), "symlink": "weights.bin",
                "sparse": "../secret.bin"}[case]
    if case == "symlink":
        (folder / "weights.bin").symlink_to(trap)
    f = onnx_with_external_data(folder / "m.onnx", location, sparse=case == "sparse")
    proc = run_bench("run", str(f), "--out", str(tmp_path / "o"), timeout=60)
    _assert_user_error(proc, "external data outside its own folder", "refused, nothing was read")


def test_onnx_external_data_inside_the_folder_is_fine(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    np.zeros(4, np.float32).tofile(folder / "w.bin")
    f = onnx_with_external_data(folder / "m.onnx", "w.bin")
    proc = run_bench("run", str(f), "--fast", "--variants", "onnx-fp32", "--threads", "1", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr


# --- profiles and data files ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,needle", [
    ('name = "p"\ntarget_arch = "x86_64"\n[benchmark\n', "not valid TOML"),
    ('name = "p"\ntarget_arch = "x86_64"\nbenchmark = 3\n', "[benchmark] in profile"),
    ('name = "p"\ntarget_arch = "x86_64"\nvariants = "tflite-fp32"\n', "[variants] in profile"),
    ('name = "p"\ntarget_arch = "x86_64"\ncolour = "blue"\n', "unknown key(s) colour"),
    ('name = "p"\ntarget_arch = "x86_64"\n[limits]\nmax_rss_mb = -1\n', "limits.max_rss_mb must be a positive"),
    ('name = "p"\ntarget_arch = "x86_64"\n[limits]\nmax_rss_mb = true\n', "limits.max_rss_mb must be a positive"),
    ('name = "p"\ntarget_arch = "x86_64"\n[limits]\nmax_vms_mb = 1\n', "unknown key(s) max_vms_mb in [limits]"),
    ('name = "p"\ntarget_arch = "x86_64"\n[onnxruntime]\ngraph_optimisation_level = "all"\n',
     "unknown key 'graph_optimisation_level' in [onnxruntime] (known: enable_cpu_mem_arena, graph_optimization_level"),
    ("a = " + "[" * 5000, "nested too deeply"),
])
def test_invalid_profiles(tmp_path, tiny_models, text, needle):
    prof = tmp_path / "p.toml"
    prof.write_text(text)
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", str(prof), "--out", str(tmp_path / "o")),
                       needle)


def test_binary_profile_and_directory_profile(tmp_path, tiny_models):
    prof = tmp_path / "p.toml"
    prof.write_bytes(b"\xff\xfe\x00garbage")
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", str(prof), "--out", str(tmp_path / "o")),
                       "not valid TOML")
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", str(tmp_path), "--out",
                                 str(tmp_path / "o")), "profile file not found")


def test_pickle_disguised_as_data_is_never_unpickled(tmp_path, tiny_models):
    marker = tmp_path / "PWNED"
    data = tmp_path / "inputs.npz"
    data.write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")  # pickle protocol 0: os.system(...)
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--data", str(data), "--out", str(tmp_path / "o")),
                       "holds pickled data, which edgebench never loads")
    assert not marker.exists()


# --- symbolic input dimensions: --input-shape and --data --------------------------------------------------------------

def test_symbolic_dimensions_without_shapes_or_data_are_named(field_models, tmp_path):
    _assert_user_error(run_bench("run", str(field_models["cnn"]), "--out", str(tmp_path / "o")),
                       "input 'x' [batch, 3, height, width] (axes 2, 3 symbolic)", "--input-shape x=1,3,N,N",
                       "--data FILE.npz")


@pytest.mark.parametrize("flag,needle", [
    ("y=1,3,48,192", "names input 'y', which the model does not have (inputs: 'x')"),
    ("x=1,3,48", "has rank 3, but input 'x' has rank 4"),
    ("x=1,3,-48,192", "every dimension must be a positive integer"),
    ("x=1,3,0,192", "every dimension must be a positive integer"),
    ("x=1,4,48,192", "the model rejects this shape, its input 'x' is [batch, 3, height, width] (axis 1 must be 3)"),
    ("x", "expected NAME=D0,D1,..."),
    ("x=1,3,a,b", "expected comma-separated integer dimensions"),
])
def test_bad_input_shapes(field_models, tmp_path, flag, needle):
    _assert_user_error(run_bench("run", str(field_models["cnn"]), "--input-shape", flag, "--out", str(tmp_path / "o")),
                       needle)


def test_a_shape_the_model_cannot_run_is_refused_before_converting(field_models, tmp_path):
    _assert_user_error(run_bench("run", str(field_models["reshape"]), "--input-shape", "v=1,7", "--out",
                                 str(tmp_path / "o")), "the model rejects the input shapes v=1,7", "Reshape")


@pytest.mark.parametrize("arrays,needle", [
    ({"x": np.zeros((4, 48, 192), np.float32)}, "has shape [4, 48, 192], the model wants [samples, 3, ?, ?]"),
    ({"x": np.zeros((4, 4, 48, 192), np.float32)}, "the model wants [samples, 3, ?, ?]"),
    ({"x": np.zeros((4, 3, 8, 8), np.float32), "y": np.zeros(3, np.int64)}, "agree on their number of samples"),
])
def test_data_that_does_not_fit_the_model(field_models, tmp_path, arrays, needle):
    data = tmp_path / "d.npz"
    np.savez(data, **arrays)
    _assert_user_error(run_bench("run", str(field_models["cnn"]), "--data", str(data), "--out", str(tmp_path / "o")),
                       needle)


def test_data_whose_batch_axes_disagree(field_models, tmp_path):
    """The anonymous state [2, ?, 16] is read with batch axis 0 (2 samples) while x has 8: one line, with the fix."""
    _assert_user_error(run_bench("run", str(field_models["vad_anon"]), "--data", str(field_models["vad_data"]),
                                 "--out", str(tmp_path / "o")),
                       "agree on their number of samples", "axes=['state=1']", "state [2, 8, 16] (batch axis 0)")


def test_a_bad_axes_entry(field_models, tmp_path):
    data = tmp_path / "d.npz"
    with np.load(field_models["vad_data"]) as npz:
        np.savez(data, **{k: npz[k] for k in npz.files}, axes=np.array(["state:1"]))
    _assert_user_error(run_bench("run", str(field_models["vad_anon"]), "--data", str(data), "--out",
                                 str(tmp_path / "o")), "'axes' entries must read NAME=AXIS or NAME=none")


@pytest.mark.slow
def test_h5_with_a_lambda_layer_is_refused_and_nothing_runs(tmp_path):
    from real_models import keras_h5_with_lambda

    marker = tmp_path / "PWNED"
    f = keras_h5_with_lambda(tmp_path / "lambda.h5", marker)
    assert not marker.exists()
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "refused by Keras safe mode",
                       "Lambda layer")
    assert not marker.exists()


def test_h5_that_is_not_hdf5(tmp_path):
    f = tmp_path / "model.h5"
    f.write_bytes(b"PK\x03\x04 a zip, not HDF5")
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "is not an HDF5 file")


def test_fuzzed_input_shapes_end_in_one_clear_error_or_a_valid_shape():
    """Any --input-shape text parses or says why; any parsed shape fits the model's input or says why (UserError)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from edgebench.benchmarks.variants.shapes import fix_shapes, infer_batch_axes, parse_shape_arg
    from edgebench.results.errors import UserError

    specs = infer_batch_axes([{"name": "x", "shape": [-1, 3, -1, -1], "dtype": "float32",
                               "dim_names": ["batch", None, "h", "w"]},
                              {"name": "state", "shape": [2, -1, 16], "dtype": "float32",
                               "dim_names": [None, "batch", None]}])
    text = st.one_of(st.text(max_size=30), st.builds(lambda n, d: f"{n}={','.join(map(str, d))}",
                                                     st.sampled_from(["x", "state", "y", ""]),
                                                     st.lists(st.integers(-3, 64), max_size=5)))

    @settings(max_examples=300, deadline=None, database=None)
    @given(text)
    def check(arg: str) -> None:
        try:
            name, shape = parse_shape_arg(arg)
        except ValueError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        assert all(d > 0 for d in shape)
        try:
            fixed = fix_shapes(specs, {name: shape})
        except UserError as exc:
            assert "\n" not in str(exc) and "--input-shape" in str(exc)
            return
        spec = next(s for s in fixed if s["name"] == name)
        assert len(spec["shape"]) == len(shape) and spec["declared_shape"] == next(
            s["shape"] for s in specs if s["name"] == name)

    check()
