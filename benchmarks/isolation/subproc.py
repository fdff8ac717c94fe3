"""Child processes with a time limit, killed as a whole process group, whose failure becomes one line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgebench.benchmarks.isolation.childguard import ERROR_MARKER, PARENT_ENV
from edgebench.benchmarks.isolation.limits import MemoryWatch, describe_excess, kill_group
from edgebench.benchmarks.isolation.reasons import concise, describe_signal
from edgebench.results.errors import one_line

_ERROR_LINE = re.compile(r"^\s*([\w.]*(Error|Exception|Fail\w*)|Segmentation fault|Aborted|Killed)\b.*")
# pyperf's manager reports a dead worker with this generic line; the worker's own marker line says more.
_PYPERF_GENERIC = re.compile(r"failed with exit code -?\d+")


@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    memory_limit_mb: float | None = None
    memory_seen_mb: float | None = None  # set when the memory watch stopped the child


def run_child(args: list[str], timeout: float, env: dict[str, str] | None = None,
              max_rss_mb: float | None = None) -> ChildResult:
    """Run `python args...` in its own session so a hang can be killed with every process it started.

    With `max_rss_mb`, every process of the child's tree is held to that resident memory (see edgebench.benchmarks.isolation.limits).
    """
    env = dict(os.environ if env is None else env, **{PARENT_ENV: str(os.getpid())})
    # errors="replace": a crashing native library may print anything, and decoding must not be what fails
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", env=env, start_new_session=True)
    watch = None
    try:
        if max_rss_mb:
            watch = MemoryWatch(proc.pid, max_rss_mb).__enter__()
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            out, err = _drain(proc)
            timed_out = True
    except BaseException:
        kill_group(proc.pid)
        _drain(proc)
        raise
    finally:
        if watch is not None:
            watch.__exit__(None, None, None)
    # the group may still hold grandchildren (pyperf workers) when the direct child died first
    kill_group(proc.pid)
    seen = watch.exceeded_mb if watch is not None else None
    return ChildResult(proc.returncode, out, err, timed_out and seen is None, max_rss_mb if seen else None, seen)


def run_checked(args: list[str], timeout: float, what: str, env: dict[str, str] | None = None,
                max_rss_mb: float | None = None, error: Callable[[str], Exception] = RuntimeError,
                output: Path | None = None) -> ChildResult:
    """run_child, then raise `error(reason)` with the one-line failure_reason when the child failed, timed out or
    went over its memory limit, or did not write the file `output`; `what` names the work in that reason."""
    res = run_child(args, timeout, env, max_rss_mb)
    if res.returncode != 0 or res.timed_out or (output is not None and not output.is_file()):
        raise error(failure_reason(res, what, timeout))
    return res


def _drain(proc: subprocess.Popen, seconds: float = 10.0) -> tuple[str, str]:
    """What a killed child wrote. Bounded: a process outside its group (one that made its own session) could hold
    the pipes open forever, and Ctrl-C must still end the run."""
    try:
        return proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return "", "(the child's output could not be read: its pipes stayed open after it was stopped)"


def marker_error(text: str) -> str | None:
    """The last error a guarded child reported (edgebench.benchmarks.isolation.childguard), as 'Type: message'.

    pyperf's manager reports a dead worker with a generic 'failed with exit code' error: skipped, the signal in
    it is read separately and the worker's own report, if any, says more.
    """
    found = None
    for line in text.splitlines():
        if line.startswith(ERROR_MARKER):
            try:
                d = json.loads(line[len(ERROR_MARKER):])
                error = f"{d['type']}: {d['message']}"
            except (ValueError, KeyError, TypeError):
                continue
            if not _PYPERF_GENERIC.search(error):
                found = error
    return found


def failure_reason(res: ChildResult, what: str, timeout: float) -> str:
    """One line saying why a child failed: memory limit, timeout, signal, or the error it reported."""
    if res.memory_seen_mb is not None:
        return f"{what} {describe_excess(res.memory_limit_mb or 0, res.memory_seen_mb)}"
    if res.timed_out:
        return f"{what} did not finish within {timeout:g} s (hang or too slow; raise --timeout)"
    text = res.stderr + "\n" + res.stdout
    sig = _signal_in(text.splitlines(), res.returncode)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(ERROR_MARKER)]
    reported = marker_error(text)
    if reported:
        detail = concise(reported)
    else:
        errors = [ln for ln in lines if _ERROR_LINE.match(ln) and not _PYPERF_GENERIC.search(ln)]
        generic = _PYPERF_GENERIC.search(text)
        if errors:
            detail = concise(errors[-1])
        elif sig:
            detail = None
        elif generic:
            detail = f"a pyperf worker {generic.group(0)}"
        else:
            detail = lines[-1] if lines else f"exit status {res.returncode} and no output"
    if detail:
        detail = one_line(detail)
    if sig:
        return f"{what} crashed with {describe_signal(sig)}" + (f": {detail}" if detail else "")
    return f"{what} failed: {detail}"


def _signal_in(lines: list[str], returncode: int) -> int | None:
    if returncode < 0:
        return -returncode
    for ln in lines:
        m = re.search(r"exit code (-\d+)", ln)
        if m:
            return -int(m.group(1))
    return None
