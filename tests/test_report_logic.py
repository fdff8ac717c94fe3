"""The report's decisions on plain data: Pareto front, the pick, runtime pairing, tolerant field access."""
from __future__ import annotations

import math

from conftest import make_record
from hypothesis import given
from hypothesis import strategies as st

from edgebench.reports.decision import decide
from edgebench.reports.fields import accuracy_metric, fmt, num
from edgebench.reports.pareto import dominates, pareto_front
from edgebench.reports.runtime_pairs import precision_family, runtime_pairs

finite = st.floats(min_value=0, max_value=1e3, allow_nan=False)


@given(st.lists(st.tuples(finite, st.floats(min_value=0, max_value=1)), max_size=30))
def test_pareto_front_is_exactly_the_undominated_points(points):
    front = set(pareto_front(points))
    for i, p in enumerate(points):
        dominated = any(dominates(q, p) for q in points)
        assert (i in front) == (not dominated), (i, p, points)


def test_pareto_front_order_and_ties():
    pts = [(3.0, 0.99), (1.0, 0.90), (2.0, 0.95), (2.0, 0.95), (2.5, 0.94), (1.0, 0.80)]
    assert pareto_front(pts) == [1, 2, 3, 0]


def test_the_pick_is_fastest_within_budget_per_runtime_and_overall():
    records = [
        make_record("litert", "tflite-fp32", 2.0), make_record("litert", "tflite-int8", 0.5, budget=False),
        make_record("litert", "tflite-fp16", 1.5, threads=2), make_record("litert", "tflite-fp16", 1.5, threads=1),
        make_record("onnxruntime", "onnx-fp32", 1.8), make_record("onnxruntime", "onnx-static-int8", 0.9),
        make_record("onnxruntime", "onnx-fp32", 0.1, batch=8),  # per-call latency at batch 8 is not comparable
        make_record("onnxruntime", "ort-format", None),
    ]
    d = decide(records)
    by_rt = {c.scope: c.pick.record for c in [*d.per_runtime, d.overall]}
    assert by_rt["litert"]["variant"] == "tflite-fp16" and by_rt["litert"]["threads"] == 1
    assert by_rt["onnxruntime"]["variant"] == "onnx-static-int8"
    assert by_rt["*"]["variant"] == "onnx-static-int8"
    assert "within the accuracy budget" in d.overall.reason


def test_a_runtime_nobody_knows_yet_gets_its_own_pick():
    d = decide([make_record("tvm", "x", 1.0), make_record("litert", "a", None)])
    assert [c.scope for c in d.per_runtime] == ["litert", "tvm"]
    assert d.per_runtime[0].pick is None and d.per_runtime[0].failed == 1


def test_runtime_pairs_match_precisions_and_compute_ratio():
    records = [make_record("litert", "tflite-fp32", 2.0), make_record("onnxruntime", "onnx-fp32", 4.0),
               make_record("onnxruntime", "onnx-simplified", 1.0), make_record("litert", "tflite-int8", 1.0),
               make_record("onnxruntime", "onnx-static-int8", 0.5, budget=False),
               make_record("onnxruntime", "onnx-qdq-int8", 2.0),
               make_record("litert", "tflite-fp16", 1.2)]
    pairs = {p.family: p for p in runtime_pairs(records)}
    assert pairs["fp32"].onnxruntime["variant"] == "onnx-simplified" and pairs["fp32"].ratio == 2.0
    # the in-budget ORT int8 variant is preferred to the faster one that breaks the budget
    assert pairs["static int8"].onnxruntime["variant"] == "onnx-qdq-int8" and pairs["static int8"].ratio == 0.5
    assert pairs["fp16"].onnxruntime is None and pairs["fp16"].ratio is None
    assert [p.family for p in runtime_pairs(records)] == ["fp32", "fp16", "static int8"]


def test_precision_family_of_unknown_names():
    assert precision_family("tflite-dynamic-int8") == precision_family("onnx-dynamic-int8") == "dynamic int8"
    assert precision_family("onnx-qoperator-uint8") == "static int8"
    assert precision_family("something-new") == "other"


def test_accuracy_metric_prefers_one_every_run_has():
    labelled = [{"status": "ok", "accuracy": {"top1_accuracy": 0.9, "top1_agreement": 1.0, "cosine": 1.0}}]
    unlabelled = [{"status": "ok", "accuracy": {"top1_agreement": 0.98, "cosine": 0.99}}]
    none = [{"status": "failed", "accuracy": {}}]
    assert accuracy_metric([labelled])[0] == "top1_accuracy"
    assert accuracy_metric([labelled, unlabelled, none])[0] == "top1_agreement"
    assert accuracy_metric([none]) is None


def test_numbers_from_untrusted_fields():
    assert num(True) is None and num("1.0") is None and num(math.nan) is None and num(3) == 3.0
    assert fmt(None) == "-" and fmt(float("inf")) == "-" and fmt(0.0012345) == "0.001234"
