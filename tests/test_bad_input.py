"""User errors end with one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import pytest

from conftest import run_bench


def _assert_user_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0]


def test_missing_model(tmp_path):
    _assert_user_error(run_bench("run", str(tmp_path / "nope.keras"), "--out", str(tmp_path / "o")), "not found")


def test_unknown_format(tmp_path):
    f = tmp_path / "model.pt"
    f.write_bytes(b"\x00" * 64)
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), "unknown model format")


def test_unknown_profile(tmp_path, tiny_models):
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", "pentium", "--out", str(tmp_path / "o")),
                       "unknown profile", "x86_64")


@pytest.mark.parametrize("name,content", [("empty.tflite", b""), ("junk.tflite", b"not a flatbuffer at all"),
                                          ("junk.onnx", b"\x08\x07garbage\xff\xff"), ("junk.keras", b"PK\x03\x04broken")])
def test_corrupt_files(tmp_path, name, content):
    f = tmp_path / name
    f.write_bytes(content)
    _assert_user_error(run_bench("run", str(f), "--out", str(tmp_path / "o")), name)


def test_directory_that_is_not_a_savedmodel(tmp_path):
    _assert_user_error(run_bench("run", str(tmp_path), "--out", str(tmp_path / "o")), "not a SavedModel")


def test_bad_threads_flag(tmp_path):
    _assert_user_error(run_bench("run", "--threads", "0,x", "--out", str(tmp_path / "o")), "--threads")


def test_invalid_user_profile(tmp_path, tiny_models):
    prof = tmp_path / "p.toml"
    prof.write_text('name = "mine"\ntarget_arch = "sparc"\n')
    _assert_user_error(run_bench("run", str(tiny_models["onnx"]), "--profile", str(prof), "--out", str(tmp_path / "o")),
                       "target_arch")
