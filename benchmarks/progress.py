"""How `bench run` and `bench optimize` show progress (the Reporter of edgebench.benchmarks.run.options).

On a terminal: a rich bar per stage. In a log, a pipe or CI: one plain line per stage and per finished item, with
the time since the start, so a long run is never silent. With --quiet: nothing.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

# how the line of a finished item starts, by the start of its advance() text or of its stage: (done, not done)
_VERBS_BY_ITEM = {"building ": ("built ", "building "), "accuracy ": ("load-tested ", "load test of "),
                  "reference outputs ": ("reference outputs ", "reference outputs ")}
# what a stage with a count counts, by the start of its text
_UNITS = {"measuring": "benchmark", "preparing": "step", "accuracy on target": "emulated run"}
_VERBS_BY_STAGE = {"measuring": ("measured ", "measuring "), "operator profiles": ("profiled ", "profiling ")}


class BarReporter:
    """Rich progress: one bar per stage; advance() names the item being worked on and counts the previous one done."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task = None
        self.pending = False
        self.base = ""

    def stage(self, text: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(text, total=total)
        self.base = text
        self.pending = False

    def advance(self, text: str | None = None) -> None:
        if self.task is None:
            return
        self.progress.update(self.task, advance=1 if self.pending else 0,
                             description=f"{self.base}: {text}" if text else self.base)
        self.pending = True

    def begin(self, text: str) -> None:
        self.advance(text)

    def note(self, text: str) -> None:
        self.progress.console.print(text, markup=False)


class LineReporter:
    """One line per stage and per finished item, e.g. `[  12.3s] converting: 14 variants`, then
    `[  20.1s] built tflite-fp16: ok (1.2 s)` or `[  95.0s] measuring litert tflite-int8 t1 b1: FAILED (4.1 s)`.

    A stage with a count of items is told when it starts; one without (reading the model, reference outputs) when it
    ends, with its time: a bad input stopped there leaves the one error line on stderr. advance(text) names the item
    that starts now, so the item before it is finished when the next advance() or stage() comes, or at close(); a
    pipeline that knows how an item ended says so with done(text, status). Items that run at the same time start
    with begin(text) instead, and each ends with its own done(text, status), timed from its own start."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.stage_text = ""
        self.stage_start: float | None = None  # set while a stage without a count is open and not yet told
        self.item: str | None = None
        self.item_start = 0.0
        self.running: dict[str, float] = {}  # begin()-started items: start times by text

    def stage(self, text: str, total: int | None = None) -> None:
        self._finish()
        self._finish_running()
        self._end_stage()
        self.stage_text = text
        if total is None:
            self.stage_start = self.clock()
        else:
            unit = next((u for start, u in _UNITS.items() if text.startswith(start)), "variant")
            self._line(f"{text}: {total} {unit}{'s' * (total != 1)}")

    def advance(self, text: str | None = None) -> None:
        self._finish()
        self._tell_stage()
        self.item, self.item_start = text or "item", self.clock()

    def begin(self, text: str) -> None:
        """An item starts that may overlap others; done(text, status) ends it."""
        self._finish()
        self._tell_stage()
        self.running[text] = self.clock()

    def _tell_stage(self) -> None:
        if self.stage_start is not None:  # items after all: the stage is told as it starts
            self._line(self.stage_text)
            self.stage_start = None

    def done(self, text: str, status: str) -> None:
        """The item advance(text) or begin(text) named has ended: status 'ok', 'failed', 'skipped', ..."""
        if text in self.running:
            self._finish()
            self.item, self.item_start = text, self.running.pop(text)
        elif self.item is None:
            self.item_start = self.clock()
        self.item = text
        self._finish(status)

    def note(self, text: str) -> None:
        self._line(text)

    def close(self) -> None:
        self._finish()
        self._finish_running()
        self._end_stage()

    def _finish_running(self) -> None:
        for text, start in list(self.running.items()):
            self.item, self.item_start = text, start
            self._finish()
        self.running.clear()

    def _end_stage(self) -> None:
        if self.stage_start is not None:
            self._line(f"{self.stage_text}: done ({self.clock() - self.stage_start:.1f} s)")
            self.stage_start = None

    def _finish(self, status: str | None = None) -> None:
        if self.item is None:
            return
        seconds = self.clock() - self.item_start
        what = _what(self.stage_text, self.item, status in (None, "ok"))
        word = "" if status is None else f": {status if status == 'ok' else status.upper()}"
        self._line(f"{what}{word} ({seconds:.1f} s)")
        self.item = None

    def _line(self, text: str) -> None:
        self.stream.write(f"[{self.clock() - self.start:6.1f}s] {text}\n")
        self.stream.flush()


def _what(stage: str, item: str, ok: bool) -> str:
    """`built tflite-fp16` when it went well (or nobody said), `building tflite-fp16` before FAILED or SKIPPED."""
    for prefix, verbs in _VERBS_BY_ITEM.items():
        if item.startswith(prefix):
            return verbs[not ok] + item[len(prefix):]
    for prefix, verbs in _VERBS_BY_STAGE.items():
        if stage.startswith(prefix):
            return verbs[not ok] + item
    return f"finished {item}" if ok else item


@contextlib.contextmanager
def reporter_for(console: Any, quiet: bool = False) -> Iterator[BarReporter | LineReporter | None]:
    """The reporter for this console (None with quiet: the pipeline's silent one). A bar on a terminal, plain lines
    elsewhere; the last item's line is written only when the work ends normally (not on Ctrl-C or an error)."""
    if quiet:
        yield None
    elif not console.is_terminal:
        lines = LineReporter()
        yield lines
        lines.close()
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            yield BarReporter(progress)
