"""Child processes with a time limit, killed as a whole process group, whose failure becomes one line."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

_ERROR_LINE = re.compile(r"^\s*([\w.]*(Error|Exception|Fail\w*)|Segmentation fault|Aborted|Killed)\b.*")


@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


def run_child(args: list[str], timeout: float, env: dict[str, str] | None = None) -> ChildResult:
    """Run `python args...` in its own session so a hang can be killed with every process it started."""
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return ChildResult(proc.returncode, out, err, False)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return ChildResult(proc.returncode, out, err, True)
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def failure_reason(res: ChildResult, what: str, timeout: float) -> str:
    """One line saying why a child failed: timeout, signal, or the last error line it printed."""
    if res.timed_out:
        return f"{what} did not finish within {timeout:g} s (hang or too slow; raise --timeout)"
    text = res.stderr + "\n" + res.stdout
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    sig = _signal_in(lines, res.returncode)
    errors = [ln for ln in lines if _ERROR_LINE.match(ln)]
    detail = errors[-1] if errors else (lines[-1] if lines else "no output")
    detail = " ".join(detail.split())[:300]
    if sig:
        return f"{what} crashed ({sig}): {detail}" if errors else f"{what} crashed ({sig})"
    return f"{what} failed: {detail}"


def _signal_in(lines: list[str], returncode: int) -> str | None:
    if returncode < 0:
        return signal.Signals(-returncode).name
    for ln in lines:
        m = re.search(r"exit code (-\d+)", ln)
        if m:
            try:
                return signal.Signals(-int(m.group(1))).name
            except ValueError:
                return None
    return None
