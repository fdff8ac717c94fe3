"""Jobs that each wait on child processes, two at a time, with their progress told from the calling thread.

A run's preparation (conversions, reference outputs, load tests) is child processes that mostly keep one core busy;
on a 2-core machine two of them side by side finish in little more than the time of the longer. The progress bar
is not thread-safe, so the jobs only post events and the calling thread reports them.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Emit = Callable[[str, str, str], None]  # emit("start" | "done", item, status)
Job = Callable[[Emit], None]


def side_by_side(jobs: list[Job], on_start: Callable[[str], None] | None = None,
                 on_done: Callable[[str, str], None] | None = None, workers: int = 2) -> None:
    """Run `jobs` in order, `workers` at a time; returns when all have ended. A job's exception is raised here
    once every job has ended (jobs catch their own expected failures: this is for bugs)."""
    todo: queue.Queue[Job] = queue.Queue()
    for job in jobs:
        todo.put(job)
    events: queue.Queue[tuple[str, str, str] | None] = queue.Queue()
    errors: list[BaseException] = []

    def emit(kind: str, item: str, status: str = "") -> None:
        events.put((kind, item, status))

    def worker() -> None:
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    job(emit)
                except Exception as exc:
                    errors.append(exc)
        finally:
            events.put(None)

    count = max(1, min(workers, len(jobs)))
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    ended = 0
    while ended < count:
        event = events.get()
        if event is None:
            ended += 1
        elif event[0] == "start" and on_start:
            on_start(event[1])
        elif event[0] == "done" and on_done:
            on_done(event[1], event[2])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
