"""Readers validate against the typed record: a damaged file or record is named, never mistaken for failed runs."""
from __future__ import annotations

import json

import pytest
from conftest import load_results, run_bench
from report_docs import copy_run, write_doc

from edgebench.results.contract import SKIPPED_KEY, load_run
from edgebench.results.errors import ResultsError
from edgebench.results.record import validate_record


def _one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_report_on_records_of_the_wrong_type_names_the_file_and_field(keras_run, tmp_path):
    run = copy_run(keras_run[0], tmp_path / "damaged")
    doc = load_results(run)
    for rec in doc["results"]:
        rec["latency_ms"] = "fast"
    write_doc(run, doc)
    proc = run_bench("report", str(run), "-o", str(tmp_path / "r.html"))
    _one_line_error(proc, str(run / "results.json"), "latency_ms", "'fast'")
    assert not (tmp_path / "r.html").exists()


def test_one_damaged_record_is_skipped_with_a_warning(keras_run, tmp_path):
    run = copy_run(keras_run[0], tmp_path / "one-damaged")
    doc = load_results(run)
    doc["results"][0]["threads"] = "two"
    write_doc(run, doc)
    proc = run_bench("report", str(run), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr
    assert "skipped a damaged record" in proc.stderr and "field threads must be an integer" in proc.stderr
    assert (tmp_path / "r.html").is_file()
    loaded = load_run(run)
    assert len(loaded["results"]) == len(doc["results"]) - 1 and len(loaded[SKIPPED_KEY]) == 1


def test_compare_with_a_truncated_pyperf_json_is_one_line(keras_run, tmp_path):
    run = copy_run(keras_run[0], tmp_path / "truncated")
    text = (run / "pyperf.json").read_text()
    (run / "pyperf.json").write_text(text[: len(text) // 2])
    proc = run_bench("compare", str(keras_run[0]), str(run))
    _one_line_error(proc, "pyperf.json", "damaged")


def test_compare_with_a_damaged_results_json_is_one_line(keras_run, tmp_path):
    run = copy_run(keras_run[0], tmp_path / "bad")
    doc = load_results(run)
    for rec in doc["results"]:
        rec["accuracy"] = {"cosine": "high"}
    write_doc(run, doc)
    proc = run_bench("compare", str(keras_run[0]), str(run))
    _one_line_error(proc, "accuracy.cosine must be a number")


@pytest.mark.parametrize("mutation,needle", [
    ({"variant": 3}, "field variant must be a str"),
    ({"latency_ms": {"median": "1"}}, "field latency_ms.median must be a number"),
    ({"latency_ms": {"mean": 1.0}}, "field latency_ms.median is missing"),
    ({"warnings": ["ok", 7]}, "field warnings[1] must be a str"),
    ({"measured_on": {"host_is_target": "yes"}}, "field measured_on.host_is_target must be a bool"),
])
def test_validate_record_names_the_field(keras_run, mutation, needle):
    rec = dict(load_results(keras_run[0])["results"][0], **mutation)
    with pytest.raises(ResultsError) as info:
        validate_record(rec, "results.json: record 0")
    assert needle in str(info.value) and str(info.value).startswith("results.json: record 0")


def test_every_record_of_a_real_run_validates(keras_run):
    doc = load_results(keras_run[0])
    assert doc["results"]
    for i, rec in enumerate(doc["results"]):
        assert validate_record(json.loads(json.dumps(rec)), f"record {i}") == rec
