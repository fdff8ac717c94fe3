"""The deployment-card section of report.html in headless Chromium: `bench run` writes card.json, the report shows
it (read from disk only), and nothing in it can run as script."""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import run_bench
from test_report_browser import Page, browser  # noqa: F401  (the module-scoped browser fixture)


@pytest.mark.slow
def test_run_writes_a_card_that_the_report_shows(browser, keras_run, tmp_path):  # noqa: F811
    run_dir = keras_run[0]
    doc = json.loads((run_dir / "card.json").read_text())
    assert doc["card_version"] == "1.0" and [c["variant"] for c in doc["cards"]] == ["onnx-fp32"]
    card = doc["cards"][0]
    assert [r["key"] for r in card["rows"]] == ["mlnet-2.0", "mlnet-3.0", "mlnet-4.0", "mlnet-5.0"]
    assert card["performance"]["latency"][0]["median_ms"] > 0
    page = Page(browser, run_dir / "report.html")
    p = page.page
    section = p.locator("section#card")
    assert section.is_visible()
    assert p.locator("nav a[href='#card']").count() == 1
    assert p.locator("#card table.card-matrix tbody tr").count() == 4
    assert p.inner_text("#card .pick") == card["answer"]
    assert "ML.NET 5.0.x" in section.inner_text()
    p.locator("#card details summary").first.click()
    assert "ApplyOnnxModel" in p.inner_text("#card details")
    assert page.errors == []


@pytest.mark.slow
def test_markup_in_a_card_is_shown_as_text(browser, keras_run, tmp_path):  # noqa: F811
    run = tmp_path / "hostile"
    shutil.copytree(keras_run[0], run, ignore=shutil.ignore_patterns("work", "report.html"))
    doc = json.loads((run / "card.json").read_text())
    doc["cards"][0]["answer"] = "<img src=x onerror=\"alert('card')\">"
    doc["cards"][0]["variant"] = "<script>window.__xss=1</script>"
    (run / "card.json").write_text(json.dumps(doc))
    out = tmp_path / "hostile.html"
    proc = run_bench("report", str(run), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = Page(browser, out)
    assert page.dialogs == [] and page.page.evaluate("() => window.__xss") is None
    assert "<img src=x" in page.page.inner_text("#card .pick")
    assert page.errors == []
