"""The decision on plain records: the pick, its baseline, ties judged by CIs, and the words the terminal prints."""
from __future__ import annotations

from conftest import make_record

from edgebench.reports.decision import baseline_for, decide
from edgebench.reports.decision_text import decision_lines, with_ci
from edgebench.reports.terminal.short_table import flags, legend, picked, row_order
from edgebench.reports.warning_groups import group_line, group_warnings, screened_lines, variant_notes


def two_runtimes(ci_int8=None, ci_qop=None):
    return [make_record("litert", "tflite-fp32", 2.0, size=8_000_000),
            make_record("litert", "tflite-int8", 0.80, ci=ci_int8, size=2_000_000),
            make_record("onnxruntime", "onnx-fp32", 1.6, size=8_000_000),
            make_record("onnxruntime", "onnx-static-int8-qop-u8s8", 0.81, ci=ci_qop, size=2_500_000)]


def test_tie_when_the_95_percent_cis_overlap():
    d = decide(two_runtimes(ci_int8=0.02, ci_qop=0.02))
    p = d.overall.pick
    assert p.record["variant"] == "tflite-int8" and p.runner_up["variant"] == "onnx-static-int8-qop-u8s8"
    assert p.tied and d.overall.within_budget
    text = "\n".join(decision_lines(d))
    assert "tflite-int8 and onnx-static-int8-qop-u8s8 (ONNX Runtime, 1 thread) are tied: " \
           "0.800 ms [0.780, 0.820] vs 0.810 ms [0.790, 0.830]" in text
    assert text.splitlines()[0] == "Best overall: tflite-int8 on LiteRT, 1 thread"


def test_no_tie_when_the_cis_are_apart():
    d = decide(two_runtimes(ci_int8=0.004, ci_qop=0.004))
    assert not d.overall.pick.tied
    text = "\n".join(decision_lines(d))
    assert "are tied" not in text and "runner-up onnx-static-int8-qop-u8s8" in text and "95% CIs apart" in text


def test_records_without_cis_show_none_and_never_claim_a_tie():
    d = decide(two_runtimes())  # records written before schema 1.1: no median_ci
    p = d.overall.pick
    assert p.median_ci is None and not p.tied
    text = "\n".join(decision_lines(d))
    assert "ms [" not in text and "CI" not in text.replace("no confidence intervals", "")
    assert "no confidence intervals in this run, so no tie is judged" in text
    # one CI alone is not enough either
    assert not decide(two_runtimes(ci_int8=0.5)).overall.pick.tied


def test_speedup_size_and_accuracy_against_the_same_runtimes_fp32():
    d = decide(two_runtimes())
    p = d.overall.pick
    assert p.baseline["variant"] == "tflite-fp32" and p.speedup == 2.0 / 0.8 and p.size_ratio == 0.25
    assert p.accuracy.metric == "top1_agreement" and p.accuracy.delta == 0.0
    lines = decision_lines(d)
    assert "  2.50x faster than tflite-fp32 (1 thread), 0.25x its size (2 vs 8 MB)" in lines
    by_rt = {c.scope: c for c in d.per_runtime}
    assert by_rt["onnxruntime"].pick.record["variant"] == "onnx-static-int8-qop-u8s8"
    assert by_rt["onnxruntime"].pick.baseline["variant"] == "onnx-fp32"
    assert "Best on LiteRT: the overall pick" in lines
    assert any(line.startswith("Best on ONNX Runtime: onnx-static-int8-qop-u8s8, 1 thread: median 0.81 ms")
               for line in lines)


def test_accuracy_delta_prefers_labelled_accuracy_then_agreement_then_cosine():
    labelled = [make_record("litert", "tflite-fp32", 2.0,
                            acc={"top1_accuracy": 0.95, "top1_agreement": 1.0, "cosine": 1.0}),
                make_record("litert", "tflite-int8", 1.0,
                            acc={"top1_accuracy": 0.93, "top1_agreement": 0.97, "cosine": 0.999})]
    p = decide(labelled).overall.pick
    assert p.accuracy.metric == "top1_accuracy" and round(p.accuracy.delta, 6) == -0.02
    assert "  top-1 accuracy 93.0% vs 95.0% for fp32 (-2.0 pts)" in decision_lines(decide(labelled))
    cosine_only = [make_record("litert", "tflite-fp32", 2.0, acc={"cosine": 1.0}),
                   make_record("litert", "tflite-int8", 1.0, acc={"cosine": 0.9991})]
    p = decide(cosine_only).overall.pick
    assert p.accuracy.metric == "cosine" and not p.accuracy.in_points
    assert any("cosine similarity to the reference 0.99910 vs 1.00000 for fp32 (-9.0e-04)" in line
               for line in decision_lines(decide(cosine_only)))


def test_the_decision_quotes_the_metric_of_the_output_the_user_named():
    """--output score=score: the pick's accuracy is that output's decision agreement, not the worst cosine."""
    def acc(agreement: float, stated: bool = True) -> dict:
        outs = [{"name": "landmarks", "kind": "landmarks", "kind_inferred": True, "metric": "mean_rel_error",
                 "mean_rel_error": 0.004, "cosine": 0.9999},
                {"name": "score", "kind": "score", "kind_inferred": not stated, "metric": "score_agreement",
                 "score_agreement": agreement}]
        return {"cosine": 0.9999, "outputs": outs}
    named = [make_record("litert", "tflite-fp32", 2.0, acc=acc(1.0)),
             make_record("litert", "tflite-int8", 1.0, acc=acc(0.97))]
    p = decide(named).overall.pick
    assert p.accuracy.metric == "score_agreement" and round(p.accuracy.delta, 6) == -0.03
    assert any("score agreement of output 'score' (score) 97.0% vs 100.0% for fp32 (-3.0 pts)" in line
               for line in decision_lines(decide(named)))
    inferred = [make_record("litert", "tflite-fp32", 2.0, acc=acc(1.0, stated=False)),
                make_record("litert", "tflite-int8", 1.0, acc=acc(0.97, stated=False))]
    assert decide(inferred).overall.pick.accuracy.metric == "cosine"  # nothing named: as before


def test_missing_baseline_is_said_and_another_thread_count_stands_in():
    alone = decide([make_record("litert", "tflite-int8", 1.0)])
    p = alone.overall.pick
    assert p.baseline is None and p.speedup is None and "tflite-fp32 was not measured" in p.baseline_note
    assert "  no fp32 baseline: tflite-fp32 was not measured" in decision_lines(alone)
    records = [make_record("onnxruntime", "onnx-fp32", 3.0, threads=1),
               make_record("onnxruntime", "onnx-fp32", 2.0, threads=2),
               make_record("onnxruntime", "onnx-static-int8-qop-u8s8", 1.0, threads=4)]
    base, note = baseline_for(records[2], records)
    assert base is records[1] and "not measured at 4 thread(s)" in note and "2 thread(s)" in note
    assert decide(records).overall.pick.speedup == 2.0
    unknown = decide([make_record("tvm", "x", 1.0)]).overall.pick
    assert "no fp32 baseline is known for runtime tvm" in unknown.baseline_note


def test_the_pick_is_at_the_thread_count_best_for_latency_and_may_be_fp32_itself():
    records = [make_record("onnxruntime", "onnx-fp32", 2.0, threads=1),
               make_record("onnxruntime", "onnx-fp32", 1.2, threads=2),
               make_record("onnxruntime", "onnx-dynamic-int8", 5.0, threads=2)]
    p = decide(records).overall.pick
    assert p.record["threads"] == 2 and p.is_baseline and p.speedup == 1.0
    assert "  this is the fp32 baseline" in decision_lines(decide(records))


def test_a_screened_figure_never_beats_a_full_measurement():
    screened = make_record("onnxruntime", "onnx-fp32", 0.5, label="arena-off", measurement={"method": "screened"})
    records = [make_record("onnxruntime", "onnx-fp32", 1.0, label="arena-on", measurement={"method": "full"}), screened]
    assert decide(records).overall.pick.record["settings_label"] == "arena-on"
    # when screening is all there is, it is still shown
    assert decide([screened]).overall.pick.record is screened


def test_nothing_within_budget_shows_the_fastest_flagged():
    records = [make_record("litert", "tflite-fp32", 2.0, budget=False),
               make_record("litert", "tflite-int8", 1.0, budget=False),
               make_record("onnxruntime", "onnx-fp32", 3.0, budget=None)]
    d = decide(records)
    assert not d.overall.within_budget and d.overall.pick.record["variant"] == "tflite-int8"
    assert "2 over the budget, 1 not checked" in d.overall.reason
    lines = decision_lines(d)
    assert lines[0].startswith("Nothing to recommend: nothing is within the accuracy budget")
    assert lines[1] == "Fastest overall (NOT within the accuracy budget): tflite-int8 on LiteRT, 1 thread"


def test_unchecked_accuracy_is_not_eligible_but_mentioned():
    records = [make_record("litert", "tflite-fp32", 2.0), make_record("litert", "tflite-int8", 0.5, budget=None)]
    d = decide(records)
    assert d.overall.within_budget and d.overall.pick.record["variant"] == "tflite-fp32"
    assert len(d.overall.unchecked) == 1
    assert "  not considered: 1 measured benchmark(s) whose accuracy was not checked" in decision_lines(d)


def test_nothing_measured():
    failed = dict(make_record("litert", "tflite-fp32", 1.0), status="failed", latency_ms=None, error="boom")
    d = decide([failed])
    assert d.overall.pick is None and d.overall.failed == 1
    assert decision_lines(d)[0] == "No pick: nothing measured (1 record(s) failed)."
    assert "FAILED" not in "\n".join(decision_lines(d))  # the table's notes name each failure once


def test_ci_is_written_as_its_two_ends():
    assert with_ci(0.8, (0.78, 0.82)) == "0.800 ms [0.780, 0.820]"
    assert with_ci(12.345, (12.0, 13.4)) == "12.35 ms [12.00, 13.40]"
    # an asymmetric interval keeps its two ends: never "0.9 +/- 3.7 ms", a lower bound below zero
    assert with_ci(0.9, (0.85, 4.6)) == "0.900 ms [0.850, 4.600]"
    assert with_ci(0.8, None) == "0.8 ms"


def test_warnings_are_grouped_by_rule_with_counts_and_ranges():
    records = [make_record("litert", f"v{i}", 1.0, warnings=[f"stdev is {10 + i}% of the mean"]) for i in range(3)]
    records += [make_record("litert", "w", 1.0, warnings=["only 12 samples", "2.1% outliers (> Q3 + 3 IQR)"]),
                make_record("litert", "z", 1.0), make_record("litert", "q", 1.0, warnings=["something new"])]
    groups = {g.rule: g for g in group_warnings(records)}
    cv = groups["unstable: stdev > 10% of the mean"]
    assert cv.count == 3 and group_line(cv, 6, busy=True) == (
        "3 of 6 benchmarks unstable: stdev > 10% of the mean (10% to 12%); machine busy at start")
    assert group_line(groups["fewer than 30 samples"], 6, busy=True) == "1 of 6 benchmarks: fewer than 30 samples " \
                                                                         "(12 samples)"
    assert group_line(groups["something new"], 6) == "1 of 6 benchmarks: something new"
    assert next(iter(group_warnings(records))).rule == cv.rule  # most frequent first


def test_notes_once_per_variant_and_each_failure():
    a = make_record("litert", "tflite-int8", 1.0, threads=1, pass_notes=["quantized: 3 of 3"], budget=False)
    b = dict(a, threads=2)
    c = dict(make_record("litert", "tflite-fp16", 1.0), status="failed", latency_ms=None, error="boom",
             measurement={"method": "screened", "reason": "could not win"})
    notes = variant_notes([a, b, c])
    assert notes == ["tflite-int8: quantized: 3 of 3", "tflite-int8: over the accuracy budget: cosine",
                     "LiteRT tflite-fp16 t1: FAILED: boom"]


def test_screened_records_are_one_line_per_kind_of_reason():
    def screened(variant, median, threads, reason):
        return make_record("litert", variant, median, threads, method="screened",
                           measurement={"method": "screened", "reason": reason})
    recs = [screened("tflite-fp16", 2.0, 1, "cannot win: screening median 2.000 ms (95% CI 1.9-2.1), ..."),
            screened("tflite-fp16", 1.5, 2, "cannot win: screening median 1.500 ms (95% CI 1.4-1.6), ..."),
            screened("tflite-dynamic-int8", 3.0, 1, "cannot win: screening median 3.000 ms ..."),
            screened("onnx-fp32", 1.0, 1, 'arena-off: the profile asks ... ([benchmark] sweep_latency = "first")'),
            make_record("litert", "tflite-int8", 1.0)]
    assert screened_lines(recs) == [
        "screened only, cannot win: 3 benchmarks of 2 variants; screening medians 1.5 to 3 ms",
        'screened only, latency not asked for this runtime setting (sweep_latency = "first"): 1 benchmark of '
        "1 variant; screening medians 1 to 1 ms"]


def test_flags_legend_and_row_order():
    records = [make_record("litert", "tflite-int8", 0.5, budget=False, recommended=True),
               make_record("litert", "tflite-fp32", 2.0, warnings=["stdev is 13% of the mean"]),
               make_record("onnxruntime", "onnx-dynamic-int8", 0.7, budget=None, measurement={"method": "screened"}),
               make_record("onnxruntime", "onnx-fp32", 1.5),
               dict(make_record("litert", "tflite-fp16", 1.0), status="failed", latency_ms=None)]
    assert [flags(r) for r in records] == ["B", "!", "?s", "", "x"]
    # P marks the decision's picks: here onnx-fp32 (overall and ONNX Runtime), tflite-fp32 (LiteRT)
    assert [flags(r, picked(records)) for r in records] == ["B", "!P", "?s", "P", "x"]
    assert [r["variant"] for r in row_order(records)] == ["onnx-fp32", "tflite-fp32", "tflite-int8",
                                                          "onnx-dynamic-int8", "tflite-fp16"]
    text = legend(records, ("top1_accuracy", "top-1 accuracy"))
    assert "! unstable" in text and "s screened only" in text and "B over the accuracy budget" in text
    assert "Δacc: top-1 accuracy minus fp32's (percentage points)" in text


def test_the_selfcheck_calls_two_different_picks_tied_only_when_one_runs_cis_overlap():
    # benchmarks/selfcheck/decision.py compares a default run's picks with a rigorous run's
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "selfcheck" / "decision.py"
    spec = importlib.util.spec_from_file_location("selfcheck_decision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = {"results": two_runtimes(ci_int8=0.05, ci_qop=0.05)}
    pick, other = fresh["results"][3], make_record("litert", "tflite-int8", 0.7)  # the other run's pick and figure
    assert module.tied_in(fresh, pick, other)  # 0.76-0.86 (qop) and 0.75-0.85 (int8 in this run) overlap
    apart = {"results": two_runtimes(ci_int8=0.005, ci_qop=0.005)}
    apart["results"][1]["latency_ms"]["median_ci"] = [0.70, 0.75]
    assert not module.tied_in(apart, apart["results"][3], other)
