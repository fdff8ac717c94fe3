"""Conversions and reference outputs in a child process, so a crashing or hanging converter costs one variant.

TensorFlow's converters are native code that can abort (MLIR LOG(FATAL)) or segfault on unusual models; in the main
process that would end the run and lose the matrix. One child (edgebench.benchmarks.variants.converter_child) holds TensorFlow for the
whole run, so TensorFlow is imported once; when it dies or exceeds the time limit, the request it was serving fails
with a one-line reason and the next request starts a fresh child.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from edgebench.benchmarks.isolation.childguard import PARENT_ENV, RESULT_MARKER, parse_result
from edgebench.benchmarks.isolation.limits import kill_group
from edgebench.benchmarks.isolation.npzio import encode_axes, read_arrays, write_arrays
from edgebench.benchmarks.isolation.subproc import ChildResult, failure_reason, run_checked
from edgebench.benchmarks.variants.data import DataSet
from edgebench.benchmarks.variants.sources import ModelSource
from edgebench.benchmarks.variants.specs import VariantSpec
from edgebench.hardware_profiles import Profile
from edgebench.optimizers.artifacts import Artifact
from edgebench.results.errors import UserError, one_line


def child_env() -> dict[str, str]:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                **{PARENT_ENV: str(os.getpid())})


@dataclass
class Built:
    """One variant's outcome: its artifact and lineage (computed in the child, which knows the parents), or why not."""

    spec: VariantSpec
    artifact: Artifact | None = None
    error: str | None = None  # one line: why the pass failed
    skipped: str | None = None  # why the variant does not apply (NotApplicable)
    lineage: list[dict[str, Any]] = field(default_factory=list)


def _artifact(d: dict[str, Any]) -> Artifact:
    d = dict(d)
    d["pass_name"] = d.pop("pass")
    return Artifact(**d)


class ChildFailed(RuntimeError):
    """A request the converter child could not answer; the message is one line."""


class _Child:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "edgebench.benchmarks.variants.converter_child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace", env=env, start_new_session=True)
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr  # all three are pipes
        self.stdin: IO[str] = self.proc.stdin
        self.replies: queue.Queue[str | None] = queue.Queue()
        self.stderr: collections.deque[str] = collections.deque(maxlen=200)  # TensorFlow logs a lot: keep the end
        threading.Thread(target=self._read_replies, args=(self.proc.stdout,), daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True)
        self._stderr_reader.start()
        self._finalizer = weakref.finalize(self, kill_group, self.proc.pid)

    def _read_replies(self, stdout: IO[str]) -> None:
        for line in stdout:
            if line.startswith(RESULT_MARKER):
                self.replies.put(line)
        self.replies.put(None)

    def _read_stderr(self, stderr: IO[str]) -> None:
        for line in stderr:
            self.stderr.append(line)

    def kill(self) -> int:
        kill_group(self.proc.pid)
        code = self.proc.wait()
        self._finalizer.detach()  # once reaped, its pid may be reused: never signal that number again
        self._stderr_reader.join(timeout=5)  # its last words are the failure reason
        return code


class ConverterProcess:
    """Requests to the converter child; `what` names the work in failure messages."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._child: _Child | None = None
        self._data: dict[str, Any] | None = None
        self._known: dict[str, Artifact] = {}  # by sha256, across child restarts
        self._warming: threading.Thread | None = None

    def start(self) -> None:
        """Start the child now, from this thread: the child dies with the thread that started it (PR_SET_PDEATHSIG
        follows the thread), so a child meant to outlive a worker thread is started by the main one."""
        if self._child is not None and self._child.proc.poll() is not None:
            self._fail(self._child)  # died between requests: stop what it left running
        if self._child is None:
            self._child = _Child(child_env())

    def warm_up(self) -> None:
        """Start the child and import TensorFlow in it in the background: a first run needs it there, and the import
        takes seconds that the other child's work hides. The next request waits for it."""
        self.start()

        def warm() -> None:
            with contextlib.suppress(ChildFailed):
                self.call({"op": "warm"}, "importing TensorFlow")
        self._warming = threading.Thread(target=warm, daemon=True)
        self._warming.start()

    def call(self, request: dict[str, Any], what: str) -> dict[str, Any]:
        if self._warming is not None and self._warming is not threading.current_thread():
            self._warming.join()
            self._warming = None
        self.start()
        child = self._child
        assert child is not None
        try:
            child.stdin.write(json.dumps(request) + "\n")
            child.stdin.flush()
            line = child.replies.get(timeout=self.timeout)
        except queue.Empty:
            self._fail(child)
            raise ChildFailed(f"{what} did not finish within {self.timeout:g} s (hang or too slow; raise --timeout)") \
                from None
        except BrokenPipeError:
            line = None
        except BaseException:  # Ctrl-C: the child must not outlive the run
            self._fail(child)
            raise
        if line is None:
            code = self._fail(child)
            res = ChildResult(code, "", "".join(child.stderr), False)
            raise ChildFailed(failure_reason(res, what, self.timeout))
        return parse_result(line)

    def _fail(self, child: _Child) -> int:
        code = child.kill()
        self._child = None
        return code

    @property
    def running(self) -> bool:
        """Whether the child has been started (a Keras or SavedModel source read for the first time starts it)."""
        return self._child is not None

    def kill(self) -> None:
        """Stop the child at once (an interrupted run)."""
        if self._child is not None:
            self._fail(self._child)

    def adopt_known(self, other: ConverterProcess) -> None:
        """The artifacts another converter made or reused count in this one's conversion summary (a file one made
        and the other then took from the cache counts as made)."""
        for sha, art in other._known.items():
            if sha not in self._known or (self._known[sha].reused and not art.reused):
                self._known[sha] = art

    def close(self) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            try:
                child.stdin.close()
                child.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            child.kill()

    # --- the three requests -------------------------------------------------------------------------------
    def specs(self, source: ModelSource) -> list[dict[str, Any]]:
        """Input specs of a Keras file or SavedModel; any failure is the user's input at fault (exit 2)."""
        fw = "Keras" if source.format == "keras" else "TensorFlow"
        try:
            reply = self.call({"op": "specs", "source": source.to_dict()}, f"reading {source.path} in {fw}")
        except ChildFailed as exc:
            raise UserError(str(exc)) from None
        if "user_error" in reply:
            raise UserError(reply["user_error"])
        return reply["specs"]

    def build(self, variant: str, source: ModelSource, profile: Profile, data: DataSet, input_names: list[str],
              workdir: Path) -> tuple[Artifact, list[dict[str, Any]]]:
        """Build one variant: (artifact, lineage). Raises NotApplicable as the builder did, ChildFailed otherwise."""
        from edgebench.benchmarks.variants.specs import NotApplicable

        reply = self.call({"op": "build", "variant": variant, "source": source.to_dict(), "input_names": input_names,
                           "logs": str(workdir.parent / "logs"),  # DIR/logs/<variant>.log for a failed pass
                           "profile": {"raw": profile.raw, "source": profile.source},
                           "data": self._data_request(data, workdir)}, f"building {variant}")
        for d in reply.get("known", []):
            self._known[d["sha256"]] = _artifact(d)
        if "not_applicable" in reply:
            raise NotApplicable(reply["not_applicable"])
        if "error" in reply:
            raise ChildFailed(reply["error"])
        return _artifact(reply["artifact"]), reply["lineage"]

    def prepare(self, source: ModelSource, profile: Profile, data: DataSet, input_names: list[str],
                workdir: Path) -> bool:
        """Build what the variants of both runtimes start from (see BuildContext.shared_parents); False when that
        failed, so that the variants are best built one after another, each failing with its own reason."""
        try:
            reply = self.call({"op": "prepare", "source": source.to_dict(), "input_names": input_names,
                               "profile": {"raw": profile.raw, "source": profile.source},
                               "data": self._data_request(data, workdir)}, "building the shared parents")
        except ChildFailed:
            return False
        for d in reply.get("known", []):
            self._known[d["sha256"]] = _artifact(d)
        return bool(reply.get("ok"))

    def build_all(self, specs: list[VariantSpec], source: ModelSource, profile: Profile, data: DataSet,
                  input_names: list[str], workdir: Path, on_start: Callable[[str], None] | None = None,
                  on_done: Callable[[str, str], None] | None = None) -> list[Built]:
        """Build every spec, one request per variant: a failing or crashing pass costs its own variant (and those made
        from it) only. on_start(name) before each variant, on_done(name, 'ok' | 'skipped' | 'failed') after it."""
        from edgebench.benchmarks.variants.specs import NotApplicable

        out = []
        for spec in specs:
            if on_start:
                on_start(spec.name)
            try:
                art, lineage = self.build(spec.name, source, profile, data, input_names, workdir)
                out.append(Built(spec, artifact=art, lineage=lineage))
            except NotApplicable as exc:
                out.append(Built(spec, skipped=str(exc)))
            except Exception as exc:
                out.append(Built(spec, error=f"conversion failed: {one_line(exc, 400)}"))
            if on_done:
                on_done(spec.name, "failed" if out[-1].error else "skipped" if out[-1].skipped else "ok")
        return out

    def litert_mixed(self, denylist: list[str] | None, source: ModelSource, profile: Profile, data: DataSet,
                     input_names: list[str], workdir: Path) -> dict[str, Any]:
        """The LiteRT mixed-precision search's two requests (edgebench.optimizers.tflite_mixed): without a denylist
        the ranked layers ({"layers": [...]}), with one the int8 model keeping them in float ({"artifact",
        "lineage"}). Raises ChildFailed with the child's reason."""
        reply = self.call({"op": "litert_mixed", "denylist": denylist, "source": source.to_dict(),
                           "input_names": input_names, "profile": {"raw": profile.raw, "source": profile.source},
                           "data": self._data_request(data, workdir)},
                          "ranking the int8 layers" if denylist is None else "building tflite-int8-mixed")
        for d in reply.get("known", []):
            self._known[d["sha256"]] = _artifact(d)
        if "error" in reply:
            raise ChildFailed(reply["error"])
        if "artifact" in reply:
            reply["artifact"] = _artifact(reply["artifact"])
        return reply

    def conversion_summary(self) -> str:
        """edgebench.benchmarks.variants.specs.conversion_summary over every artifact the converter children made or reused."""
        from edgebench.benchmarks.variants.specs import conversion_summary
        return conversion_summary(self._known.values())

    def reference(self, source: ModelSource, specs: list[dict[str, Any]], inputs: list[np.ndarray],
                  workdir: Path, batch_axes: list[int | None] | None = None) -> tuple[list[np.ndarray], list[str] | None]:
        """The source model's outputs on `inputs` and its names for them (None when it has none to give)."""
        fw = "Keras" if source.format == "keras" else "TensorFlow"
        inputs_npz, outputs_npz = workdir / "reference-inputs.npz", workdir / "reference-outputs.npz"
        write_arrays(inputs_npz, inputs, batch_axes=encode_axes(batch_axes))
        reply = self.call({"op": "reference", "source": source.to_dict(), "specs": specs, "inputs": str(inputs_npz),
                           "outputs": str(outputs_npz)}, f"running the source model in {fw}")
        inputs_npz.unlink(missing_ok=True)
        if "error" in reply:
            raise ChildFailed(reply["error"])
        outs = read_arrays(outputs_npz)
        outputs_npz.unlink(missing_ok=True)
        return outs, reply.get("names")

    def _data_request(self, data: DataSet, workdir: Path) -> dict[str, Any]:
        """The calibration data as an .npz the child reads without pickle; written once per run."""
        if self._data is None:
            npz = workdir / "calibration-data.npz"
            write_arrays(npz, data.inputs, labels=data.labels, batch_axes=encode_axes(data.batch_axes))
            self._data = {"npz": str(npz), "kind": data.kind, "description": data.description}
        return self._data


def source_specs(source: ModelSource, converter: ConverterProcess, timeout: float) -> tuple[bool, list[dict[str, Any]]]:
    """(has a framework reference, input specs) of the user's model, read in a child process.

    A .tflite whose operators LiteRT lacks still yields its specs: the run goes on and the variants that need
    the operator fail on their own, with the reason.
    """
    if source.format in ("keras", "savedmodel"):
        return True, converter.specs(source)
    runtime = "litert" if source.format == "tflite" else "onnxruntime"

    def refused(why: str) -> UserError:
        return UserError(f"{source.path} cannot be loaded by {runtime}: {why}")

    res = run_checked(["-m", "edgebench.benchmarks.measure.evaluate", "--runtime", runtime, "--model", str(source.path),
                       "--specs"], timeout, "reading the model", child_env(), error=refused)
    try:
        return False, parse_result(res.stdout)["inputs"]
    except LookupError:
        raise refused("the reader printed no result") from None
