"""Child-process side of isolation: report a result or an exception as one parseable line, and die with the parent.

Imported by every child (pyperf workers, the evaluation child, the converter child), so it stays standard-library only.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import IO, Any

ERROR_MARKER = "EDGEBENCH-ERROR "
RESULT_MARKER = "EDGEBENCH-RESULT "
PARENT_ENV = "EDGEBENCH_PARENT_PID"


def report_result(obj: Any, stream: IO[str] | None = None) -> None:
    """Write `obj` as one RESULT_MARKER line of JSON (on stdout unless `stream` is given), so that whatever else the
    child's libraries print cannot be mistaken for it."""
    out = sys.stdout if stream is None else stream
    out.write(RESULT_MARKER + json.dumps(obj) + "\n")
    out.flush()


def parse_result(stdout: str) -> dict[str, Any]:
    """The object of the first RESULT_MARKER line in a child's output; LookupError when it printed none."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    raise LookupError("the child process printed no result")


def report_error(exc: BaseException) -> None:
    """Write the exception as one marker line on stderr: the parent prefers it to guessing from a traceback."""
    message = " ".join(str(exc).split()) or type(exc).__name__  # results.errors.one_line, kept standard-library
    sys.stderr.write(ERROR_MARKER + json.dumps({"type": type(exc).__name__, "message": message}) + "\n")
    sys.stderr.flush()


def run_guarded(main: Callable[[], None]) -> None:
    """Run a child's main; any exception becomes one marker line and exit status 1 (a crash stays a signal)."""
    die_with_parent()
    try:
        main()
    except SystemExit:
        raise
    except BaseException as exc:  # KeyboardInterrupt too: the child's own traceback is noise for the user
        report_error(exc)
        sys.exit(1)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (kill -9 of `bench` must not leave orphans measuring).

    pyperf starts its workers without a new session, so when our direct child (pyperf's manager) is killed its
    worker would otherwise keep running, compete for the CPU with the resumed run and write into its files.
    PARENT_ENV names the parent that started us: if it died before prctl took effect, we are already an orphan.
    """
    expected = os.environ.get(PARENT_ENV)
    os.environ[PARENT_ENV] = str(os.getpid())  # for the processes we start in turn
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if expected and expected.isdigit() and int(expected) != os.getppid():
        os._exit(1)
