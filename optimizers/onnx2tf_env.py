"""A second onnx2tf release, installed privately on first use, for the models 1.28.8 cannot take.

onnx2tf >= 1.29 declares exact pins (tensorflow 2.19, onnx 1.19, onnxruntime 1.23, numpy 1.26, ...): a plain install
downgrades the whole stack. It runs with ours, so it is installed with `--no-deps` into a folder of the artifact
cache (pip's own configuration: the user's index, proxy, certificates) and imported from there in a child process:
two onnx2tf versions cannot share one interpreter. Measured here: 4.5 s to install, 5.4 MB on disk. Neither
version wins everything (1.29.24 converts a YOLOv8 DFL head 1.28.8 fails on, and fails a text detector 1.28.8
takes), so it is a fallback, and its output is checked like any conversion.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FALLBACK_VERSION = "1.29.24"
DISABLE_VAR = "EDGEBENCH_ONNX2TF_FALLBACK"  # "0": never install or use the fallback (offline machines, CI)
READY = ".edgebench-ready"
_TIMEOUT = 600.0


class FallbackUnavailable(RuntimeError):
    """The fallback converter could not be installed; the message is one line."""


def enabled() -> bool:
    return os.environ.get(DISABLE_VAR, "1") != "0"


def site_dir(version: str = FALLBACK_VERSION) -> Path:
    from edgebench.optimizers.artifacts import cache_root
    return cache_root() / "converters" / f"onnx2tf-{version}"


def install(version: str = FALLBACK_VERSION) -> Path:
    """The folder holding onnx2tf==version (installed now if needed, once per machine; concurrent runs take turns)."""
    import fcntl
    import shutil

    dest = site_dir(version)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f"onnx2tf-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (dest / READY).is_file():
            return dest
        shutil.rmtree(dest, ignore_errors=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                               "--target", str(dest), f"onnx2tf=={version}"], capture_output=True, text=True,
                              timeout=_TIMEOUT, errors="replace")
        if proc.returncode != 0:
            shutil.rmtree(dest, ignore_errors=True)
            last = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            raise FallbackUnavailable(f"pip could not install onnx2tf=={version}: {last[-1] if last else 'no output'}")
        size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
        facts = {"version": version, "install_seconds": round(time.perf_counter() - started, 2), "bytes": size}
        (dest / READY).write_text(json.dumps(facts) + "\n", encoding="utf-8")
    return dest


def install_facts(version: str = FALLBACK_VERSION) -> dict[str, Any] | None:
    ready = site_dir(version) / READY
    return json.loads(ready.read_text(encoding="utf-8")) if ready.is_file() else None


def run(request: dict[str, Any], version: str = FALLBACK_VERSION, timeout: float = 1800.0) -> tuple[bool, str, str]:
    """onnx2tf==version on `request` (edgebench.optimizers.onnx2tf_child's JSON) in a child process: (ok, the one-line
    reason when not, its full log)."""
    site = install(version)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0",
               PYTHONPATH=os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    try:
        proc = subprocess.run([sys.executable, "-m", "edgebench.optimizers.onnx2tf_child", json.dumps(request)],
                              capture_output=True, text=True, timeout=timeout, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        return False, f"onnx2tf {version} did not finish within {timeout:g} s", ""
    log = proc.stdout + proc.stderr
    marker = [ln for ln in proc.stdout.splitlines() if ln.startswith("EDGEBENCH-ONNX2TF ")]
    if not marker:
        return False, f"onnx2tf {version} ended without an answer (exit {proc.returncode})", log
    answer = json.loads(marker[-1].split(" ", 1)[1])
    return bool(answer["ok"]), answer.get("reason", ""), log
