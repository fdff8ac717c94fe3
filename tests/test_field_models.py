"""Models as they come from the field: symbolic dimensions fixed by --input-shape or by --data, every output checked."""
from __future__ import annotations

import pytest
from conftest import load_results, run_bench

pytestmark = pytest.mark.slow  # whole runs with real conversions


@pytest.mark.parametrize("how", ["shape", "data"])
def test_symbolic_onnx_cnn_runs_with_shapes_or_data(field_models, tmp_path, how):
    out = tmp_path / how
    given = (["--input-shape", "x=1,3,48,192"] if how == "shape" else ["--data", str(field_models["cnn_data"])])
    proc = run_bench("run", str(field_models["cnn"]), *given, "--fast", "--threads", "1", "--batch", "1,2",
                     "--variants", "onnx-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    (spec,) = doc["model"]["inputs"]
    assert spec["declared_shape"] == [-1, 3, -1, -1] and spec["shape"] == [-1, 3, 48, 192]
    assert doc["data"]["kind"] == ("random" if how == "shape" else "user")
    assert sorted(r["batch"] for r in doc["results"] if r["status"] == "ok" and r["settings_label"] != "arena-off") \
        == [1, 2]
