from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgebench.benchmarks.measure.accuracy import budget_violations, compare_outputs
from edgebench.results.stats import latency_stats


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=1, max_size=200))
def test_latency_stats_match_numpy(samples):
    s = latency_stats(samples)
    ms = np.asarray(samples) * 1e3
    assert s["n"] == len(samples)
    assert s["median"] == pytest.approx(np.median(ms))
    assert s["p90"] == pytest.approx(np.percentile(ms, 90))
    assert s["p99"] == pytest.approx(np.percentile(ms, 99))
    assert s["min"] == pytest.approx(ms.min()) and s["max"] == pytest.approx(ms.max())


def test_compare_outputs_detects_a_flipped_class():
    ref = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.2, 0.1]], dtype=np.float32)
    got = ref.copy()
    got[3] = [0.1, 0.2]
    m = compare_outputs([ref], [got], labels=np.array([0, 1, 0, 0]))
    assert m["top1_agreement"] == 0.75 and m["top1_accuracy"] == 0.75
    assert m["max_abs_error"] == pytest.approx(0.1, abs=1e-6)
    assert budget_violations(m, 0.99, 0.99)
    same = compare_outputs([ref], [ref.copy()])
    assert same["cosine"] == pytest.approx(1.0) and not budget_violations(same, 0.99, 0.99)


def test_every_output_is_compared_and_only_class_scores_get_top1():
    rng = np.random.default_rng(0)
    box = rng.normal(size=(20, 2)).astype(np.float32)
    probs = rng.dirichlet(np.ones(3), size=20).astype(np.float32)
    m = compare_outputs([box, probs], [box.copy(), probs.copy()], names=["box", "scores"])
    assert [o["name"] for o in m["outputs"]] == ["box", "scores"]
    assert "top1_agreement" not in m["outputs"][0] and m["outputs"][1]["top1_agreement"] == 1.0
    broken = probs[:, ::-1].copy()
    m = compare_outputs([box, probs], [box.copy(), broken], names=["box", "scores"])
    assert m["outputs"][0]["max_abs_error"] == 0 and m["worst_output"] == "scores"
    assert m["cosine"] == m["outputs"][1]["cosine"] < 0.99
    assert all(v.startswith("output 'scores'") for v in budget_violations(m, 0.99, 0.99))


def test_random_data_respects_dtypes_and_batch_axes():
    from edgebench.benchmarks.variants.data import batch_of, random_data

    specs = [{"name": "input_ids", "shape": [-1, 6], "dtype": "int64"},
             {"name": "attention_mask", "shape": [-1, 6], "dtype": "int64"},
             {"name": "token_type_ids", "shape": [-1, 6], "dtype": "int32"},
             {"name": "flags", "shape": [-1, 2], "dtype": "bool"},
             {"name": "state", "shape": [2, -1, 4], "dtype": "float32", "batch_axis": 1},
             {"name": "sr", "shape": [], "dtype": "int64", "batch_axis": None}]
    data = random_data(specs, n=5, vocab=7)
    ids, mask, types, flags, state, sr = data.inputs
    assert ids.dtype == np.int64 and 0 <= ids.min() and ids.max() < 7 and len(np.unique(ids)) > 1
    assert (mask == 1).all() and (types == 0).all() and flags.dtype == bool
    assert state.shape == (2, 5, 4) and sr.shape == () and data.samples == 5 and data.kind == "random"
    b = batch_of(data.inputs, 7, data.batch_axes)
    assert b[0].shape == (7, 6) and b[4].shape == (2, 7, 4) and b[5].shape == ()
    assert (b[4][:, 5] == state[:, 0]).all()  # repeated from the start along the state's own batch axis
