"""Two jobs at a time (conversion lanes, reference outputs beside load tests), with progress told in one thread."""
from __future__ import annotations

import io
import threading

import pytest

from edgebench.benchmarks.isolation.side_by_side import side_by_side
from edgebench.benchmarks.progress import LineReporter


def test_two_jobs_run_at_once_and_progress_is_told_in_the_calling_thread():
    # each job waits for the other at a barrier: run one after the other, the barrier would break
    barrier = threading.Barrier(2, timeout=30)
    seen: list[tuple[str, str, int]] = []

    def job(name: str):
        def run(emit):
            emit("start", name, "")
            barrier.wait()
            emit("done", name, "ok")
        return run

    side_by_side([job("a"), job("b")], lambda item: seen.append(("start", item, threading.get_ident())),
                 lambda item, status: seen.append((status, item, threading.get_ident())))
    assert sorted((kind, item) for kind, item, _ in seen) == [("ok", "a"), ("ok", "b"), ("start", "a"), ("start", "b")]
    assert {tid for *_, tid in seen} == {threading.get_ident()}


def test_every_job_runs_once_and_a_bug_in_one_is_raised_after_the_others_ended():
    done: list[int] = []

    def job(i: int):
        def run(emit):
            if i == 2:
                raise ValueError("bug in job 2")
            done.append(i)
        return run

    with pytest.raises(ValueError, match="bug in job 2"):
        side_by_side([job(i) for i in range(7)])
    assert sorted(done) == [0, 1, 3, 4, 5, 6]


def test_overlapping_items_are_each_timed_from_their_own_start():
    now = [0.0]
    out = io.StringIO()
    rep = LineReporter(out, clock=lambda: now[0])
    rep.stage("converting", total=2)
    rep.begin("building tflite-fp32")
    now[0] = 1.0
    rep.begin("building onnx-fp32")
    now[0] = 4.0
    rep.done("building tflite-fp32", "ok")
    now[0] = 9.0
    rep.done("building onnx-fp32", "failed")
    rep.close()
    assert out.getvalue().splitlines() == [
        "[   0.0s] converting: 2 variants",
        "[   4.0s] built tflite-fp32: ok (4.0 s)",
        "[   9.0s] building onnx-fp32: FAILED (8.0 s)",
    ]


def test_a_warmed_up_converter_answers_the_next_request_with_its_own_reply(tiny_models):
    # the warm-up's reply must not be taken for the answer to the request that follows it
    from edgebench.benchmarks.variants.converter_parent import ConverterProcess
    from edgebench.benchmarks.variants.sources import detect_source

    conv = ConverterProcess(300)
    try:
        conv.warm_up()
        assert conv.running
        specs = conv.specs(detect_source(tiny_models["keras"]))
        assert [s["shape"] for s in specs] == [[-1, 16, 16, 3]]
    finally:
        conv.close()
    assert not conv.running
