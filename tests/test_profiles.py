from __future__ import annotations

import pytest
from conftest import run_bench

from edgebench.hardware_profiles import ProfileError, builtin_profiles, load_profile


def test_builtin_profiles_load():
    assert {"x86_64", "arm64", "mobile"} <= set(builtin_profiles())
    for name in builtin_profiles():
        p = load_profile(name)
        assert p.target_arch in ("x86_64", "arm64") and p.variants


def test_all_threads_means_the_measuring_machine():
    p = load_profile("x86_64")
    assert p.thread_counts(cores=8) == [1, 8]
    assert p.thread_counts(cores=1) == [1]


def test_user_profile_file(tmp_path):
    f = tmp_path / "edge.toml"
    f.write_text('name = "edge"\ntarget_arch = "arm64"\n[benchmark]\nthreads = [1, 4]\n[variants]\nbuild = ["onnx-fp32"]\n')
    p = load_profile(str(f))
    assert p.name == "edge" and p.thread_counts(cores=2) == [1, 4] and p.variants == ("onnx-fp32",)


@pytest.mark.parametrize("text,needle", [
    ('name = "x"\n', "target_arch"),
    ('name = "x"\ntarget_arch = "x86_64"\n[benchmark]\nthreads = [0]\n', "threads"),
    ('name = "x"\ntarget_arch = "x86_64"\nsurprise = 1\n', "unknown key"),
    ('name = "x"\ntarget_arch = = \n', "not valid TOML"),
])
def test_invalid_profiles_are_refused(tmp_path, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ProfileError, match=needle):
        load_profile(str(f))


def test_profiles_command_lists_and_shows():
    proc = run_bench("profiles")
    assert proc.returncode == 0
    for name in ("x86_64", "arm64", "mobile"):
        assert name in proc.stdout
    proc = run_bench("profiles", "show", "arm64")
    assert proc.returncode == 0 and "target arm64" in proc.stdout and "intra_op_spinning" in proc.stdout
