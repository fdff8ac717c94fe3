"""Run the target's Python under qemu user-mode emulation, in its own process group, with a time limit.

QEMU_CPU picks the CPU model the guest sees, and so which kernels the runtimes choose (with or without dotprod,
i8mm, fp16 arithmetic). The child's environment is built from scratch: the host's PYTHONPATH or LD_LIBRARY_PATH
must never leak host (x86) modules into the target's interpreter.
"""
from __future__ import annotations

import ctypes
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.emulation.child import OUTPUT_PREFIX, RESULT_MARKER
from edgebench.benchmarks.emulation.environment import TargetEnv, TargetError
from edgebench.benchmarks.isolation.limits import kill_group
from edgebench.benchmarks.isolation.reasons import describe_signal

CHILD = Path(__file__).resolve().with_name("child.py")
# process groups of the emulated children running now (several run at once, from threads): Ctrl-C stops them all
_RUNNING: set[int] = set()


class EmulationError(RuntimeError):
    """One emulated evaluation failed; the message is one line."""


def _die_with_parent() -> None:
    # runs in the child between fork and exec: PR_SET_PDEATHSIG survives exec, so qemu dies with `bench`
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def run_emulated(env: TargetEnv, qemu: Path, qemu_cpu: str, args: list[str], timeout: float) -> dict[str, Any]:
    """`python -I args...` on the target under qemu; the child's RESULT_MARKER object, or EmulationError."""
    child_env = {"QEMU_CPU": qemu_cpu, "QEMU_LD_PREFIX": str(env.sysroot), "PATH": "/usr/bin:/bin",
                 "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [str(qemu), str(env.python), "-I", *args]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                env=child_env, start_new_session=True, preexec_fn=_die_with_parent)
    except OSError as exc:
        raise EmulationError(f"cannot start {qemu.name}: {exc.strerror or exc}") from None
    _RUNNING.add(proc.pid)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        raise EmulationError(f"did not finish within {timeout:g} s under emulation (hang or too slow; "
                             "fewer [target] samples or a larger --timeout)") from None
    except BaseException:
        kill_group(proc.pid)
        proc.communicate()
        raise
    finally:
        _RUNNING.discard(proc.pid)
    kill_group(proc.pid)
    result = _marker(out)
    if result is not None and "error" not in result and proc.returncode == 0:
        return result
    if result is not None and "error" in result:
        raise EmulationError(str(result["error"]))
    if proc.returncode < 0:
        raise EmulationError(f"crashed under emulation with {describe_signal(-proc.returncode)}")
    lines = [ln.strip() for ln in (err + "\n" + out).splitlines() if ln.strip()]
    raise EmulationError(" ".join((lines[-1] if lines else f"exit status {proc.returncode}").split())[:300])


def _marker(stdout: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            try:
                obj = json.loads(line[len(RESULT_MARKER):])
            except ValueError:
                return None
            return obj if isinstance(obj, dict) else None
    return None


def evaluate_emulated(env: TargetEnv, qemu_cpu: str, runtime: str, model: str, settings: dict[str, Any],
                      inputs_npz: Path, outputs_npz: Path, timeout: float) -> list[np.ndarray]:
    """The model's outputs on the target's runtime build, one sample at a time, on the arrays of `inputs_npz`."""
    problem = env.problem()
    if problem is not None:
        raise TargetError(problem)
    outputs_npz.unlink(missing_ok=True)
    run_emulated(env, env.qemu(), qemu_cpu, [str(CHILD), "--site", str(env.site), "--runtime", runtime,
                                             "--model", str(Path(model).resolve()), "--settings", json.dumps(settings),
                                             "--inputs", str(inputs_npz.resolve()),
                                             "--outputs", str(outputs_npz.resolve())], timeout)
    with np.load(outputs_npz, allow_pickle=False) as z:
        names = sorted((n for n in z.files if n.startswith(OUTPUT_PREFIX)), key=lambda n: int(n[len(OUTPUT_PREFIX):]))
        outs = [z[n] for n in names]
    outputs_npz.unlink(missing_ok=True)
    if not outs:
        raise EmulationError("the emulated run wrote no outputs")
    return outs



def stop_all() -> None:
    """Kill every emulated child still running (their own sessions do not get the terminal's Ctrl-C)."""
    for pid in list(_RUNNING):
        kill_group(pid)


def known_cpus(qemu: Path) -> set[str] | None:
    """The CPU models this qemu emulates (`-cpu help`), None when it cannot say."""
    try:
        out = subprocess.run([str(qemu), "-cpu", "help"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = {line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.split()}
    return names or None
