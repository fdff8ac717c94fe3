"""`bench run` on a tiny PRelu model (as PyTorch exports face models): the one-shot profile finds PRelu dominating,
the run adds onnx-rewritten, proves it on the run's own data and measures it against onnx-fp32."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from conftest import load_results, run_bench

PROFILE = """name = "x86-rewrites"
target_arch = "x86_64"
[benchmark]
threads = [1]
[variants]
build = ["onnx-fp32"]
[onnxruntime]
enable_cpu_mem_arena = true
[optimization]
rewrite_threshold = 0.1
"""


@pytest.mark.slow
def test_bench_run_adds_the_rewritten_variant_with_its_proof(tmp_path):
    from edgebench.optimizers.rewrites.sample_models import prelu_mobilenet

    model, data, profile = tmp_path / "faces.onnx", tmp_path / "faces.npz", tmp_path / "x86-rewrites.toml"
    onnx.save(prelu_mobilenet(size=48, widths=(8, 16, 32)), str(model))
    np.savez(data, image=np.random.default_rng(5).standard_normal((12, 3, 48, 48)).astype(np.float32))
    profile.write_text(PROFILE)
    out = tmp_path / "run"
    proc = run_bench("run", str(model), "--profile", str(profile), "--fast", "--data", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = load_results(out)
    added = [n for n in doc["notes"] if n.startswith("onnx-rewritten added: PRelu took")]
    assert len(added) == 1 and "rules matching: prelu x5; threshold 10%" in added[0]
    rec = {r["variant"]: r for r in doc["results"]}
    fp32, rewritten = rec["onnx-fp32"], rec["onnx-rewritten"]
    assert rewritten["status"] == "ok" and rewritten["artifact"]["pass"] == "onnx-rewrite"
    assert [a["pass"] for a in rewritten["artifact"]["lineage"]] == ["source", "onnx-rewrite"]
    info = rewritten["rewrites"]
    assert [(e["rule"], e["matches"], e["shipped"]) for e in info["rules"]] == [("prelu", 5, True)]
    assert info["proof"]["bit_identical"] and info["proof"]["samples"] == 12  # the run's evaluation inputs
    assert rewritten["accuracy"]["max_abs_error"] == 0.0 and rewritten["accuracy"]["samples"] == 12
    ratio = fp32["latency_ms"]["median"] / rewritten["latency_ms"]["median"]
    assert info["speedup_vs_onnx_fp32"] == pytest.approx(ratio, rel=1e-2)
    assert any(n.startswith("onnx-rewritten, 1 thread(s): ") and "5 match(es) of rule prelu" in n
               for n in doc["notes"])
    assert any(n.startswith("conversions: 1 pass(es) run") and "onnx-rewrite" in n for n in doc["notes"])
    assert "onnx-rewritten" in doc["run_options"]["variants"]  # a resumed run plans it again
    assert "proved bit-identical on 12 evaluation samples" in proc.stdout
