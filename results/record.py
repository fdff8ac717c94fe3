"""The result record: the one definition of a record's fields, its key, its benchmark name, and its validation.

`bench run` builds every record with `new_record` and fills the measured parts; every reader gets records through
`validate_record`, so a damaged file is reported as damaged (naming the field), never as failed benchmarks.
"""
# No `from __future__ import annotations` here: TypedDict reads Required[...] from the evaluated annotations.
import math
import sys
import types
import typing
from typing import Any, Literal, NamedTuple, TypedDict, Union

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required
else:  # pragma: no cover
    from typing_extensions import NotRequired, Required

from edgebench.results.errors import ResultsError

# The values this version writes. A reader may still meet others (a newer minor version may add a runtime or a
# method), so validation checks only that they are strings, as it keeps fields it does not know.
Runtime = Literal["litert", "onnxruntime"]
Status = Literal["ok", "failed"]
Method = Literal["full", "stopped-early", "stopped-cannot-win", "screened"]
IntervalKey = Literal["median_ci", "p99_ci"]  # the latency fields that hold a 95% confidence interval


class Latency(TypedDict, total=False):
    """Per-inference latency statistics (ms) from the raw samples; n is the sample count."""

    median: Required[float]
    mean: float
    stdev: float
    p90: float
    p99: float
    min: float
    max: float
    n: int
    median_ci: list[float]  # [low, high]: distribution-free 95% confidence interval of the median (ms)
    p99_ci: list[float]  # [low, high]: the same for the 99th percentile


class ColdStart(TypedDict, total=False):
    load_ms: float
    first_inference_ms: float
    n: int


class Memory(TypedDict, total=False):
    peak_rss_mb: float
    rss_after_import_mb: float
    peak_rss_total_mb: float
    peak_rss_during_load_mb: float
    peak_reset_supported: bool


class OutputFigures(TypedDict, total=False):
    """The figures of one output of a variant against the same output of the reference; top-1 only for class
    scores."""

    max_abs_error: float
    cosine: float
    cosine_min: float
    top1_agreement: float
    top1_accuracy: float
    # what the output is (stated with --output or [accuracy.outputs], else inferred) and the figure it is judged by
    kind: str
    kind_inferred: bool
    metric: str
    sqnr_db: float  # absent when the outputs are identical (`identical`)
    identical: bool
    mean_abs_error: float
    max_rel_error: float  # relative to the reference's range over all samples
    mean_rel_error: float
    reference_range: float
    exact_scale: float  # the larger of range and magnitude: below exact_tolerance of it an output is exact
    score_agreement: float  # the decision at `threshold` (0 for logits: 0.5 after a sigmoid)
    mask_iou: float
    threshold: float


class OutputAccuracy(OutputFigures, total=False):
    name: Required[str]


class Accuracy(OutputFigures, total=False):
    """Outputs of a variant against the reference outputs on the same inputs, and which data that was. With several
    outputs the top-level figures are the worst of each figure (`worst_output` names the output over the budget, else
    the one of lowest SQNR) and `outputs` has each one's; with one output, its own figures."""

    samples: int
    data: str
    error: str
    worst_output: str
    outputs: list[OutputAccuracy]


class AccuracyBudget(TypedDict):
    ok: bool
    violations: list[str]
    judged_on: NotRequired[str]  # whose figures: the target kernels' (emulated) when they were checked, else the host's


class HostTargetDiff(TypedDict, total=False):
    """The same variant's outputs on the host's kernels against the target's, on the same inputs."""

    max_abs_diff: float
    cosine: float
    cosine_min: float
    top1_agreement: float
    bit_exact: bool
    samples: int


class CpuDiff(TypedDict, total=False):
    """One emulated CPU model's outputs against another's (the profile's first): kernels with and without dotprod."""

    qemu_cpu: str
    max_abs_diff: float
    bit_exact: bool


class TargetAccuracy(TypedDict, total=False):
    """Accuracy of a variant on the target's runtime builds under emulation (one CPU model); never a timing."""

    qemu_cpu: Required[str]
    kernels: str  # e.g. "emulated aarch64, QEMU_CPU=neoverse-n1"
    samples: int
    accuracy: Accuracy  # against the reference, on the first `samples` evaluation inputs
    host_accuracy: Accuracy  # the host's figures on the same samples, to compare with `accuracy`
    vs_host: HostTargetDiff
    vs_cpu: CpuDiff  # against the first CPU model of the profile's qemu_cpu (absent on that one)
    error: str  # why this variant could not be evaluated on the target


class MeasuredOn(TypedDict, total=False):
    host_id: str
    hostname: str
    arch: str
    cpu_model: str
    target_arch: str
    host_is_target: bool
    ray_node_id: str  # a cluster run: the Ray node that timed the record, and its address
    node_ip: str


class Measurement(TypedDict, total=False):
    """How a record was measured, so a reader can weigh its figures.

    method: "full" (the mode's sampling), "stopped-early" (full, but sampling stopped once the median's 95% CI was
    within target_ci_pct), "stopped-cannot-win" (full sampling stopped once the median's 95% CI lay wholly above the
    CI of a fully measured record it had to beat: it cannot be the pick), "screened" (a short screening run only: it
    could not win, or it is a setting whose latency the profile does not ask for; `reason` says which).
    """

    method: Required[Method]
    processes: int
    samples: int
    median_ci_pct: float  # half-width of the median's 95% CI, in % of the median
    target_ci_pct: float | None
    reason: str
    process_medians_ms: list[float]  # each worker process's median: how much processes (moments) disagree
    from_screening: int  # of `processes`, the screening's (shorter) ones: a full measurement goes on from them
    paired_processes: int  # of `processes`, those taken in the decision's interleaved rounds (results.json `paired`)


class Figures(TypedDict, total=False):
    """What one pyperf measurement adds to a record."""

    latency_ms: Latency | None
    processes: int
    warnings: list[str]
    cold_start_ms: float | None
    cold_start: ColdStart | None
    peak_rss_mb: float | None
    memory: Memory | None
    measurement: Measurement


class Record(TypedDict, total=False):
    """One (variant, runtime, threads, batch, settings) benchmark of a run; `status` says whether it was measured."""

    benchmark: str
    model: str
    runtime: Required[Runtime]
    variant: Required[str]
    threads: Required[int]
    batch: int
    settings_label: str | None
    status: Required[Status]
    error: str | None
    latency_ms: Required[Latency | None]
    throughput_ips: float | None
    cold_start_ms: Required[float | None]
    cold_start: ColdStart | None
    peak_rss_mb: Required[float | None]
    memory: Memory | None
    model_bytes: Required[int | None]
    accuracy: Required[Accuracy | None]
    accuracy_budget: AccuracyBudget | None
    artifact: Required[dict[str, Any] | None]  # optimizers.artifacts.Artifact.to_dict() plus its lineage
    pass_notes: list[str]
    recommended: bool
    runtime_settings: dict[str, Any]
    mode: str
    measured_on: MeasuredOn
    timing_scope: str
    warnings: list[str]
    processes: NotRequired[int]
    measurement: NotRequired[Measurement]
    threading: NotRequired[dict[str, Any]]  # the runtime's effective threading: threads, and spinning with its source
    rewrites: NotRequired[dict[str, Any]]  # onnx-rewritten: rules fired, nodes per rule, proof figures, speed-up
    mixed_precision: NotRequired[dict[str, Any]]  # *-mixed variants: layers kept in float, search steps, cost
    target_accuracy: NotRequired[list[TargetAccuracy]]  # per emulated target CPU model (host of another arch)


class RecordKey(NamedTuple):
    """What identifies a record within a run (and across runs of one model): resume, compare and candidates use it."""

    variant: str
    runtime: str
    threads: int
    batch: int
    settings_label: str | None

    def configuration(self) -> tuple[str, int, int, str]:
        """The runtime configuration, the variant left out: the records that compete with each other."""
        return (self.runtime, self.threads, self.batch, self.settings_label or "")


def record_key(rec: Record | dict[str, Any]) -> RecordKey:
    return RecordKey(str(rec["variant"]), str(rec["runtime"]), int(rec["threads"]), int(rec.get("batch") or 1),
                     rec.get("settings_label"))


def bench_name(model: str, runtime: str, variant: str, threads: int, batch: int = 1, label: str | None = None) -> str:
    """The pyperf benchmark name: <model>/<runtime>/<variant>/t<threads>[/b<batch>][/<label>]."""
    name = f"{model}/{runtime}/{variant}/t{threads}"
    if batch != 1:
        name += f"/b{batch}"
    return f"{name}/{label}" if label else name


def new_record(*, model: str, runtime: Runtime, variant: str, threads: int, batch: int, settings_label: str | None,
               runtime_settings: dict[str, Any], mode: str, measured_on: MeasuredOn, error: str | None,
               model_bytes: int | None, accuracy: Accuracy, artifact: dict[str, Any] | None,
               pass_notes: list[str]) -> Record:
    """A record in its not-yet-measured state (status failed, no figures): measuring fills it in."""
    return Record(
        benchmark=bench_name(model, runtime, variant, threads, batch, settings_label), model=model, runtime=runtime,
        variant=variant, threads=threads, batch=batch, settings_label=settings_label, status="failed", error=error,
        latency_ms=None, throughput_ips=None, cold_start_ms=None, cold_start=None, peak_rss_mb=None, memory=None,
        model_bytes=model_bytes, accuracy=accuracy, accuracy_budget=None, artifact=artifact, pass_notes=pass_notes,
        recommended=False, runtime_settings=runtime_settings, mode=mode, measured_on=measured_on,
        timing_scope="target" if measured_on["host_is_target"] else "host", warnings=[])


def records_in(doc: dict[str, Any]) -> list[Record]:
    """The records of a results document read through the contract (load_run validated each one and left out,
    naming it, any damaged record): typed, so readers need no tolerance for fields a valid record always has."""
    return [typing.cast(Record, r) for r in doc.get("results") or [] if isinstance(r, dict)]


# --- validation against the types above ----------------------------------------------------------------------------

def validate_record(obj: Any, where: str) -> Record:
    """`obj` as a Record, or ResultsError naming `where` and the first field that is missing or of the wrong type."""
    problem = _check_typed_dict(obj, Record, "")
    if problem:
        raise ResultsError(f"{where}: {problem}")
    return typing.cast(Record, obj)


def _check_typed_dict(obj: Any, td: Any, path: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{path or 'record'} must be an object, got {_shown(obj)}"
    hints = typing.get_type_hints(td)
    for key in sorted(td.__required_keys__):
        if key not in obj:
            return f"field {path}{key} is missing"
    for key, hint in hints.items():
        if key in obj:
            problem = _check(obj[key], _unwrap(hint), f"{path}{key}")
            if problem:
                return problem
    return None  # fields this version does not know are kept: a newer minor version may add them


def _unwrap(hint: Any) -> Any:
    while typing.get_origin(hint) in (Required, NotRequired):
        hint = typing.get_args(hint)[0]
    return hint


def _check(value: Any, hint: Any, path: str) -> str | None:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        problems = [_check(value, o, path) for o in options if o is not type(None)]
        return None if any(p is None for p in problems) else problems[0]
    if hint is Any:
        return None
    if origin is Literal:  # the type of its values only: see Runtime
        kinds = tuple({type(v) for v in typing.get_args(hint)})
        return None if isinstance(value, kinds) else f"field {path} must be a {kinds[0].__name__}, got {_shown(value)}"
    if isinstance(hint, type) and hasattr(hint, "__required_keys__"):
        return _check_typed_dict(value, hint, path + ".")
    if origin is list:
        if not isinstance(value, list):
            return f"field {path} must be a list, got {_shown(value)}"
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            problem = _check(v, item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if origin is dict:
        return None if isinstance(value, dict) else f"field {path} must be an object, got {_shown(value)}"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"field {path} must be a number, got {_shown(value)}"
    if hint is int:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
        return None if ok else f"field {path} must be an integer, got {_shown(value)}"
    if hint is type(None):
        return None if value is None else f"field {path} must be null, got {_shown(value)}"
    return None if isinstance(value, hint) else f"field {path} must be a {hint.__name__}, got {_shown(value)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
