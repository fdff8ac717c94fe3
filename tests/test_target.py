"""Accuracy on the target's kernels: the real aarch64 runtimes under a real qemu, on tiny models.

The emulated environment is prepared once (`bench target setup arm64`, idempotent) into
$EDGEBENCH_TEST_TARGETS, else where the command puts it for the user ($EDGEBENCH_TARGETS, else
~/.cache/edgebench/targets); .ci/run prepares it before the suite. Other tests keep their isolated cache, so
their arm64 runs have no environment.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import load_results, run_bench

from edgebench.hardware_profiles import PROFILE_DIR, ProfileError, host_arch, load_profile

pytestmark = pytest.mark.skipif(host_arch() == "arm64", reason="the host is arm64: its own kernels are the target's")


# the arm64 profile's CPU models (with and without dotprod) and one qemu does not know, one static int8
# configuration, few samples
def _host_has_vnni() -> bool:
    import platform
    if platform.machine() not in ("x86_64", "AMD64"):
        return True
    try:
        return "vnni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return True


SMALL_ARM64 = """
name = "arm64-small"
target_arch = "arm64"
[variants]
build = ["onnx-fp32", "onnx-static-int8"]
[target]
qemu_cpu = ["neoverse-n1", "cortex-z9", "cortex-a72"]
samples = 12
[quantization.onnx_static]
format = "QDQ"
activation_type = "int8"
weight_type = "int8"
per_channel = true
"""


def _targets_root() -> Path:
    """Where `bench target setup` puts it for the user (conftest isolates EDGEBENCH_CACHE, not this folder)."""
    env = os.environ.get("EDGEBENCH_TEST_TARGETS") or os.environ.get("EDGEBENCH_TARGETS")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(env) if env else Path(cache) / "edgebench" / "targets"


@pytest.fixture(scope="session")
def arm64_targets() -> Path:
    """The targets folder holding a ready arm64 environment (prepared here when it is not yet)."""
    root = _targets_root()
    proc = run_bench("target", "setup", "arm64", env={"EDGEBENCH_TARGETS": str(root)}, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.mark.slow
def test_second_setup_does_nothing_and_names_what_is_there(arm64_targets):
    proc = run_bench("target", "setup", "arm64", env={"EDGEBENCH_TARGETS": str(arm64_targets)})
    assert proc.returncode == 0, proc.stderr
    assert "ready (nothing to do)" in proc.stdout and proc.stderr == ""
    from importlib import metadata
    manifest = json.loads((arm64_targets / "arm64" / "ready.json").read_text())
    assert manifest["packages"] == {p: metadata.version(p) for p in ("onnxruntime", "ai-edge-litert", "numpy")}
    assert f"onnxruntime {metadata.version('onnxruntime')}" in proc.stdout
    assert manifest["smoke_test"]["machine"] == "aarch64"
    status = run_bench("target", "status", "arm64", env={"EDGEBENCH_TARGETS": str(arm64_targets)})
    assert status.returncode == 0 and "ready" in status.stdout


def test_setup_without_apt_fails_in_one_line(tmp_path):
    # only the venv's programs: no apt-get, no system qemu
    proc = run_bench("target", "setup", "arm64", "--quiet",
                     env={"EDGEBENCH_TARGETS": str(tmp_path), "PATH": str(Path(sys.executable).parent)})
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("bench: target setup failed: apt-get not found")
    assert not (tmp_path / "arm64" / "ready.json").exists()
    status = run_bench("target", "status", "arm64", env={"EDGEBENCH_TARGETS": str(tmp_path)})
    assert status.returncode == 1 and "bench target setup arm64" in status.stdout


@pytest.mark.slow
def test_a_hang_under_emulation_is_stopped_by_the_timeout(arm64_targets, monkeypatch):
    monkeypatch.setenv("EDGEBENCH_TARGETS", str(arm64_targets))
    from edgebench.benchmarks.emulation.emulate import EmulationError, run_emulated
    from edgebench.benchmarks.emulation.environment import TargetEnv

    env = TargetEnv.for_target("arm64")
    with pytest.raises(EmulationError, match="did not finish within 3 s under emulation"):
        run_emulated(env, env.qemu(), "cortex-a72", ["-c", "import time; time.sleep(120)"], 3.0)


@pytest.mark.slow
def test_fp32_and_int8_on_emulated_arm64_kernels_match_the_host(arm64_targets, tiny_models, tmp_path):
    """A run on a profile naming two CPU models and 4 samples: every variant gets target figures next to the host's,
    fp32 within float rounding of the host, int8 within a quantization step; the budget is judged on both."""
    profile = tmp_path / "arm64-small.toml"
    profile.write_text(SMALL_ARM64)
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", str(profile), "--threads", "1", "--fast",
                     "--variants", "onnx-fp32,onnx-static-int8", "--data", str(tiny_models["data"]),
                     "--out", str(out), env={"EDGEBENCH_TARGETS": str(arm64_targets)})
    assert proc.returncode in (0, 1), proc.stderr
    doc = load_results(out)
    about_target = [w for w in doc["warnings"] if "target's kernels" in w]
    assert len(about_target) == 1 and about_target[0].startswith("QEMU_CPU=cortex-z9 is not a CPU model"), about_target
    seen = set()
    for rec in doc["results"]:
        entries = rec["target_accuracy"]
        assert [e["qemu_cpu"] for e in entries] == ["neoverse-n1", "cortex-a72"]
        for e in entries:
            assert "error" not in e, e
            assert e["samples"] == 3  # --fast takes a quarter of [target] samples
            vs = e["vs_host"]
            if rec["variant"] == "onnx-fp32":
                assert vs["max_abs_diff"] < 1e-4 and vs["cosine"] > 0.999999
            else:  # int8: within a quantization step; on an x86 host without VNNI, ORT's AVX2 u8s8 kernels sum
                # pairs of products in 16 bits, which saturate (why ORT recommends reduce_range there), so the host
                # itself is further from the ARM kernels than rounding
                assert vs["cosine"] > (0.999 if _host_has_vnni() else 0.95) and vs["top1_agreement"] >= 2 / 3
            assert e["accuracy"]["samples"] == 3 and e["host_accuracy"]["samples"] == 3
        assert "vs_cpu" not in entries[0] and entries[1]["vs_cpu"]["qemu_cpu"] == "neoverse-n1"
        assert rec["accuracy_budget"]["judged_on"].startswith("host kernels and target kernels (emulated aarch64")
        seen.add(rec["variant"])
    assert seen == {"onnx-fp32", "onnx-static-int8"}
    assert "target parity:" in proc.stdout and "CPU models" in proc.stdout
    assert "on target kernels (emulated aarch64, 3 samples)" in proc.stdout  # in the decision block
    html = (out / "report.html").read_text()
    parity = html[html.index('id="target-parity"'):]
    assert "<td>cortex-a72</td>" in parity and "vs neoverse-n1" in parity


def test_an_arm64_run_without_the_environment_says_so_once_and_keeps_host_figures(arm_run):
    """conftest's arm64 run has an isolated cache, so no emulated environment."""
    out, proc = arm_run
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    lines = [w for w in doc["warnings"] if "target's kernels" in w]
    assert len(lines) == 1 and "bench target setup arm64" in lines[0] and "\n" not in lines[0]
    assert all("target_accuracy" not in r and r["accuracy"] for r in doc["results"])


def test_target_table_of_a_profile_is_validated(tmp_path):
    assert load_profile("arm64").target.qemu_cpu == ("neoverse-n1", "cortex-a72")
    base = (PROFILE_DIR / "mobile.toml").read_text()
    for bad, message in [('qemu_cpu = ["cortex-a76"]\nsamples = 0', "target.samples"),
                         ('qemu_cpu = ["cortex-a76", "cortex-a76"]', "twice"),
                         ('qemu_cpu = ["cortex a76; rm -rf /"]', "target.qemu_cpu"),
                         ('qemu_cpu = ["cortex-a76"]\nspeed = 1', "unknown key")]:
        path = tmp_path / "p.toml"
        path.write_text(base.replace('qemu_cpu = ["cortex-a76"]\nsamples = 16', bad))
        with pytest.raises(ProfileError, match=message):
            load_profile(str(path))


def test_parity_figures_and_the_budget_judged_on_host_and_target():
    import numpy as np

    from edgebench.benchmarks.emulation.parity import parity_entry, target_budget

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((10, 4)).astype(np.float32)
    host = ref + 1e-7
    target = host.copy()
    target[3] = target[3][::-1]  # one sample whose class changes on the target's kernels
    entry = parity_entry("cortex-a72", [ref], [host], [target[:5]], None)
    assert entry["samples"] == 5 and entry["vs_host"]["top1_agreement"] == 0.8 and not entry["vs_host"]["bit_exact"]
    assert entry["host_accuracy"]["top1_agreement"] == 1.0 and entry["accuracy"]["top1_agreement"] == 0.8
    same = parity_entry("neoverse-n1", [ref], [host], [host[:5]], None)
    assert same["vs_host"]["bit_exact"] and same["vs_host"]["max_abs_diff"] == 0.0
    budget = target_budget({"ok": False, "violations": ["cosine 0.9 < 0.99"]}, [same, entry], 0.99, 0.99)
    assert budget is not None and not budget["ok"]
    assert budget["violations"][0] == "host: cosine 0.9 < 0.99"  # a few target samples never clear the host's
    assert "cortex-a72: top-1 agreement 0.800 < 0.99" in budget["violations"]
    assert all(v.startswith(("host: ", "cortex-a72: ")) for v in budget["violations"])  # n1 was bit-exact: passes
    assert "QEMU_CPU=neoverse-n1, cortex-a72; 5 samples" in budget["judged_on"]
    assert target_budget({"ok": True, "violations": []}, [{"qemu_cpu": "x", "error": "crashed"}], 0.99, 0.99) is None


@pytest.mark.slow
def test_setup_offline_fails_in_one_line(tmp_path):
    """In a network namespace of its own (no network at all) apt cannot reach its sources."""
    import shutil
    import subprocess
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs root)")
    from conftest import BENCH
    proc = subprocess.run(["unshare", "-n", *BENCH, "target", "setup", "arm64", "--quiet"], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, EDGEBENCH_TARGETS=str(tmp_path)))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "(offline?)" in proc.stderr, proc.stderr
    assert not (tmp_path / "arm64" / "ready.json").exists()


@pytest.mark.slow  # needs the prepared environment (setup takes ~50 s on a fresh machine)
def test_a_system_qemu_is_used_only_from_version_8_2(arm64_targets, tmp_path, monkeypatch):
    """bookworm's qemu-user 7.2 passes the host's /proc/cpuinfo through: never used; a new enough one is."""
    from edgebench.benchmarks.emulation.qemu import system_qemu

    old = tmp_path / "old"
    old.mkdir()
    (old / "qemu-aarch64").write_text("#!/bin/sh\necho 'qemu-aarch64 version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)'\n")
    (old / "qemu-aarch64").chmod(0o755)
    monkeypatch.setenv("PATH", str(old))
    found, why = system_qemu("qemu-aarch64")
    assert found is None and "is 7.2 (older than 8.2)" in why
    new = tmp_path / "new"
    new.mkdir()
    manifest = json.loads((arm64_targets / "arm64" / "ready.json").read_text())
    (new / "qemu-aarch64").symlink_to(manifest["qemu"]["path"])  # the one setup found or unpacked: >= 8.2
    monkeypatch.setenv("PATH", f"{new}:{old}")
    found, why = system_qemu("qemu-aarch64")
    assert found == new / "qemu-aarch64" and why.startswith(f"system {new / 'qemu-aarch64'} ")
