"""The decision's comparisons measured in interleaved rounds: which pairs, how the ratio and its interval are
printed, and a real run that stores them in results.json."""
from __future__ import annotations

import pytest
from conftest import load_results, make_record, run_bench

from edgebench.reports.decision import decide, decisive_pairs
from edgebench.reports.decision_text import decision_lines, paired_text
from edgebench.results.ratios import RoundRatio


def _records():
    return [make_record("litert", "tflite-fp32", 2.0, ci=0.02), make_record("litert", "tflite-int8", 1.0, ci=0.01),
            make_record("onnxruntime", "onnx-fp32", 2.2, ci=0.02),
            make_record("onnxruntime", "onnx-static-int8-qop-u8s8", 1.2, ci=0.01)]


def test_the_pairs_are_the_ones_the_decision_prints():
    pairs = {(role, a["variant"], b["variant"]) for role, a, b in decisive_pairs(_records())}
    assert pairs == {("pick vs fp32", "tflite-int8", "tflite-fp32"),
                     ("pick vs fp32", "onnx-static-int8-qop-u8s8", "onnx-fp32"),
                     ("pick vs runner-up", "tflite-int8", "onnx-static-int8-qop-u8s8")}


def test_paired_ratios_replace_the_ratio_of_medians_in_the_decision():
    recs = _records()
    paired = {"comparisons": [
        {"a": recs[1]["benchmark"], "b": recs[0]["benchmark"], "ratio": 1.98, "ci": [1.91, 2.04], "rounds": 8},
        {"a": recs[1]["benchmark"], "b": recs[3]["benchmark"], "ratio": 1.01, "ci": [0.97, 1.05], "rounds": 8}]}
    text = "\n".join(decision_lines(decide(recs, paired)))
    assert "1.98x faster than tflite-fp32 (1 thread) (95% CI 1.91-2.04)" in text
    assert "no measurable difference from the runner-up (1.01x, 95% CI 0.97-1.05)" in text
    assert "no measurable difference from the overall pick (0.99x, 95% CI 0.95-1.03)" in text
    assert "sign test" in text
    drifted = "\n".join(decision_lines(decide(recs, dict(paired, drift=1.12))))
    assert drifted.count("drift: the machine ran 12% slower in the later interleaved rounds") == 1
    assert "drift" not in "\n".join(decision_lines(decide(recs, dict(paired, drift=1.02))))
    burst = dict(paired, drift=1.01, record_drift={"benchmark": "x", "change": 1.3})
    assert "changed by 30% for several consecutive worker processes" in "\n".join(decision_lines(decide(recs, burst)))
    # the reverse orientation is read too: b over a inverted
    assert paired_text(RoundRatio(0.5, (0.4, 0.6), 8), "x") == "2.00x slower than x (95% CI 1.67-2.50)"
    assert "too few for a 95% CI" in paired_text(RoundRatio(1.5, None, 3), "x")


@pytest.mark.slow
def test_a_run_measures_its_comparisons_in_interleaved_rounds(tiny_models, tmp_path):
    out = tmp_path / "paired"
    proc = run_bench("run", str(tiny_models["tflite"]), "--profile", "x86_64", "--fast", "--threads", "1",
                     "--variants", "tflite-fp32,onnx-fp32", "--objective", "p99", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    assert doc["schema_version"] == "1.4" and doc["objective"] == "p99"
    assert "Best overall by p99 latency" in proc.stdout
    paired = doc["paired"]
    assert paired["rounds"] == 6 and "sign test" in paired["method"]
    (comp,) = paired["comparisons"]  # the overall pick against its runner-up, the other runtime's fp32
    assert comp["role"] == "pick vs runner-up" and len(comp["per_round"]) == 6
    assert comp["ci"][0] <= comp["ratio"] <= comp["ci"][1]
    for name in (comp["a"], comp["b"]):
        assert len(paired["round_medians_ms"][name]) == 6
        rec = next(r for r in doc["results"] if r["benchmark"] == name)
        assert rec["measurement"]["paired_processes"] == 6
        assert rec["measurement"]["processes"] == len(rec["measurement"]["process_medians_ms"]) >= 8
    assert "interleaved rounds" in proc.stdout


def _with_p99(rec, p99):
    rec["latency_ms"].update(p99=p99, p99_ci=[p99 * 0.95, p99 * 1.05])
    return rec


def test_objective_p99_picks_the_lower_tail_and_says_how_far_it_is_from_the_median():
    recs = [make_record("litert", "tflite-fp32", 2.0, ci=0.02), _with_p99(make_record("litert", "tflite-int8", 1.0,
                                                                                      ci=0.01), 5.6),
            make_record("onnxruntime", "onnx-fp32", 2.2, ci=0.02),
            _with_p99(make_record("onnxruntime", "onnx-static-int8-qop-u8s8", 1.2, ci=0.01), 1.9)]
    assert decide(recs).overall.pick.record["variant"] == "tflite-int8"
    by_p99 = decide(recs, None, "p99")
    assert by_p99.overall.pick.record["variant"] == "onnx-static-int8-qop-u8s8"
    text = "\n".join(decision_lines(by_p99))
    assert text.startswith("Best overall by p99 latency: onnx-static-int8-qop-u8s8")
    assert "(p99 1.6x its median)" in text
    # by p99 LiteRT's fp32 (3.0 ms) beats its int8 (median 1.0 ms, p99 5.6 ms): the tail decides
    assert "Best on LiteRT by p99: tflite-fp32, 1 thread" in text and "(p99 1.5x its median)" in text
    assert "runner-up on p99 tflite-fp32" in text
