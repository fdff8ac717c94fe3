"""The HTML report and `bench report` on real runs of tiny models (the browser checks are in test_report_browser)."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from conftest import load_results, run_bench
from report_docs import copy_run, evolved_run, hostile_run, noisy_run, write_doc

from edgebench.reports.html.page import render_report
from edgebench.reports.rundata import load_run_data

CHART_KEYS = ["latency", "pareto", "memory", "scaling", "runtimes"]
# a run with per-output accuracy figures (every run since issue 27) has the "Accuracy per output" section
SECTIONS = ["decision", "warnings", *CHART_KEYS, "runtime-table", "accuracy-outputs", "records", "environment"]
# bench run writes card.json for its ONNX variants; the report shows it before the records
RUN_SECTIONS = [*SECTIONS[:SECTIONS.index("records")], "card", *SECTIONS[SECTIONS.index("records"):]]


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def test_bench_run_writes_a_report_and_says_where(keras_run):
    out, proc = keras_run
    assert proc.returncode == 0, proc.stderr
    report = out / "report.html"
    assert f"report: {report}" in proc.stdout
    html = report.read_text(encoding="utf-8")
    assert sections(html) == RUN_SECTIONS
    # plotly.js is inside the file: no script is fetched from anywhere
    assert "Plotly.newPlot" in html and not re.search(r"<script[^>]*\ssrc=", html) and len(html) > 3_000_000
    assert html.count('class="plotly-graph-div"') == len(CHART_KEYS)


def test_merged_report_names_each_runs_recommendation_and_warnings(keras_run, arm_run, tmp_path):
    assert arm_run[1].returncode == 0, arm_run[1].stderr
    out = tmp_path / "merged.html"
    proc = run_bench("report", str(keras_run[0]), str(arm_run[0] / "results.json"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "2 runs" in proc.stdout and str(out) in proc.stdout
    html = out.read_text(encoding="utf-8")
    assert sections(html) == RUN_SECTIONS
    assert "x86_64 @ " in html and "arm64 @ " in html
    summary = html[html.index('id="decision"'):html.index('id="warnings"')]
    assert summary.count("Best overall:") == 2
    assert "HOST timing" in summary  # the arm64 profile ran on an x86 host
    warnings = html[html.index('id="warnings"'):html.index('id="latency"')]
    assert "HOST timing" in warnings and "RANDOM" in warnings
    assert "different model files" in warnings  # the two runs measured different files
    # every record of both runs is in the table
    records = html[html.index('id="records"'):html.index('id="environment"')]
    n = len(load_results(keras_run[0])["results"]) + len(load_results(arm_run[0])["results"])
    assert records.count("<tr>") == n + 1
    # the batch-2 record of the arm64 run reaches the scaling chart
    assert '"x":[1,2]' in html


def test_cdn_report_is_small_and_loads_plotly_from_the_cdn(keras_run, tmp_path):
    embed, cdn = tmp_path / "embed.html", tmp_path / "cdn.html"
    assert run_bench("report", str(keras_run[0]), "-o", str(embed)).returncode == 0
    proc = run_bench("report", str(keras_run[0]), "-o", str(cdn), "--plotly", "cdn")
    assert proc.returncode == 0, proc.stderr
    small, big = cdn.stat().st_size, embed.stat().st_size
    assert small < 500_000 < 3_000_000 < big
    html = cdn.read_text(encoding="utf-8")
    assert re.search(r'<script [^>]*src="https://cdn\.plot\.ly/plotly-[0-9.]+\.min\.js"', html)
    assert "https://cdn.plot.ly" in html[:html.index("</head>")]  # the CSP allows that one origin


def test_user_strings_are_escaped_everywhere(keras_run, tmp_path):
    run = hostile_run(keras_run[0], tmp_path / "hostile")
    html = render_report(load_run_data([run]))
    # the raw markup appears nowhere: not in the page, not inside the figures' JSON
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;window.__xss") >= 8  # title, header, summary, tables, warnings, environment
    # in figure text too (plotly renders a subset of HTML there): escaped, inside the Plotly.newPlot call
    assert re.search(r"Plotly\.newPlot\([^<]*&lt;script&gt;window\.__xss", html)
    # defence in depth: the policy lets only the report's own scripts (by hash) run, and nothing load
    csp = html_lib.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert csp.startswith("default-src 'none'; script-src 'sha256-") and "unsafe-inline" not in csp.split(";")[1]


def test_report_tolerates_new_variants_failures_and_missing_fields(keras_run, tmp_path):
    run = evolved_run(keras_run[0], tmp_path / "evolved")
    html = render_report(load_run_data([run]))
    assert "onnx-future-thing" in html and "unstable: stdev is 42% of the mean" in html
    assert "FAILED: conversion failed: no calibration data" in html and "ort-format" in html
    summary = html[html.index('id="decision"'):html.index('id="warnings"')]
    # the 100x faster int8 variant breaks the accuracy budget, so it is not the recommendation
    assert "onnx-static-int8" not in summary
    assert "over the accuracy budget: top-1 agreement 0.700" in html
    assert sections(html) == SECTIONS


def test_report_without_pyperf_json_says_so(keras_run, tmp_path):
    run = tmp_path / "no-samples"
    run.mkdir()
    write_doc(run, load_results(keras_run[0]))
    html = render_report(load_run_data([run]))
    assert "no pyperf.json beside the results" in html and sections(html) == SECTIONS


def test_bench_report_user_errors_are_one_line(keras_run, tmp_path):
    newer = tmp_path / "newer"
    newer.mkdir()
    doc = load_results(keras_run[0])
    doc["schema_version"] = "9.0"
    write_doc(newer, doc)
    out = str(tmp_path / "r.html")
    cases = [((str(newer), "-o", out), "newer than this edgebench reads"),
             ((str(tmp_path / "missing"), "-o", out), "no results file"),
             ((str(keras_run[0]), "-o", str(tmp_path / "no" / "dir.html")), "does not exist")]
    for args, needle in cases:
        proc = run_bench("report", *args)
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_report_to_a_directory_writes_report_html(keras_run, tmp_path):
    proc = run_bench("report", str(keras_run[0]), "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "report.html").stat().st_size > 1_000_000


def test_render_report_refuses_unknown_plotly_mode(keras_run):
    with pytest.raises(ValueError):
        render_report(load_run_data([keras_run[0]]), plotly="inline")


def test_decision_block_on_top_with_cis_and_warnings_grouped(keras_run, tmp_path):
    run = noisy_run(keras_run[0], tmp_path / "noisy")
    html = render_report(load_run_data([run]))
    assert sections(html) == SECTIONS
    decision = html[html.index('id="decision"'):html.index('id="warnings"')]
    assert "Best overall: " in decision and " ms [" in decision and " are tied: " in decision
    assert "this is the fp32 baseline" in decision  # the tiny run measures fp32 only
    warnings = html[html.index('id="warnings"'):html.index('id="latency"')]
    n = len(load_results(run)["results"])
    assert (f"{n} of {n} benchmarks unstable: stdev &gt; 10% of the mean (13% to {12 + n}%); machine busy at start"
            in warnings)
    assert f"{n} of {n} benchmarks: worker processes disagree by more than 10%" in warnings
    # each group is one collapsed <details> holding every member; the run's own warning is shown once
    assert warnings.count("<details") == 2 and "<details open" not in warnings and warnings.count("<li>") == 2 * n
    assert warnings.count("machine busy at start: 90%") == 1


def test_decision_of_a_run_without_cis_claims_no_tie(keras_run, tmp_path):
    run = copy_run(keras_run[0], tmp_path / "older")  # a run written before records carried CIs
    doc = load_results(run)
    doc.pop("paired", None)  # nor interleaved rounds (schema 1.4)
    for rec in doc["results"]:
        for key in ("median_ci", "p99_ci"):
            (rec.get("latency_ms") or {}).pop(key, None)
    write_doc(run, doc)
    html = render_report(load_run_data([run]))
    decision = html[html.index('class="decision-run"'):html.index('id="warnings"')]  # after the section's note
    # no latency is written with a CI ("0.80 +/- 0.02 ms"); a warning may still quote a CI's width in percent
    assert "Best overall: " in decision and not re.search(r"\+/- [0-9.]+ ms", decision)
    assert "are tied" not in decision
    assert "no confidence intervals in this run, so no tie is judged" in decision
