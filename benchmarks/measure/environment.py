"""Where a result was measured: CPU, the flags that pick kernels, cores, governor, load, package versions."""
from __future__ import annotations

import hashlib
import os
import platform
import socket
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from edgebench.hardware_profiles import host_arch

PACKAGES = ("edgebench", "tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx", "onnxruntime", "onnxsim",
            "ai-edge-litert", "pyperf", "numpy", "rich", "plotly")
# The flags that decide which kernels ORT / XNNPACK pick.
KERNEL_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16",
                "amx_int8", "amx_bf16", "asimd", "asimddp", "asimdhp", "i8mm", "bf16", "sve", "sve2", "sme")


def _cpuinfo() -> tuple[str, list[str]]:
    model = platform.processor() or platform.machine()
    flags: list[str] = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "cpu model", "hardware") and model in ("", platform.machine()):
                    model = val.strip()
                elif key in ("flags", "features") and not flags:
                    flags = val.split()
    except OSError:
        pass
    return model, flags


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return None


def package_versions() -> dict[str, str]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            continue
    return out


def describe_host() -> dict[str, Any]:
    model, flags = _cpuinfo()
    cores = os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    hostname = socket.gethostname()
    host = {
        "hostname": hostname,
        "arch": host_arch(),
        "machine": platform.machine(),
        "cpu_model": model,
        "kernel_flags": [f for f in KERNEL_FLAGS if f in flags],
        "cores": cores,
        "usable_cores": usable,
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "max_mhz": None,
        "load_avg_start": [round(v, 2) for v in load],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": package_versions(),
    }
    khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if khz and khz.isdigit():
        host["max_mhz"] = int(khz) // 1000
    host["cpu_busy_at_start"] = cpu_busy_fraction()
    host["host_id"] = hashlib.sha256(f"{hostname}|{model}|{cores}".encode()).hexdigest()[:12]
    return host


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def cpu_busy_fraction(interval: float = 0.5) -> float | None:
    """Share of all CPUs busy over `interval` seconds (the load average lags by minutes, so sample /proc/stat)."""
    import time
    a = _cpu_times()
    time.sleep(interval)
    b = _cpu_times()
    if a is None or b is None or b[0] == a[0]:
        return None
    return 1.0 - (b[1] - a[1]) / (b[0] - a[0])


def busy_warning(host: dict[str, Any], busy: float | None) -> str | None:
    """A warning when other work already occupies more than a quarter of the machine."""
    if busy is not None and busy > 0.25:
        return (f"machine busy at start: {busy:.0%} of {host['cores']} cores in use by other processes "
                f"(load average {host['load_avg_start'][0]}); timings may be inflated")
    return None
