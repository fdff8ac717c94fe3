"""The report's decisions on plain data: Pareto front, recommendation, runtime pairing, tolerant field access."""
from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from edgebench.reports.fields import accuracy_metric, fmt, num
from edgebench.reports.pareto import dominates, pareto_front
from edgebench.reports.recommend import pick, recommend
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


def rec(runtime, variant, median, threads=1, batch=1, ok=True, budget=True, **extra):
    r = {"runtime": runtime, "variant": variant, "threads": threads, "batch": batch,
         "status": "ok" if ok else "failed", "latency_ms": {"median": median} if ok else None,
         "accuracy_budget": None if budget is None else {"ok": budget, "violations": [] if budget else ["cosine"]}}
    r.update(extra)
    return r


def test_recommendation_is_fastest_within_budget_per_runtime_and_overall():
    records = [
        rec("litert", "tflite-fp32", 2.0), rec("litert", "tflite-int8", 0.5, budget=False),
        rec("litert", "tflite-fp16", 1.5, threads=2), rec("litert", "tflite-fp16", 1.5, threads=1),
        rec("onnxruntime", "onnx-fp32", 1.8), rec("onnxruntime", "onnx-static-int8", 0.9),
        rec("onnxruntime", "onnx-fp32", 0.1, batch=8),  # per-call latency at batch 8 is not comparable
        rec("onnxruntime", "ort-format", None, ok=False),
    ]
    by_rt = {r.runtime: r for r in recommend(records)}
    assert by_rt["litert"].record["variant"] == "tflite-fp16" and by_rt["litert"].record["threads"] == 1
    assert by_rt["onnxruntime"].record["variant"] == "onnx-static-int8"
    assert by_rt["*"].record["variant"] == "onnx-static-int8"
    assert "within the accuracy budget" in by_rt["*"].reason


def test_recommendation_when_nothing_qualifies_or_accuracy_is_unknown():
    over = pick([rec("litert", "tflite-int8", 0.5, budget=False)])
    assert over.record is None and "breaks the accuracy budget" in over.reason
    unknown = pick([rec("litert", "a", 0.7, budget=None), rec("litert", "b", 0.6, budget=None)])
    assert unknown.record["variant"] == "b" and "NOT checked" in unknown.reason
    failed = pick([rec("litert", "a", None, ok=False)])
    assert failed.record is None and "1 record failed" in failed.reason
    # a runtime nobody knows yet still gets its own recommendation
    assert [r.runtime for r in recommend([rec("tvm", "x", 1.0)])] == ["tvm", "*"]


def test_runtime_pairs_match_precisions_and_compute_ratio():
    records = [rec("litert", "tflite-fp32", 2.0), rec("onnxruntime", "onnx-fp32", 4.0),
               rec("onnxruntime", "onnx-simplified", 1.0), rec("litert", "tflite-int8", 1.0),
               rec("onnxruntime", "onnx-static-int8", 0.5, budget=False), rec("onnxruntime", "onnx-qdq-int8", 2.0),
               rec("litert", "tflite-fp16", 1.2)]
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
