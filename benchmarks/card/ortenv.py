"""Isolated environments that each hold one exact onnxruntime release, created on demand and cached.

An ML.NET release pins an old onnxruntime that has no wheel for this Python (1.10 stops at CPython 3.9, 1.14 at 3.10):
each environment is made with the first interpreter on this machine for which the package index has a wheel. Installs
use the user's own pip configuration (index, proxy, certificates); when the index cannot be reached the caller gets
an OrtEnvError with one line and falls back to the static check.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ENV_DIR_VAR = "EDGEBENCH_ORT_ENVS"
READY = ".edgebench-ready"  # written last: a half-made environment (killed install) is never used
_INSTALL_TIMEOUT = 600.0


class OrtEnvError(Exception):
    """No environment with that onnxruntime could be made; the message is one line for the user."""


def envs_root() -> Path:
    env = os.environ.get(ENV_DIR_VAR)
    if env:
        return Path(env)
    from edgebench.optimizers.artifacts import cache_root
    return cache_root() / "ort-envs"


def _version_key(path: str) -> tuple[int, ...]:
    digits = [p for p in Path(path).parent.parent.name.replace("python", "").split(".") if p.isdigit()]
    return tuple(int(d) for d in digits[:2])


def interpreters() -> list[str]:
    """This Python first, then other CPython 3 interpreters on this machine (PATH, pyenv), newest first."""
    found = [sys.executable]
    for minor in range(14, 7, -1):
        exe = shutil.which(f"python3.{minor}")
        if exe:
            found.append(exe)
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(os.path.join(pyenv, "versions", "3.*", "bin", "python3")), key=_version_key, reverse=True)
    unique: list[str] = []
    seen: set[str] = set()
    for exe in found:
        real = os.path.realpath(exe)
        if real not in seen and os.access(exe, os.X_OK):
            seen.add(real)
            unique.append(exe)
    return unique


def _numpy_pin(version: str) -> str:
    # onnxruntime before 1.19 was built against numpy 1.x and fails to import under numpy 2
    major, minor = (int(p) for p in version.split(".")[:2])
    return "numpy<2" if (major, minor) < (1, 19) else "numpy"


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")


def _offline(output: str) -> bool:
    # pip -vv logs an unreachable index as "Could not fetch URL ...: connection error" and goes on to the next one
    return "Could not fetch URL" in output and any(w in output for w in ("connection error", "timed out", "Max retries",
                                                                          "Name or service not known"))


def _fetch(exe: str, version: str, wheels: Path) -> tuple[bool, str]:
    """Download the wheel for this interpreter only (cheap, no environment made yet): (found, pip's output)."""
    proc = _run([exe, "-m", "pip", "download", "-vv", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                 "-d", str(wheels), f"onnxruntime=={version}"], _INSTALL_TIMEOUT)
    return proc.returncode == 0, proc.stdout + proc.stderr


def _make_env(exe: str, tag: str, version: str, wheels: Path) -> Path | None:
    dest = envs_root() / f"ort-{version}-py{tag}"
    shutil.rmtree(dest, ignore_errors=True)
    # same Python as ours: no pip inside (ensurepip costs seconds), our pip installs into it with --python; another
    # Python gets its own pip (ours may not support it)
    same = tag == f"{sys.version_info[0]}{sys.version_info[1]}"
    if _run([exe, "-m", "venv", *(["--without-pip"] if same else []), str(dest)], 300).returncode != 0:
        return None
    py = dest / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(py)] if same else [str(py), "-m", "pip"]
    inst = _run([*pip, "install", "-q", "--only-binary=:all:", "--disable-pip-version-check", "--find-links",
                 str(wheels), f"onnxruntime=={version}", _numpy_pin(version)], _INSTALL_TIMEOUT)
    if inst.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        return None
    (dest / READY).write_text(f"onnxruntime=={version}\n", encoding="utf-8")
    return py


def cached_python(version: str) -> Path | None:
    """The Python of a ready cached environment with onnxruntime==version, without making one."""
    for ready in sorted(envs_root().glob(f"ort-{version}-py*/{READY}")):
        return ready.parent / "bin" / "python"
    return None


def env_python(version: str, progress: Callable[[str], None] | None = None) -> Path:
    """The Python of a ready environment holding onnxruntime==version (made now if needed, said through `progress`;
    two processes asking for the same version at once take turns, the second finds the first one's environment)."""
    import fcntl

    root = envs_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"ort-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return cached_python(version) or _new(root, version, progress or (lambda _: None))


def _new(root: Path, version: str, say: Callable[[str], None]) -> Path:
    say(f"first use of onnxruntime {version}: downloading its wheel (5-20 MB) and numpy from your pip index into "
        f"{root} (made once, then reused)")
    tried: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgebench-wheels-") as tmp:
        for exe in interpreters():
            tag = _run([exe, "-c", "import sys; print('%d%d' % sys.version_info[:2])"], 60).stdout.strip()
            if not tag:
                continue
            found, output = _fetch(exe, version, Path(tmp))
            if not found:
                if _offline(output):
                    raise OrtEnvError(f"the package index cannot be reached to install onnxruntime=={version} "
                                      "(check pip's index/proxy settings)")
                tried.append(f"python{tag}")
                continue
            wheel = next(Path(tmp).glob("onnxruntime-*.whl"), None)
            if wheel:
                say(f"downloaded {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB); installing it for python{tag}")
            py = _make_env(exe, tag, version, Path(tmp))
            if py is not None:
                return py
            tried.append(f"python{tag} (install failed)")
    raise OrtEnvError(f"no wheel of onnxruntime=={version} for any Python on this machine (tried "
                      f"{', '.join(tried) or 'none'})")
