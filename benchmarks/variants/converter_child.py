"""The converter child: the only process of a run that imports TensorFlow.

`python -m edgebench.benchmarks.variants.converter_child` reads one JSON request per line on stdin and answers each with one
result line (edgebench.benchmarks.isolation.childguard.report_result) on a private copy of stdout (file descriptor 1 itself is pointed at stderr, so
whatever TensorFlow, Keras or tf2onnx print cannot corrupt a reply). Requests:
  {"op": "specs", "source": {...}}                       input specs of a Keras file or SavedModel
  {"op": "build", "source", "profile", "data", "input_names", "variant"}   build one variant (BuildContext.variant)
  {"op": "prepare", "source", "profile", "data", "input_names"}   build what both runtimes' variants start from
  {"op": "warm"}                                           import TensorFlow now (a first run will need it)
  {"op": "reference", "source", "specs", "inputs", "outputs"}  the source model's outputs on the inputs (.npz)
  {"op": "litert_mixed", "source", "profile", "data", "input_names", "denylist"?}  rank the layers of full int8
                                                           (no denylist) or build it keeping them in float
Replies carry "ok", or "user_error" / "not_applicable" / "error" with one line. A crash of TensorFlow kills only
this process; the parent (edgebench.benchmarks.variants.converter_parent) turns it into a failed variant and starts a fresh child.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.benchmarks.isolation.childguard import report_result
from edgebench.results.errors import one_line

if TYPE_CHECKING:
    from edgebench.benchmarks.variants.sources import ModelSource
    from edgebench.benchmarks.variants.specs import BuildContext

REASON_CHARS = 400  # the longest one-line reason a reply carries


class _State:
    """What survives between requests: the loaded source model and the build context (its artifact cache)."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.handle_key: str | None = None
        self.specs: list[dict[str, Any]] = []
        self.ctx: BuildContext | None = None
        self.ctx_key: str | None = None


def _source(d: dict[str, Any]) -> ModelSource:
    from edgebench.benchmarks.variants.sources import ModelSource
    return ModelSource(Path(d["path"]), d["format"], d["name"], d["sha256"], d["size_bytes"])


def _load(state: _State, source: ModelSource) -> list[dict[str, Any]]:
    """Load the source in its framework (Keras in safe mode) once; returns its input specs."""
    if state.handle_key != source.sha256:
        from edgebench.benchmarks.variants import reference
        state.handle, state.specs = (reference.keras_io(source) if source.format == "keras"
                                     else reference.savedmodel_io(source))
        state.handle_key = source.sha256
    return state.specs


def _context(state: _State, req: dict[str, Any]) -> BuildContext:
    key = json.dumps([req["source"]["sha256"], req["data"]["npz"], req.get("input_names")])
    if state.ctx is None or state.ctx_key != key:
        from edgebench.benchmarks.isolation.npzio import read_arrays, read_axes, read_named
        from edgebench.benchmarks.variants.data import DataSet
        from edgebench.benchmarks.variants.specs import BuildContext
        from edgebench.hardware_profiles import parse_profile
        npz = req["data"]["npz"]
        arrays = read_arrays(npz)
        data = DataSet(arrays, read_named(npz, "labels"), req["data"]["kind"], req["data"]["description"],
                       read_axes(npz, len(arrays)))
        profile = parse_profile(req["profile"]["raw"], req["profile"]["source"])
        source = _source(req["source"])
        state.ctx = BuildContext(source=source, profile=profile, data=data, input_names=req.get("input_names"),
                                 loaded=state.handle if state.handle_key == source.sha256 and source.format == "keras"
                                 else None)
        state.ctx_key = key
    return state.ctx


def _known(ctx: BuildContext) -> list[dict[str, Any]]:
    return [a.to_dict() for a in ctx.known.values()]


def _logged(req: dict[str, Any], exc: BaseException) -> str:
    """The one-line reason, and the tool's full output (else the traceback) kept at DIR/logs/<variant>.log; the
    reason points at it."""
    from edgebench.optimizers.converter_log import REASON_CHARS as SHORT
    reason = one_line(exc, SHORT)
    if not req.get("logs"):
        return reason
    import traceback
    log = getattr(exc, "log", None) or "".join(traceback.format_exception(exc))
    try:
        folder = Path(req["logs"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{req['variant']}.log").write_text(f"{reason}\n\n{log}", encoding="utf-8")
    except OSError:  # a full disk costs the log, not the reason
        return reason
    return f"{reason} (full log: logs/{req['variant']}.log)"


def handle(state: _State, req: dict[str, Any]) -> dict[str, Any]:
    from edgebench.benchmarks.isolation import faults
    from edgebench.optimizers.convert import ConversionError
    from edgebench.results.errors import UserError

    op = req["op"]
    if op == "specs":
        try:
            return {"ok": True, "specs": _load(state, _source(req["source"]))}
        except (UserError, ConversionError) as exc:
            return {"user_error": one_line(exc, REASON_CHARS)}
        except Exception as exc:  # TensorFlow's errors for a bad SavedModel are many types; all mean "cannot load"
            why = one_line(exc, REASON_CHARS)
            if "0 MetaGraphs" in why:  # TensorFlow's own words blame a missing tags= argument
                why = "saved_model.pb holds no MetaGraph (it is empty or damaged)"
            return {"user_error": f"{req['source']['path']} cannot be loaded by TensorFlow: {why}"}
    if op == "build":
        from edgebench.benchmarks.variants.specs import NotApplicable
        faults.inject("convert", [req["variant"]])
        ctx = _context(state, req)
        try:
            art = ctx.variant(req["variant"])  # builds what it starts from once, remembers failures
        except NotApplicable as exc:
            return {"not_applicable": one_line(exc, REASON_CHARS), "known": _known(ctx)}
        except Exception as exc:  # a failing pass costs its own variant (and those made from it) only
            return {"error": _logged(req, exc), "known": _known(ctx)}
        return {"ok": True, "artifact": art.to_dict(), "lineage": ctx.lineage(art), "known": _known(ctx)}
    if op == "prepare":
        ctx = _context(state, req)
        try:
            ctx.shared_parents()
        except Exception as exc:  # each variant that needs it fails with this reason when it is built
            return {"error": one_line(exc, REASON_CHARS), "known": _known(ctx)}
        return {"ok": True, "known": _known(ctx)}
    if op == "litert_mixed":
        return _litert_mixed(_context(state, req), req.get("denylist"))
    if op == "warm":  # a first run: TensorFlow is imported now, beside the other child's work, not when first needed
        from edgebench.optimizers.convert import import_tensorflow
        import_tensorflow()
        return {"ok": True}
    if op == "reference":
        from edgebench.benchmarks.isolation.npzio import read_arrays, read_axes, write_arrays
        from edgebench.benchmarks.variants.reference import output_names, reference_outputs
        faults.inject("reference", [])
        source = _source(req["source"])
        try:
            _load(state, source)
            inputs = read_arrays(req["inputs"])
            outs = reference_outputs(source, state.handle, req["specs"], inputs,
                                     axes=read_axes(req["inputs"], len(inputs)))
            names = output_names(source, state.handle)
        except Exception as exc:
            return {"error": one_line(exc, REASON_CHARS)}
        write_arrays(req["outputs"], outs)
        return {"ok": True, "names": names if len(names) == len(outs) else None}
    return {"error": f"unknown request {op!r}"}


def _litert_mixed(ctx: BuildContext, denylist: list[str] | None) -> dict[str, Any]:
    """QuantizationDebugger's ranking of the full-int8 layers, or the int8 model keeping `denylist` in float."""
    from edgebench.optimizers.tflite_mixed import int8_denylisting, layer_sensitivity
    try:
        sm = ctx.saved_model()
        names = ctx.input_names or [f"input_{i}" for i in range(len(ctx.data.inputs))]
        calibration = ctx.calibration(names)
        if denylist is None:
            return {"ok": True, "layers": layer_sensitivity(sm.path, calibration)}
        art = ctx.remember(int8_denylisting(sm.path, sm.sha256, calibration, denylist))
    except Exception as exc:
        return {"error": one_line(exc, REASON_CHARS)}
    return {"ok": True, "artifact": art.to_dict(), "lineage": ctx.lineage(art), "known": _known(ctx)}


def main() -> None:
    from edgebench.optimizers.convert import IN_CONVERTER_CHILD
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ[IN_CONVERTER_CHILD] = "1"
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # library prints go to stderr; replies have their own descriptor
    state = _State()
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = handle(state, json.loads(line))
        report_result(reply, replies)


if __name__ == "__main__":
    from edgebench.benchmarks.isolation.childguard import run_guarded
    run_guarded(main)
