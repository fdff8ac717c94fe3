from __future__ import annotations

import json

import pytest
from conftest import run_bench

from edgebench.hardware_profiles import ProfileError, builtin_profiles, load_profile, parse_profile
from edgebench.hardware_profiles.runtime_options import LiteRTOptions, OrtOptions

HEAD = 'name = "p"\ntarget_arch = "x86_64"\n'


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


def _profile(tmp_path, text: str):
    f = tmp_path / "p.toml"
    f.write_text(HEAD + text)
    return load_profile(str(f))


def _refused(tmp_path, text: str) -> str:
    with pytest.raises(ProfileError) as info:
        _profile(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_typo_in_onnxruntime_names_the_key_and_the_known_keys(tmp_path):
    message = _refused(tmp_path, '[onnxruntime]\ngraph_optimisation_level = "all"\n')
    assert message.endswith("unknown key 'graph_optimisation_level' in [onnxruntime] "
                            "(known: enable_cpu_mem_arena, graph_optimization_level, intra_op_spinning)")
    assert "unknown key 'xnnpak' in [litert] (known: xnnpack)" in _refused(tmp_path, "[litert]\nxnnpak = true\n")


@pytest.mark.parametrize("text,needle", [
    ('[onnxruntime]\nintra_op_spinning = "no"\n', 'onnxruntime.intra_op_spinning must be true or false (got "no")'),
    ("[onnxruntime]\nintra_op_spinning = 0\n", "onnxruntime.intra_op_spinning must be true or false (got 0)"),
    ("[litert]\nxnnpack = 1\n", "litert.xnnpack must be true or false (got 1)"),
    ("[onnxruntime]\ngraph_optimization_level = 99\n", "onnxruntime.graph_optimization_level must be one of"),
    ('[onnxruntime]\ngraph_optimization_level = "fast"\n',
     'onnxruntime.graph_optimization_level must be one of disable, basic, extended, layout, all (got "fast")'),
    ('[onnxruntime]\ngraph_optimization_level = "ALL"\n', '(got "ALL")'),
])
def test_wrong_runtime_values_name_section_key_value_and_what_is_allowed(tmp_path, text, needle):
    assert needle in _refused(tmp_path, text)


@pytest.mark.parametrize("arena", ["[]", "[true, 1]", '"true"', "[true, true]", "[[true]]"])
def test_invalid_arena_lists_are_refused(tmp_path, arena):
    message = _refused(tmp_path, f"[onnxruntime]\nenable_cpu_mem_arena = {arena}\n")
    assert "onnxruntime.enable_cpu_mem_arena must be" in message


def test_an_arena_list_is_measured_once_per_value():
    from edgebench.benchmarks.run.settings import settings_sweep

    p = load_profile("x86_64")
    assert p.onnxruntime.enable_cpu_mem_arena == (True, False)
    sweep = settings_sweep(p, "onnxruntime")
    assert [label for label, _ in sweep] == ["arena-on", "arena-off"]
    assert [s["enable_cpu_mem_arena"] for _, s in sweep] == [True, False]
    # spinning is left at ONNX Runtime's default: each runtime is measured as its users run it
    assert sweep[0][1]["graph_optimization_level"] == "all" and "intra_op_spinning" not in sweep[0][1]
    mobile = load_profile("mobile")
    assert settings_sweep(mobile, "onnxruntime") == [(None, mobile.onnxruntime.settings())]
    assert settings_sweep(p, "litert") == [(None, {"xnnpack": True})]


def test_options_default_to_what_the_runtimes_do_unconfigured():
    assert OrtOptions.from_table({}) == OrtOptions(graph_optimization_level="all", intra_op_spinning=None,
                                                   enable_cpu_mem_arena=True)
    assert OrtOptions.from_table({}).settings() == {"graph_optimization_level": "all", "enable_cpu_mem_arena": True}
    assert LiteRTOptions.from_table({}).settings() == {"xnnpack": True}


def _ort_session_spinning(profile) -> str | None:
    """The spinning entry of the SessionOptions a worker makes from this profile's settings, sent as JSON."""
    from edgebench.benchmarks.measure.runtimes.ort import session_options
    from edgebench.benchmarks.run.settings import settings_sweep

    settings = json.loads(json.dumps(settings_sweep(profile, "onnxruntime")[0][1]))
    so = session_options(1, settings)
    try:
        value = so.get_session_config_entry("session.intra_op.allow_spinning")
    except RuntimeError:  # ORT raises for an entry never set: the session keeps ORT's default
        return None
    assert so.get_session_config_entry("session.inter_op.allow_spinning") == value
    return value


def test_spinning_absent_keeps_the_ort_default_and_false_turns_it_off(tmp_path):
    absent = _profile(tmp_path, '[onnxruntime]\ngraph_optimization_level = "basic"\n')
    assert absent.onnxruntime.intra_op_spinning is None
    assert "intra_op_spinning" not in absent.onnxruntime.settings()
    assert _ort_session_spinning(absent) is None
    assert _ort_session_spinning(_profile(tmp_path, "[onnxruntime]\nintra_op_spinning = false\n")) == "0"
    assert _ort_session_spinning(_profile(tmp_path, "[onnxruntime]\nintra_op_spinning = true\n")) == "1"


def test_memory_section_is_refused_with_a_pointer_to_limits(tmp_path):
    message = _refused(tmp_path, "[memory]\nmax_mb = 512\n")
    assert "unknown key(s) memory" in message and "[limits] max_rss_mb" in message
    for name in builtin_profiles():
        assert "memory" not in load_profile(name).raw


def test_stored_profile_is_the_raw_document_and_parses_again():
    for name in builtin_profiles():
        p = load_profile(name)
        stored = json.loads(json.dumps(p.to_dict()))  # as results.json keeps it
        assert stored == dict(p.raw, name=p.name, source=p.source)
        assert stored["onnxruntime"] == p.raw["onnxruntime"] and stored["litert"] == p.raw["litert"]
        again = parse_profile({k: v for k, v in stored.items() if k != "source"}, stored["source"])
        assert again == p


def test_profiles_show_prints_the_runtime_tables():
    proc = run_bench("profiles", "show", "x86_64")
    assert proc.returncode == 0, proc.stderr
    assert "target x86_64" in proc.stdout and "[onnxruntime]" in proc.stdout and "[litert]" in proc.stdout
    assert "enable_cpu_mem_arena = [True, False]" in proc.stdout and "graph_optimization_level = 'all'" in proc.stdout
