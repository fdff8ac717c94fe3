"""Results are on disk as they arrive: after kill -9 or Ctrl-C, `bench run --resume DIR` measures only what is missing.

The x86_64 profile measures ONNX Runtime with its memory arena on, then off. A `load:hang@arena-off` fault makes the
interrupted run stop at a known point: the arena-on benchmarks are measured, the first arena-off one never finishes.
The resumed run has no fault, so it measures the arena-off benchmarks and nothing else (which also shows that a
record's settings label is part of what identifies it).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BENCH, load_results, run_bench
from test_faults import _leftovers

PLAIN = ["--fast", "--variants", "onnx-fp32"]  # the tiny ONNX model on ONNX Runtime, arena on and off


def _start(args: list[str], fault: str) -> subprocess.Popen:
    # its own session, like a job started from a shell: kill -9 goes to the whole group. SIGINT back to its default,
    # as for a foreground job: when the tests themselves run as a background job of a non-interactive shell, SIGINT
    # is ignored and bench would inherit that (this, not a race, made the Ctrl-C test hang in such runs)
    return subprocess.Popen([*BENCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, EDGEBENCH_FAULT=fault), start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_records(out: Path, n: int, proc: subprocess.Popen, limit: float = 300) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            doc = json.loads((out / "results.json").read_text())
            if len(doc["results"]) >= n:
                return doc
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no {n} records in {out} within {limit} s")


def _samples(out: Path) -> dict[str, list[float]]:
    import pyperf
    return {b.get_name(): b.get_values() for b in pyperf.BenchmarkSuite.load(str(out / "pyperf.json")).get_benchmarks()}


def _work_files(out: Path, records: list[dict]) -> dict[str, tuple[int, bytes]]:
    files = {}
    for r in records:
        p = out / "work" / (r["benchmark"].replace("/", "__") + ".pyperf.json")
        files[r["benchmark"]] = (p.stat().st_mtime_ns, p.read_bytes())
    return files


def _plan(doc: dict) -> list[tuple]:
    return sorted((r["threads"], r["settings_label"], r["status"]) for r in doc["results"])


@pytest.mark.slow
def test_kill_9_then_resume_measures_only_what_is_missing(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = _start(["run", str(tiny_models["onnx"]), *PLAIN, "--threads", "1,2", "--out", str(out)],
                  "load:hang@arena-off")
    before = _wait_for_records(out, 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    run_id = before["run_options"]["run_id"]
    time.sleep(1)
    assert _leftovers(run_id) == []  # children die with `bench`: nothing goes on measuring or writing
    before = load_results(out)
    assert _plan(before) == [(1, "arena-on", "ok"), (2, "arena-on", "ok")]
    samples_before, files_before = _samples(out), _work_files(out, before["results"])

    resumed = run_bench("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    after = load_results(out)
    assert _plan(after) == [(1, "arena-off", "ok"), (1, "arena-on", "ok"), (2, "arena-off", "ok"), (2, "arena-on", "ok")]
    for old in before["results"]:
        (new,) = [r for r in after["results"] if r["benchmark"] == old["benchmark"]]
        assert new == old  # kept as measured, not measured again
    assert _work_files(out, before["results"]) == files_before
    samples_after = _samples(out)
    for name, values in samples_before.items():
        assert samples_after[name] == values
    assert set(samples_after) == {r["benchmark"] for r in after["results"]}
    assert after["created"] == before["created"] and len(after["resumed"]) == 1
    assert after["run_options"]["run_id"] == run_id
    assert "note: resumed: 2 benchmark(s) measured before were kept as they were" in resumed.stdout


@pytest.mark.slow
def test_ctrl_c_then_resume_retries_the_failed_and_keeps_the_rest(tiny_models, tmp_path):
    out = tmp_path / "run"
    proc = _start(["run", str(tiny_models["onnx"]), *PLAIN, "--threads", "1,2", "--out", str(out)],
                  "run:crash@t1,load:hang@arena-off")
    _wait_for_records(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"bench run --resume {out}" in err and "Traceback" not in err
    before = load_results(out)
    assert _plan(before) == [(1, "arena-on", "failed"), (2, "arena-on", "ok")]
    assert _leftovers(before["run_options"]["run_id"]) == []  # the hung worker was stopped with the run

    resumed = run_bench("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    after = load_results(out)
    assert _plan(after) == [(1, "arena-off", "ok"), (1, "arena-on", "ok"), (2, "arena-off", "ok"), (2, "arena-on", "ok")]
    kept = before["results"][1]
    assert [r for r in after["results"] if r["benchmark"] == kept["benchmark"]] == [kept]
    assert "1 benchmark(s) that had failed were tried again" in resumed.stdout


def test_resume_refusals(tiny_models, tmp_path):
    def refused(*args: str) -> str:
        proc = run_bench("run", *args)
        assert proc.returncode == 2, (proc.returncode, proc.stderr)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        return lines[0]

    assert "no such directory" in refused("--resume", str(tmp_path / "nowhere"))
    assert "no results file" in refused("--resume", str(tmp_path))
    assert "drop MODEL, --profile, --threads" in refused(str(tiny_models["onnx"]), "--resume", str(tmp_path),
                                                         "--profile", "arm64", "--threads", "1")

    # a finished run whose model is then changed
    model = tmp_path / "m.onnx"
    model.write_bytes(tiny_models["onnx"].read_bytes())
    out = tmp_path / "run"
    assert run_bench("run", str(model), *PLAIN, "--threads", "1", "--out", str(out)).returncode == 0
    assert "not empty" in refused(str(model), *PLAIN, "--out", str(out))  # a new run never overwrites one
    old = load_results(out)
    old.pop("run_options")
    (out / "results.json").write_text(json.dumps(old))
    assert "no run_options" in refused("--resume", str(out))
    old = load_results(out)
    old["run_options"] = {"model": str(model), "variants": ["onnx-fp32"], "threads": [1], "batches": [1],
                          "mode": "fast"}
    (out / "results.json").write_text(json.dumps(old))
    model.write_bytes(model.read_bytes() + b"\0")
    assert "changed since the run started" in refused("--resume", str(out))


def test_one_writer_per_run_directory(tiny_models, tmp_path):
    import fcntl
    out = tmp_path / "run"
    out.mkdir()
    with open(out / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write("4242")
        fh.flush()
        proc = run_bench("run", str(tiny_models["onnx"]), *PLAIN, "--out", str(out))
    assert proc.returncode == 2 and "in use by another bench run (pid 4242)" in proc.stderr, proc.stderr


@pytest.mark.parametrize("flags", [["--timeout", "0"], ["--timeout", "nan"], ["--fast", "--rigorous"]])
def test_conflicting_or_invalid_run_flags(tmp_path, flags):
    proc = run_bench("run", *flags, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, proc.stderr


@pytest.mark.slow
def test_a_record_whose_raw_samples_are_damaged_is_measured_again(tiny_models, tmp_path):
    out = tmp_path / "run"
    assert run_bench("run", str(tiny_models["onnx"]), *PLAIN, "--threads", "1", "--out", str(out)).returncode == 0
    before = load_results(out)
    assert len(before["results"]) == 2  # arena on and off
    damaged = before["results"][0]
    (out / "work" / (damaged["benchmark"].replace("/", "__") + ".pyperf.json")).write_text("{not json")
    resumed = run_bench("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    after = load_results(out)
    assert _plan(after) == _plan(before)
    assert [r for r in after["results"] if r["benchmark"] == before["results"][1]["benchmark"]] == [before["results"][1]]
    (again,) = [r for r in after["results"] if r["benchmark"] == damaged["benchmark"]]
    assert again["status"] == "ok" and again["latency_ms"] != damaged["latency_ms"]
    assert "do not match the record; measured again" in resumed.stdout
    assert set(_samples(out)) == {r["benchmark"] for r in after["results"]}
