"""Fuzzing the model loaders and the profile loader with mutations of real inputs: zero tracebacks.

Every mutated model either loads or ends in one UserError / MeasureError line, along the exact path `bench run` takes:
detect_source in this process, then the runtime (or TensorFlow) in a child process, where a crash is reported as a
reason instead of killing us. Bounded for CI: EDGEBENCH_FUZZ_EXAMPLES examples per format (default 25).
"""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.model_check import describe
from edgebench.benchmarks.variants.converter_parent import ConverterProcess, source_specs
from edgebench.benchmarks.variants.sources import detect_source
from edgebench.results.errors import UserError

EXAMPLES = int(os.environ.get("EDGEBENCH_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CHILD_TIMEOUT = 60.0
CHILD_MEMORY_MB = 2048  # a mutated shape can ask for any amount of memory: not on a shared CI machine

_position = st.floats(min_value=0, max_value=1, allow_nan=False)
MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("overwrite"), st.lists(st.tuples(_position, st.integers(0, 255)), min_size=1, max_size=16)),
    st.tuples(st.just("insert"), _position, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), _position, st.integers(1, 64)),
)

pytestmark = pytest.mark.slow  # hypothesis drives real conversions: minutes, not seconds


def mutate(data: bytes, mutation: tuple) -> bytes:
    kind = mutation[0]
    at = int(mutation[1] * len(data)) if kind != "overwrite" else 0
    if kind == "truncate":
        return data[:at]
    if kind == "overwrite":
        buf = bytearray(data)
        for pos, value in mutation[1]:
            buf[min(int(pos * len(buf)), len(buf) - 1)] = value
        return bytes(buf)
    if kind == "insert":
        return data[:at] + mutation[2] + data[at:]
    return data[:at] + data[at + mutation[2]:]


@pytest.fixture(scope="module")
def converter():
    conv = ConverterProcess(CHILD_TIMEOUT)
    yield conv
    conv.close()


def _one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text, text


def load_like_bench(path: Path, converter: ConverterProcess) -> str:
    """What `bench run` does with a model before measuring it; returns how far the file got."""
    try:
        source = detect_source(path)
    except UserError as exc:
        _one_line(exc)
        return "refused by detect_source"
    try:
        _, specs = source_specs(source, converter, CHILD_TIMEOUT)
    except UserError as exc:
        _one_line(exc)
        return "refused by its loader"
    assert isinstance(specs, list)
    if source.format in ("tflite", "onnx"):  # the variant's load test in its runtime
        runtime = "litert" if source.format == "tflite" else "onnxruntime"
        try:
            describe(runtime, str(source.path), {}, CHILD_TIMEOUT, CHILD_MEMORY_MB)
        except MeasureError as exc:
            _one_line(exc)
            return "failed its load test"
    return "loaded"


def mutate_keras(archive: bytes, member: str, mutation: tuple) -> bytes:
    """A .keras archive with one member mutated and the zip rebuilt, so its CRCs are right and the mutation reaches
    Keras itself; member "" mutates the archive's raw bytes instead."""
    if not member:
        return mutate(archive, mutation)
    src = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, mutate(data, mutation) if name == member else data)
    return out.getvalue()


KERAS_MEMBERS = st.sampled_from(["", "config.json", "metadata.json", "model.weights.h5"])

# ONNX edits that keep the protobuf well-formed, so the mutation reaches ONNX Runtime's loader: a node's operator
# or an input renamed, a dimension changed, a node dropped, or a weight's raw bytes mutated.
ONNX_EDITS = st.one_of(
    st.tuples(st.just("op_type"), _position, st.text(max_size=12)),
    st.tuples(st.just("node_input"), _position, st.text(max_size=8)),
    st.tuples(st.just("dim"), _position, st.integers(-3, 1 << 40)),
    st.tuples(st.just("drop_node"), _position),
    st.tuples(st.just("weights"), _position, MUTATIONS),
)


def mutate_onnx(model_bytes: bytes, edit: tuple, raw: tuple | None) -> bytes:
    """One well-formed edit of the graph, or (when `raw` is given) a raw byte mutation of the file."""
    if raw is not None:
        return mutate(model_bytes, raw)
    import onnx
    model = onnx.load_from_string(model_bytes)
    g = model.graph

    def pick(seq, pos):
        return seq[min(int(pos * len(seq)), len(seq) - 1)] if len(seq) else None

    kind, pos = edit[0], edit[1]
    if kind == "op_type" and pick(g.node, pos) is not None:
        pick(g.node, pos).op_type = edit[2]
    elif kind == "node_input" and pick(g.node, pos) is not None and pick(g.node, pos).input:
        pick(g.node, pos).input[0] = edit[2]
    elif kind == "dim":
        dims = [d for v in list(g.input) + list(g.output) for d in v.type.tensor_type.shape.dim]
        if dims:
            pick(dims, pos).dim_value = max(edit[2], 0)
    elif kind == "drop_node" and len(g.node):
        del g.node[min(int(pos * len(g.node)), len(g.node) - 1)]
    elif kind == "weights" and pick(g.initializer, pos) is not None:
        t = pick(g.initializer, pos)
        t.raw_data = mutate(t.raw_data, edit[2])
    return model.SerializeToString()


@pytest.mark.parametrize("fmt", ["tflite", "onnx", "keras"])
def test_mutated_models_never_raise_anything_but_one_line(tiny_models, converter, fmt):
    original = tiny_models[fmt].read_bytes()
    outcomes: list[str] = []

    @FUZZ
    @seed(20261125)  # the same cases on every CI run; change it (or raise EDGEBENCH_FUZZ_EXAMPLES) to explore
    @given(mutation=MUTATIONS, member=KERAS_MEMBERS, edit=ONNX_EDITS, raw=st.booleans())
    def check(mutation, member, edit, raw):
        if fmt == "keras":
            fuzzed = mutate_keras(original, member, mutation)
        elif fmt == "onnx":
            fuzzed = mutate_onnx(original, edit, mutation if raw else None)
        else:
            fuzzed = mutate(original, mutation)
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / f"fuzzed.{fmt}"
            f.write_bytes(fuzzed)
            outcomes.append(load_like_bench(f, converter))

    check()
    print(fmt, {o: outcomes.count(o) for o in set(outcomes)})
    assert len(outcomes) >= min(EXAMPLES, 5)
    # the mutations reach past the cheap checks: some files get as far as their runtime or TensorFlow
    assert any(o != "refused by detect_source" for o in outcomes), outcomes


_toml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)
_sections = st.sampled_from(["name", "description", "target_arch", "benchmark", "accuracy", "variants", "litert",
                             "onnxruntime", "quantization", "memory", "limits", "threads", "max_rss_mb", "build"])


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(doc=st.dictionaries(_sections, _toml_values | st.dictionaries(_sections, _toml_values, max_size=4), max_size=8),
       arch=st.sampled_from(["x86_64", "arm64", None]))
def test_profile_parser_only_raises_profile_errors(doc, arch):
    from edgebench.hardware_profiles import ProfileError, parse_profile
    if arch:
        doc = dict(doc, name="fuzz", target_arch=arch)
    try:
        parse_profile(doc, "fuzz.toml")
    except ProfileError as exc:
        _one_line(exc)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(text=st.binary(max_size=300))
def test_profile_files_of_random_bytes(text):
    from edgebench.hardware_profiles import ProfileError, load_profile
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "p.toml"
        f.write_bytes(b'name = "p"\ntarget_arch = "x86_64"\n' + text)
        try:
            load_profile(str(f))
        except ProfileError as exc:
            _one_line(exc)
