"""What a user sees besides the results: usage errors that name the right help, and progress in a log or pipe."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import BENCH, load_results, run_bench

PROGRESS_LINE = re.compile(r"^\[ *\d+\.\d+s\] ")


@pytest.mark.parametrize(("args", "help_of"), [
    (["frob"], "bench"),
    (["--frob"], "bench"),
    (["--frob", "run"], "bench"),
    (["run", "--frob"], "bench run"),
    (["run", "--threads", "x"], "bench run"),
    (["compare", "--frob", "a", "b"], "bench compare"),
    (["report", "--frob", "x"], "bench report"),
    (["optimize", "--frob", "--out", "d"], "bench optimize"),
    (["optimize"], "bench optimize"),
    (["profiles", "--frob"], "bench profiles"),
])
def test_usage_error_is_one_line_naming_the_right_help(args, help_of, tmp_path):
    proc = run_bench(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), proc.stderr
    assert lines[0].endswith(f"(see {help_of} --help)"), lines[0]
    assert not proc.stdout
    assert not list(tmp_path.iterdir())  # nothing written, no run started


def _run_logged(tiny_models, out, log, *extra: str) -> tuple[int, list[str]]:
    """`bench run` on the tiny ONNX model with stderr in a file, as in CI or `bench run ... 2> log.txt`."""
    with open(log, "w") as err:
        proc = subprocess.run([*BENCH, "run", str(tiny_models["onnx"]), "--profile", "x86_64", "--fast", "--threads",
                               "1", "--variants", "onnx-fp32", "--out", str(out), *extra],
                              stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True, timeout=600)
    return proc.returncode, log.read_text().splitlines()


@pytest.mark.slow
def test_run_logs_a_line_per_stage_and_per_finished_benchmark_when_stderr_is_a_file(tiny_models, tmp_path):
    rc, lines = _run_logged(tiny_models, tmp_path / "run", tmp_path / "log.txt")
    text = "\n".join(lines)
    assert rc == 0, text
    records = load_results(tmp_path / "run")["results"]
    assert records
    stamp = r"^\[ *\d+\.\d+s\] "
    for stage in (r"reading tiny \(onnx\): done \(\d+\.\d s\)", "converting: 1 variant",
                  "load test and accuracy: 1 variant", rf"measuring \(fast mode\): {len(records)} benchmarks?"):
        assert re.search(stamp + stage + "$", text, re.M), text
    assert re.search(stamp + r"built onnx-fp32: ok \(\d+\.\d s\)$", text, re.M), text
    assert re.search(stamp + r"load-tested onnx-fp32: ok \(\d+\.\d s\)$", text, re.M), text
    measured = [line for line in lines if re.match(stamp + "measured ", line)]
    assert len(measured) == len(records), text  # one line per finished benchmark, each once
    for r in records:
        item = f"{r['runtime']} {r['variant']} t{r['threads']} b{r['batch']}" + (
            f" {r['settings_label']}" if r["settings_label"] else "")
        assert any(re.search(rf"\] measured {re.escape(item)}: {r['status']} \(\d+\.\d s\)$", m) for m in measured), text
    progress = [line for line in lines if PROGRESS_LINE.match(line)]
    stamps = [float(PROGRESS_LINE.match(line).group(0).strip("[] s")) for line in progress]
    assert stamps == sorted(stamps), text  # one clock since the start
    assert not any("\x1b" in line or "\r" in line for line in lines)  # no bar, no colour codes in a log


@pytest.mark.slow
def test_quiet_run_logs_no_progress(tiny_models, tmp_path):
    rc, lines = _run_logged(tiny_models, tmp_path / "run", tmp_path / "log.txt", "--quiet")
    assert rc == 0, "\n".join(lines)
    assert not [line for line in lines if PROGRESS_LINE.match(line)], "\n".join(lines)
    assert (tmp_path / "run" / "results.json").is_file()
