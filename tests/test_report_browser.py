"""The report in a real browser: headless Chromium (Debian's package) driven by playwright.

Never `playwright install`: the browser is the system's /usr/bin/chromium, which .ci/run installs. Without it these
tests skip, unless EDGEBENCH_REQUIRE_BROWSER is set (CI sets it), where a missing browser is a failure.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import load_results, run_bench
from report_docs import hostile_run, noisy_run

CHROMIUM = Path(os.environ.get("EDGEBENCH_CHROMIUM", "/usr/bin/chromium"))
# Running as root needs --no-sandbox; the rest keep a headless browser off the (closed) network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CHART_KEYS = ["latency", "pareto", "memory", "scaling", "runtimes"]

# Per chart: plotly's data model is populated, an SVG was drawn with a real size, and there are drawn marks
# (boxes, points, bars, lines) in it, not only axes.
CHART_STATE = """() => [...document.querySelectorAll('section[data-chart]')].map(s => {
  const d = s.querySelector('.plotly-graph-div');
  const r = d ? d.getBoundingClientRect() : {width: 0, height: 0};
  return {key: s.dataset.chart, traces: d && d._fullData ? d._fullData.length : 0,
          svg: d ? d.querySelectorAll('svg.main-svg').length : 0, width: r.width, height: r.height,
          marks: d ? d.querySelectorAll('g.trace path, g.trace .point, g.points path, .boxlayer path').length : 0};
})"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("EDGEBENCH_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and EDGEBENCH_REQUIRE_BROWSER is set")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page that records console errors, uncaught exceptions and dialogs (alert() would be an XSS)."""

    def __init__(self, browser, path: Path, block_cdn: bool = False) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        if block_cdn:  # the offline case, made certain whatever the network is
            self.page.route("https://cdn.plot.ly/**", lambda route: route.abort())
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def wait_for_charts(self) -> list[dict]:
        self.page.wait_for_function("() => { const d = [...document.querySelectorAll('.plotly-graph-div')];"
                                    " return d.length > 0 && d.every(x => x._fullLayout); }", timeout=30_000)
        return self.page.evaluate(CHART_STATE)


def assert_every_chart_renders(state: list[dict]) -> None:
    assert [c["key"] for c in state] == CHART_KEYS
    for chart in state:
        assert chart["traces"] > 0 and chart["svg"] >= 1, chart
        assert chart["width"] > 600 and chart["height"] > 200, chart
        assert chart["marks"] > 0, chart


def test_run_report_renders_every_chart_without_errors(browser, keras_run, tmp_path):
    page = Page(browser, keras_run[0] / "report.html")
    assert_every_chart_renders(page.wait_for_charts())
    assert page.errors == []
    assert page.page.locator("#no-plotly").is_hidden()
    assert "Best overall:" in page.page.inner_text("#decision")
    page.page.screenshot(path=str(tmp_path / "run-report.png"), full_page=True)
    assert (tmp_path / "run-report.png").stat().st_size > 10_000


def test_merged_report_renders_every_chart_without_errors(browser, keras_run, arm_run, tmp_path):
    out = tmp_path / "merged.html"
    proc = run_bench("report", str(keras_run[0]), str(arm_run[0]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = Page(browser, out)
    state = page.wait_for_charts()
    assert_every_chart_renders(state)
    assert page.errors == []
    # both runs reach the charts: the latency chart has one box per measured record of both runs
    boxes = next(c for c in state if c["key"] == "latency")["traces"]
    measured = [r for run in (keras_run[0], arm_run[0])
                for r in json.loads((run / "results.json").read_text())["results"] if r["status"] == "ok"]
    assert boxes == len(measured)


def test_script_in_a_model_name_does_not_run(browser, keras_run, tmp_path):
    run = hostile_run(keras_run[0], tmp_path / "hostile")
    out = tmp_path / "hostile.html"
    proc = run_bench("report", str(run), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = Page(browser, out)
    assert_every_chart_renders(page.wait_for_charts())
    assert page.page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    # nothing was blocked either: a blocked injected script or image would log an error here
    assert page.errors == []
    # the names are shown as text, not dropped: in the page and in a chart's SVG text
    assert "<script>window.__xss" in page.page.inner_text("h1")
    ticks = page.page.evaluate(
        "() => [...document.querySelectorAll('#fig-latency .ytick text')].map(t => t.textContent)")
    assert ticks and all("<script>window.__xss" in t for t in ticks), ticks


def test_cdn_report_offline_says_why_the_charts_are_missing(browser, keras_run, tmp_path):
    out = tmp_path / "cdn.html"
    assert run_bench("report", str(keras_run[0]), "-o", str(out), "--plotly", "cdn").returncode == 0
    page = Page(browser, out, block_cdn=True)
    assert page.page.locator("#no-plotly").is_visible()
    assert "Best overall:" in page.page.inner_text("#decision")  # the tables need no script


def test_decision_is_the_first_block_and_grouped_warnings_open_on_click(browser, keras_run, tmp_path):
    run = noisy_run(keras_run[0], tmp_path / "noisy")
    out = tmp_path / "noisy.html"
    assert run_bench("report", str(run), "-o", str(out)).returncode == 0
    page = Page(browser, out)
    p = page.page
    # the decision is the first section, at the top of the page and in the first screenful
    tops = p.evaluate("() => [...document.querySelectorAll('main section')].map(s => [s.id, "
                      "s.getBoundingClientRect().top])")
    assert tops[0][0] == "decision" and tops[0][1] == min(t for _, t in tops) and tops[0][1] < 900
    decision = p.inner_text("#decision")
    assert "Best overall:" in decision and "ms [" in decision and "are tied:" in decision
    # identical warnings are counted, each group collapsed until clicked
    groups = p.locator("#warnings details.wgroup")
    n = len(load_results(run)["results"])
    assert groups.count() == 2
    first = groups.first
    assert f"{n} of {n} benchmarks unstable: stdev > 10% of the mean" in first.locator("summary").inner_text()
    for i in range(groups.count()):
        assert groups.nth(i).get_attribute("open") is None
    items = first.locator("li")
    assert items.count() == n and not items.first.is_visible()
    first.locator("summary").click()
    assert first.get_attribute("open") is not None and items.first.is_visible()
    assert "stdev is 13% of the mean" in first.inner_text()
    assert page.errors == []
