"""The instances of one layout as child processes: start, send a request, read a reply, memory and failures.

Each instance runs in its own session (so a hang is killed with everything it started) under the profile's memory
limit (edgebench.benchmarks.isolation.limits). A dead instance becomes InstanceFailed with a one-line reason.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.benchmarks.isolation.childguard import PARENT_ENV
from edgebench.benchmarks.isolation.limits import MemoryWatch, describe_excess, kill_group
from edgebench.benchmarks.isolation.subproc import ChildResult, failure_reason
from edgebench.benchmarks.size.instance_child import READY, REPLY, REQUEST
from edgebench.benchmarks.size.layouts import Layout, cpu_sets


class InstanceFailed(RuntimeError):
    """An instance crashed, hung, went over the memory limit or failed to load; str() is the one-line reason."""


@dataclass(frozen=True)
class Candidate:
    """One variant on one runtime, as the run measured it."""

    variant: str
    runtime: str
    model_path: str
    settings: dict[str, Any]
    inputs_npz: str
    single_stream_p99_ms: float | None = None

    @property
    def name(self) -> str:
        return f"{self.variant} on {self.runtime}"


class InstancePool:
    def __init__(self, cand: Candidate, layout: Layout, cpus: list[int], timeout: float,
                 max_rss_mb: float | None) -> None:
        self.cand, self.layout, self.timeout, self.max_rss_mb = cand, layout, timeout, max_rss_mb
        self.cpu_sets = cpu_sets(layout, cpus)
        self.procs: list[subprocess.Popen] = []
        self.watches: list[MemoryWatch] = []
        self.logs: list[Path] = []
        self.load_s: list[float] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="edgebench-size-")

    def settings(self) -> dict[str, Any]:
        s = dict(self.cand.settings)
        if self.cand.runtime == "onnxruntime" and self.layout.spinning is not None:
            s["intra_op_spinning"] = self.layout.spinning
        if isinstance(s.get("enable_cpu_mem_arena"), list):  # a sweep in the profile: the runtime's own default
            s["enable_cpu_mem_arena"] = True
        return s

    def start(self) -> InstancePool:
        env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
        for i, cpus in enumerate(self.cpu_sets):
            log = Path(self._tmp.name) / f"instance{i}.log"
            self.logs.append(log)
            args = [sys.executable, "-m", "edgebench.benchmarks.size.instance_child", "--model", self.cand.model_path,
                    "--runtime", self.cand.runtime, "--threads", str(self.layout.threads),
                    "--cpus", ",".join(map(str, cpus)), "--settings", json.dumps(self.settings()),
                    "--inputs", self.cand.inputs_npz, "--variant", self.cand.variant]
            with open(log, "wb") as err:
                self.procs.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                                   env=env, start_new_session=True, bufsize=0))
            if self.max_rss_mb:
                self.watches.append(MemoryWatch(self.procs[-1].pid, self.max_rss_mb).__enter__())
        for i in range(len(self.procs)):
            tag, load_s = self.recv(i, self.timeout)
            if tag != READY:
                raise InstanceFailed(f"instance {i + 1} sent {tag} before it was ready")
            self.load_s.append(load_s)
        return self

    def send(self, i: int, tag: int) -> None:
        try:
            os.write(self.procs[i].stdin.fileno(), REQUEST.pack(tag))  # type: ignore[union-attr]
        except OSError:
            raise InstanceFailed(self.failure(i)) from None

    def fd(self, i: int) -> int:
        return self.procs[i].stdout.fileno()  # type: ignore[union-attr]

    def recv(self, i: int, timeout: float | None = None) -> tuple[int, float]:
        """(tag, inference seconds) of instance i's next reply; InstanceFailed when it died or stayed silent."""
        if timeout is not None and not select.select([self.fd(i)], [], [], timeout)[0]:
            self.kill(i)
            raise InstanceFailed(self.failure(i, hung=timeout))
        buf = b""
        while len(buf) < REPLY.size:
            chunk = os.read(self.fd(i), REPLY.size - len(buf))
            if not chunk:
                raise InstanceFailed(self.failure(i))
            buf += chunk
        tag, seconds = REPLY.unpack(buf)
        return int(tag), float(seconds)

    def kill(self, i: int) -> None:
        kill_group(self.procs[i].pid)

    def failure(self, i: int, hung: float | None = None) -> str:
        """Why instance i stopped answering, in one line."""
        what = f"instance {i + 1} of {self.layout.name} ({self.cand.name})"
        proc = self.procs[i]
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill(i)
            code = proc.wait()
        seen = self.watches[i].exceeded_mb if i < len(self.watches) else None
        if seen is not None:
            return f"{what} {describe_excess(self.max_rss_mb or 0, seen)}"
        if hung is not None:
            return f"{what} did not answer within {hung:g} s (hang) and was stopped"
        err = self.logs[i].read_text(encoding="utf-8", errors="replace")[-20_000:]
        return failure_reason(ChildResult(code if code != 0 else 1, "", err, False), what, self.timeout)

    def peak_rss_mb(self) -> list[float | None]:
        """Each instance's peak resident memory (VmHWM), the whole process: runtime, model and buffers."""
        out: list[float | None] = []
        for p in self.procs:
            try:
                text = Path(f"/proc/{p.pid}/status").read_text()
                out.append(next(int(ln.split()[1]) / 1024 for ln in text.splitlines() if ln.startswith("VmHWM:")))
            except (OSError, StopIteration, ValueError):
                out.append(None)
        return out

    def cpu_seconds(self) -> list[float]:
        """CPU time each instance has used so far (user + system)."""
        tick = os.sysconf("SC_CLK_TCK")
        out = []
        for p in self.procs:
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                out.append((int(fields[11]) + int(fields[12])) / tick)
            except (OSError, IndexError, ValueError):
                out.append(0.0)
        return out

    def close(self) -> None:
        for p in self.procs:
            try:
                if p.stdin:
                    p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            kill_group(p.pid)
            if p.stdout:
                p.stdout.close()
        for w in self.watches:
            w.__exit__(None, None, None)
        self._tmp.cleanup()

    def __enter__(self) -> InstancePool:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
