"""The profile's memory limit, enforced on benchmark child processes by watching their resident memory (RSS).

Why RSS and not resource.setrlimit(RLIMIT_AS): RLIMIT_AS caps *virtual* address space, and the runtimes reserve far
more than they touch. Measured on x86-64 with a MobileNetV2 (alpha 0.5): ONNX Runtime at 2 threads peaked at 326 MB
virtual for 66 MB resident; glibc reserves a 64 MB malloc arena per thread and 8 MB per thread stack, so the gap
grows with the thread count. An address-space limit would fail thread creation or arena setup with a confusing
error long before the model used that much memory, and differently per thread count. RLIMIT_RSS is ignored by
Linux. A cgroup memory.max would be exact but needs delegated cgroups, which most users lack.

So the parent polls the RSS of every process in the child's tree every 50 ms and kills the whole process group
when one process goes over the limit. A process that allocates faster than that can overshoot by what it allocates
in 50 ms; the record still fails, with the figure that was seen.
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

POLL_SECONDS = 0.05


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                kids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                continue
    except OSError:
        pass
    return kids


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (Linux /proc); just `root` where /proc cannot tell."""
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(_children(pid))
    return seen


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (our children start their own session); gone already is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class MemoryWatch:
    """Kill the process group of `pid` when any process in its tree has more than `limit_mb` resident."""

    def __init__(self, pid: int, limit_mb: float) -> None:
        self.pid = pid
        self.limit_mb = limit_mb
        self.exceeded_mb: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="edgebench-memory-watch", daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # one poll is 50 ms; never let a stuck /proc read hold up Ctrl-C

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            for p in process_tree(self.pid):
                rss = rss_mb(p)
                if rss is not None and rss > self.limit_mb:
                    self.exceeded_mb = rss
                    kill_group(self.pid)
                    return


def describe_excess(limit_mb: float, seen_mb: float) -> str:
    return (f"exceeded the profile's memory limit ([limits] max_rss_mb = {limit_mb:g}): a process reached "
            f"{seen_mb:.0f} MB resident and was stopped")
