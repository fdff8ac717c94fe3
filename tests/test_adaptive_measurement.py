"""Screening, early stopping and --exhaustive: how each record was measured, on real runs of tiny models.

The selection rules themselves (which screened record can still win) are checked on hand-made records first: they
are pure functions of the records, and real timings of tiny models cannot be steered into every case.
"""
from __future__ import annotations

import os
import signal

import pytest
from conftest import load_results, make_record, run_bench
from test_resume import _start, _wait_for_records

from edgebench.benchmarks.measure.runtimes import effective_threading
from edgebench.benchmarks.measure.sampling import sampling_for
from edgebench.benchmarks.run.screening import PENDING, cannot_win, clearly_out, contenders, final_reason
from edgebench.hardware_profiles import ProfileError, parse_profile
from edgebench.results.record import record_key

METHODS = {"full", "stopped-early", "stopped-cannot-win", "screened"}
TIGHT = {"median": 2.0, "median_ci": [1.99, 2.01], "n": 1500}
WIDE = {"median": 2.0, "median_ci": [1.9, 2.1], "n": 1500}


def test_sampling_stops_early_only_when_the_ci_is_tight_and_the_processes_agree():
    s = sampling_for("default")
    assert (s.min_processes, s.max_processes, s.target_ci_pct) == (3, 6, 1.0)
    agree, disagree = [1.98, 2.0, 2.02], [1.7, 2.0, 2.02]
    assert s.next_batch(0, None) == 3
    assert s.verdict(3, TIGHT, agree) == "stopped-early"
    assert s.verdict(2, TIGHT, agree[:2]) is None  # under the minimum count of processes
    assert s.verdict(3, TIGHT, disagree) is None  # processes 16% apart: more processes, not a narrow CI
    assert s.verdict(3, WIDE, agree) is None
    assert s.next_batch(3, WIDE) == 3  # +/-5% needs ~25x the samples: the rest of the budget
    assert s.verdict(6, WIDE, agree) == "full"  # the mode's budget is the bound
    assert sampling_for("fast").min_processes == 2 and sampling_for("fast").max_processes == 3
    screen = sampling_for("default", screening=True)
    assert screen.min_processes == screen.max_processes == 2 and screen.budget < s.budget
    assert screen.verdict(2, WIDE, agree) == "screened"
    first_round = sampling_for("default", screening=True, upto=1)  # rounds of one process per benchmark
    assert first_round.max_processes == 1 and first_round.next_batch(0, None) == 1
    assert screen.next_batch(1, WIDE) == 1  # the second round adds one to what the first wrote
    for fixed in (sampling_for("rigorous"), sampling_for("default", exhaustive=True)):
        assert fixed.min_processes == fixed.max_processes and fixed.target_ci_pct is None
        assert fixed.verdict(fixed.min_processes, TIGHT, agree) == "full"


# As the run leaves records: a 95% CI of the median 1% wide each side, and how they were measured
SCREENED = {"method": "screened", "ci_pct": 1}
FULL = {"method": "full", "ci_pct": 1}
OVER_BUDGET = {"accuracy_budget": {"ok": False, "violations": ["cosine 0.9 < 0.99"]}}


GROUPS = {"int8": "quantized", "fp16": "quantized", "dyn": "quantized", "wobbly": "quantized", "bad": "quantized"}


def test_only_what_can_still_win_is_measured_in_full():
    recs = [make_record("litert", "fp32", 2.0, method="stopped-early", ci_pct=1),
            make_record("litert", "fp16", 1.95, **SCREENED), make_record("litert", "int8", 1.0, **SCREENED),
            make_record("litert", "dyn", 1.04, **SCREENED),
            make_record("litert", "wobbly", 1.2, **SCREENED, medians=[1.0, 1.4]),
            make_record("litert", "bad", 0.5, **SCREENED, **OVER_BUDGET)]
    picks = contenders(recs, GROUPS, lambda r: True)
    by = {k.variant: why for k, why in picks.items()}
    assert set(by) == {"int8", "dyn", "wobbly"}  # the best, one within 5%, one whose processes reach the best
    assert by["int8"].startswith("fastest at screening") and by["dyn"].startswith("can still win")
    assert final_reason(recs[1], recs, lambda r: True).startswith("cannot win: screening median 1.950 ms")
    assert final_reason(recs[5], recs, lambda r: True) == "over the accuracy budget: cosine 0.9 < 0.99"
    # a setting whose latency the profile does not ask for is never a contender, and says why
    assert contenders(recs, GROUPS, lambda r: False) == {}
    assert "sweep_latency" in final_reason(recs[2], recs, lambda r: False)


def test_a_contender_stops_once_its_ci_lies_above_a_full_measurement_it_must_beat():
    recs = [make_record("litert", "fp32", 2.0, **FULL), make_record("litert", "int8", 1.0, **FULL),
            make_record("litert", "dyn", 1.04, **SCREENED)]
    key = record_key(recs[2])
    above = {"median": 1.2, "median_ci": [1.15, 1.25]}
    assert cannot_win(key, above, recs, GROUPS, lambda r: True).startswith(
        "cannot win: stopped once its median CI 1.150-1.250 ms lay above int8's 1.000 ms")
    assert cannot_win(key, {"median": 1.02, "median_ci": [1.005, 1.03]}, recs, GROUPS, lambda r: True) is None
    assert cannot_win(key, {"median": 1.2}, recs, GROUPS, lambda r: True) is None  # no CI: go on
    # nothing measured in full to compare with: go on
    alone = [make_record("litert", "fp32", 2.0, **SCREENED), make_record("litert", "dyn", 1.04, **SCREENED)]
    assert cannot_win(record_key(alone[1]), above, alone, GROUPS, lambda r: True) is None


def test_a_screening_twice_the_best_of_each_of_its_pools_gets_no_second_round():
    recs = [make_record("litert", "fp32", 2.0, **FULL), make_record("litert", "int8", 1.0, **SCREENED),
            make_record("litert", "fp16", 2.1, **SCREENED),
            make_record("litert", "dyn", 4.2, **SCREENED, medians=[4.1, 4.3]),
            make_record("litert", "wobbly", 3.0, **SCREENED, medians=[1.9]),
            make_record("litert", "bad", 0.5, **SCREENED, **OVER_BUDGET)]
    out = {r["variant"]: clearly_out(r, recs, GROUPS, lambda r: True) for r in recs}
    # fp16 is 2.1x int8 but quantized, and int8 is the best of both its pools: fp16's pool of all variants has int8
    # too, so fp16 is out; dyn is 4x; wobbly's fastest process (1.9 ms) is within 2x; bad is over the budget
    assert out == {"fp32": False, "int8": False, "fp16": True, "dyn": True, "wobbly": False, "bad": True}
    no_quantized = [make_record("litert", "fp32", 1.0, **FULL), make_record("litert", "other", 2.5, **SCREENED)]
    assert clearly_out(no_quantized[1], no_quantized, {}, lambda r: True)  # 2.5x the fp32 baseline


def test_a_wide_ci_of_the_best_does_not_send_everything_to_a_full_measurement():
    best = make_record("litert", "int8", 1.0, **FULL)
    best["latency_ms"]["median_ci"] = [0.8, 1.3]  # processes that disagree: an honest, wide interval
    recs = [best, make_record("litert", "fp16", 1.2, **SCREENED, medians=[1.18, 1.22]),
                  make_record("litert", "dyn", 1.2, **SCREENED, medians=[1.02, 1.38])]
    assert [k.variant for k in contenders(recs, GROUPS, lambda r: True)] == ["dyn"]  # its fast process is within 5%


def test_the_fastest_quantized_variant_is_measured_in_full_even_when_fp32_wins():
    recs = [make_record("litert", "fp32", 1.0, **FULL), make_record("litert", "int8", 1.5, **SCREENED),
            make_record("litert", "fp16", 2.0, **SCREENED)]
    assert [k.variant for k in contenders(recs, GROUPS, lambda r: True)] == ["int8"]


def test_a_record_that_cannot_beat_its_runtimes_best_at_another_thread_count_keeps_its_screening():
    """The pick of a runtime is chosen across thread counts: int8 at 1 thread, the best of its own thread count, is
    1.5x int8 at 2 threads and cannot be the pick, so it is not measured in full; dyn at 2 threads can."""
    t2 = [make_record("litert", "fp32", 2.0, 2, **FULL), make_record("litert", "int8", 1.0, 2, **SCREENED),
          make_record("litert", "dyn", 1.03, 2, **SCREENED)]
    t1 = [make_record("litert", "fp32", 3.0, **FULL), make_record("litert", "int8", 1.5, **SCREENED),
          make_record("litert", "fp16", 2.9, **SCREENED)]
    recs = t2 + t1
    assert sorted((k.variant, k.threads) for k in contenders(recs, GROUPS, lambda r: True)) == [("dyn", 2), ("int8", 2)]
    assert final_reason(t1[1], recs, lambda r: True).endswith("vs best 1.000 ms (95% CI 0.990-1.010) (int8, 2 threads) + 5%")
    other_runtime = make_record("onnxruntime", "int8", 1.5, **SCREENED)  # its own runtime's best: measured in full
    assert [(k.variant, k.runtime) for k in contenders(recs + [other_runtime], GROUPS, lambda r: True)
            if k.runtime == "onnxruntime"] == [("int8", "onnxruntime")]


def test_sweep_latency_is_validated_in_one_line():
    head = {"name": "p", "target_arch": "x86_64"}
    assert parse_profile(dict(head, benchmark={"sweep_latency": "all"}), "p.toml").sweep_latency == "all"
    assert parse_profile(head, "p.toml").sweep_latency == "first"
    for bench, needle in [({"sweep_latency": "both"}, "benchmark.sweep_latency must be one of first, all, got 'both'"),
                          ({"sweep_latencies": "all"}, "unknown key(s) sweep_latencies in [benchmark]")]:
        with pytest.raises(ProfileError) as info:
            parse_profile(dict(head, benchmark=bench), "p.toml")
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_threading_says_where_each_setting_comes_from():
    assert effective_threading("onnxruntime", 2, {})["intra_op_spinning"] == "on (ONNX Runtime default)"
    assert effective_threading("onnxruntime", 2, {"intra_op_spinning": False})["intra_op_spinning"] == "off (profile)"
    assert effective_threading("litert", 2, {"xnnpack": True}) == {"threads": 2, "xnnpack": True}


# --- real runs ------------------------------------------------------------------------------------------------------

def _strict_profile(tmp_path, sweep_latency: str = "first"):
    """The x86_64 profile with a cosine bound that int8 cannot meet on the tiny model, but fp32 does."""
    from edgebench.hardware_profiles import PROFILE_DIR
    text = (PROFILE_DIR / "x86_64.toml").read_text()
    for old, new in [("min_cosine = 0.99\n", "min_cosine = 0.999999\n"),
                     ('sweep_latency = "first"\n', f'sweep_latency = "{sweep_latency}"\n')]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "strict.toml"
    path.write_text(text)
    return path


def _check_consistent(out, doc: dict) -> None:
    """Every ok record says how it was measured, and pyperf.json holds exactly the samples it was computed from."""
    import pyperf
    values = {b.get_name(): b.get_values() for b in pyperf.BenchmarkSuite.load(str(out / "pyperf.json")).get_benchmarks()}
    assert set(values) == {r["benchmark"] for r in doc["results"] if r["status"] == "ok"}
    for r in doc["results"]:
        m, lat = r["measurement"], r["latency_ms"]
        assert m["method"] in METHODS and m["reason"] and m["reason"] != PENDING
        assert m["samples"] == lat["n"] == len(values[r["benchmark"]])
        assert m["processes"] == r["processes"] == len(m["process_medians_ms"])
        assert lat["median_ci"][0] <= lat["median"] <= lat["median_ci"][1]


@pytest.mark.slow
def test_default_mode_screens_what_cannot_win_and_measures_the_baselines(quant_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(quant_models["keras"]), "--profile", str(_strict_profile(tmp_path)), "--threads", "1",
                     "--variants", "tflite-fp32,tflite-int8,onnx-fp32,onnx-simplified",
                     "--data", str(quant_models["data"]), "--out", str(out), "--wide")
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    _check_consistent(out, doc)
    by = {(r["variant"], r["settings_label"]): r for r in doc["results"]}
    assert doc["run_options"]["exhaustive"] is False
    for key in (("tflite-fp32", None), ("onnx-fp32", "arena-on")):  # the fp32 baselines: never screened
        m = by[key]["measurement"]
        assert m["method"] in ("full", "stopped-early") and m["reason"].startswith("fp32 baseline")
        own = m["processes"] - m.get("paired_processes", 0)  # the decision's paired rounds add processes of their own
        assert 3 <= own <= 6 and m["target_ci_pct"] == 1.0
        assert own == 6 if m["method"] == "full" else m["median_ci_pct"] <= 1.0
    int8 = by[("tflite-int8", None)]["measurement"]
    assert int8["method"] == "screened" and int8["processes"] == 1  # over the budget: no second screening round
    assert int8["reason"].startswith("over the accuracy budget: cosine")
    for variant in ("onnx-fp32", "onnx-simplified"):  # arena-off: memory measured, latency only screened
        rec = by[(variant, "arena-off")]
        assert rec["measurement"]["method"] == "screened" and "sweep_latency" in rec["measurement"]["reason"]
        assert rec["peak_rss_mb"] is not None and rec["memory"]["peak_rss_mb"] > 0 and rec["cold_start"]["n"] == 1
        assert rec["measurement"]["processes"] == 1  # no second screening round for a latency nobody asked for
    simplified = by[("onnx-simplified", "arena-on")]["measurement"]
    assert simplified["reason"].startswith(("can still win", "fastest at screening", "cannot win"))
    assert by[("onnx-fp32", "arena-on")]["threading"] == {
        "threads": 1, "inter_op_threads": 1, "execution_mode": "sequential",
        "intra_op_spinning": "on (ONNX Runtime default)"}
    assert by[("tflite-fp32", None)]["threading"] == {"threads": 1, "xnnpack": True}
    assert "ok (screened)" in proc.stdout


def test_exhaustive_measures_every_record_in_full(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", "x86_64", "--fast", "--exhaustive", "--threads", "1",
                     "--variants", "onnx-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    _check_consistent(out, doc)
    assert doc["run_options"]["exhaustive"] is True and len(doc["results"]) == 2  # arena on and off
    for r in doc["results"]:
        m = r["measurement"]
        assert (m["method"], m["processes"], m["target_ci_pct"]) == ("full", 3, None)
        assert m["reason"].startswith("exhaustive run")
    refused = run_bench("run", "--resume", str(out), "--exhaustive")
    assert refused.returncode == 2 and "drop --exhaustive" in refused.stderr


def test_a_profile_can_ask_for_the_latency_of_every_setting(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = run_bench("run", str(tiny_models["onnx"]), "--profile", str(_strict_profile(tmp_path, "all")),
                     "--fast", "--threads", "1", "--variants", "onnx-fp32", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = load_results(out)
    _check_consistent(out, doc)
    assert {r["settings_label"]: r["measurement"]["method"] != "screened" for r in doc["results"]} == {
        "arena-on": True, "arena-off": True}


@pytest.mark.slow
def test_resume_after_screening_measures_the_contenders_and_keeps_the_rest(tiny_models, tmp_path):
    """Killed while screening: tflite-fp16 was screened, the decision not yet taken. The resumed run screens what is
    missing, then measures fp16 in full (the only quantized variant: the best of its group) in place of its screening."""
    out = tmp_path / "run"
    proc = _start(["run", str(tiny_models["keras"]), "--profile", "x86_64", "--fast", "--threads", "1", "--variants",
                   "tflite-fp32,tflite-fp16,onnx-fp32", "--data", str(tiny_models["data"]), "--out", str(out)],
                  "load:hang@arena-off")
    _wait_for_records(out, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = {(r["variant"], r["settings_label"]): r for r in load_results(out)["results"]}
    assert before[("tflite-fp16", None)]["measurement"] == dict(before[("tflite-fp16", None)]["measurement"],
                                                               method="screened", reason=PENDING)

    resumed = run_bench("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    doc = load_results(out)
    _check_consistent(out, doc)
    after = {(r["variant"], r["settings_label"]): r for r in doc["results"]}
    assert len(after) == 4 and len(doc["results"]) == 4
    for key in (("tflite-fp32", None), ("onnx-fp32", "arena-on")):
        kept, now = before[key]["measurement"], after[key]["measurement"]
        if now.get("paired_processes"):  # the decision's paired rounds add processes to the records they compare
            assert now["process_medians_ms"][:len(kept["process_medians_ms"])] == kept["process_medians_ms"]
            assert now["method"] == kept["method"] and now["reason"] == kept["reason"]
        else:
            assert after[key] == before[key]  # kept as measured
    fp16 = after[("tflite-fp16", None)]["measurement"]
    # the only quantized variant is the best of its group, if not already close enough to fp32 to be a contender
    assert fp16["method"] in ("full", "stopped-early")
    assert fp16["reason"].startswith(("fastest at screening", "can still win"))
    assert after[("onnx-fp32", "arena-off")]["measurement"]["method"] == "screened"
    assert [record_key(r) for r in doc["results"]][:3] == [record_key(before[k]) for k in before]
