"""The distribution-free confidence intervals of quantiles (results/stats.py), checked against scipy's binomial."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from edgebench.results.stats import ci_half_width_pct, latency_stats, quantile_ci, quantile_ci_ranks

TAIL = 0.025


@settings(max_examples=120, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.sampled_from([0.5, 0.9, 0.99]))
def test_ranks_cover_95_percent_and_are_the_tightest(n, q):
    ranks = quantile_ci_ranks(n, q)
    cdf = lambda k: float(binom.cdf(k, n, q))  # noqa: E731  P(fewer than k+1 samples below the quantile)
    if ranks is None:  # no pair of order statistics reaches 95%: a tail alone is too likely
        assert cdf(0) > TAIL or cdf(n - 1) < 1 - TAIL
        return
    low, high = ranks
    assert 1 <= low < high <= n
    assert cdf(low - 1) <= TAIL + 1e-9 and cdf(high - 1) >= 1 - TAIL - 1e-9
    assert cdf(high - 1) - cdf(low - 1) >= 0.95 - 1e-9  # coverage of [x_(low), x_(high)]
    assert low == n or cdf(low) > TAIL - 1e-9  # one rank further in breaks the lower tail
    assert cdf(high - 2) < 1 - TAIL + 1e-9


def test_known_small_samples_and_the_normal_approximation_for_large_ones():
    assert quantile_ci_ranks(10, 0.5) == (2, 9)  # the textbook table (e.g. Conover) for the median
    assert quantile_ci_ranks(5, 0.5) is None  # 2 x 0.5^5 = 6% > 5%: no 95% interval from 5 samples
    assert quantile_ci_ranks(300, 0.99) is None and quantile_ci_ranks(400, 0.99) is not None
    n, q = 20000, 0.5
    low, high = quantile_ci_ranks(n, q)
    half = 1.96 * math.sqrt(n * q * (1 - q))
    assert abs(low - (n * q - half)) <= 2 and abs(high - (n * q + half + 1)) <= 2


def test_coverage_on_skewed_samples():
    """Over many samples of a skewed distribution with a known median (lognormal: 1.0), the interval holds it
    about 95% of the time (the exact level for n = 40 is 96.2%); seeded, so the count is the same every run."""
    rng = random.Random(7)
    trials, held = 1000, 0
    for _ in range(trials):
        s = sorted(rng.lognormvariate(0.0, 0.5) for _ in range(40))
        low, high = quantile_ci(s, 0.5)
        held += low <= 1.0 <= high
    assert 0.93 <= held / trials <= 0.99, held


def test_latency_stats_carry_the_intervals():
    rng = random.Random(3)
    samples = [rng.gauss(2e-3, 1e-4) for _ in range(500)]
    lat = latency_stats(samples)
    ms = sorted(v * 1e3 for v in samples)
    low, high = lat["median_ci"]
    assert low <= lat["median"] <= high and low in ms and high in ms  # order statistics, not interpolations
    p_low, p_high = lat["p99_ci"]
    assert p_low <= lat["p99"] <= p_high <= lat["max"]
    width = ci_half_width_pct(lat)
    assert width == pytest.approx(max(lat["median"] - low, high - lat["median"]) / lat["median"] * 100)
    few = latency_stats(samples[:100])
    assert "median_ci" in few and "p99_ci" not in few  # 100 samples bound a median, never a p99
    assert "median_ci" not in latency_stats(samples[:4]) and ci_half_width_pct(latency_stats(samples[:4])) is None


def test_student_t_quantiles_match_scipy():
    from scipy.stats import t

    from edgebench.results.stats import t_quantile
    for df in (2, 3, 4, 9, 19, 100):
        assert t_quantile(0.975, df) == pytest.approx(t.ppf(0.975, df), rel=0.01)


def _groups(rng: random.Random, k: int, m: int, between: float, within: float = 1.0) -> list[list[float]]:
    """k worker processes of m samples each: every process has its own offset (its moment on the machine)."""
    out = []
    for _ in range(k):
        offset = rng.gauss(0.0, between)
        out.append([offset + rng.gauss(0.0, within) for _ in range(m)])
    return out


def test_processes_that_disagree_widen_the_interval_and_agreeing_ones_do_not():
    rng = random.Random(11)
    agree = _groups(rng, 10, 200, between=0.0)
    pooled = sorted(v for g in agree for v in g)
    iid, clustered = quantile_ci(pooled, 0.5), quantile_ci(pooled, 0.5, groups=agree)
    assert clustered[0] <= iid[0] and clustered[1] >= iid[1]  # never narrower than the binomial interval
    assert clustered[1] - clustered[0] < 2 * (iid[1] - iid[0])
    apart = _groups(rng, 10, 200, between=1.0)
    pooled = sorted(v for g in apart for v in g)
    iid, clustered = quantile_ci(pooled, 0.5), quantile_ci(pooled, 0.5, groups=apart)
    assert clustered[1] - clustered[0] > 4 * (iid[1] - iid[0])
    assert quantile_ci(pooled, 0.5, groups=apart[:2]) == iid  # two processes cannot say how much processes vary


def test_coverage_when_processes_disagree():
    """Samples in processes whose offsets vary as much as the samples within one (symmetric, so the population median
    is 0): the binomial interval, which takes every sample as independent, misses most of the time; the interval
    that estimates the rank's spread from the processes holds about 95%."""
    rng = random.Random(5)
    trials, held_iid, held = 300, 0, 0
    for _ in range(trials):
        groups = _groups(rng, 10, 50, between=1.0)
        pooled = sorted(v for g in groups for v in g)
        low, high = quantile_ci(pooled, 0.5)
        held_iid += low <= 0.0 <= high
        low, high = quantile_ci(pooled, 0.5, groups=groups)
        held += low <= 0.0 <= high
    assert held_iid / trials < 0.6, held_iid
    assert 0.9 <= held / trials <= 0.99, held


def test_processes_at_two_speeds_bound_the_median_interval_by_their_own_medians():
    """Six processes, four at one speed and two 45% slower, each with a long tail (as a 2-vCPU VM measured them): the
    interval spans the processes' medians, neither the whole tail above them nor less than the binomial interval."""
    rng = random.Random(3)
    groups = []
    for speed in (1.5, 1.55, 1.6, 1.58, 2.2, 2.25):
        groups.append([speed * (1 + abs(rng.gauss(0.0, 0.05))) + (rng.random() < 0.1) * rng.uniform(1, 6)
                       for _ in range(230)])
    pooled = sorted(v for g in groups for v in g)
    medians = sorted(sorted(g)[len(g) // 2] for g in groups)
    low, high = quantile_ci(pooled, 0.5, groups=groups)
    iid = quantile_ci(pooled, 0.5)
    assert low <= iid[0] and high >= iid[1]
    assert medians[0] - 0.01 <= low <= medians[1] and medians[-2] <= high <= medians[-1] + 0.01, (low, high, medians)
    assert quantile_ci(pooled, 0.5, groups=groups[:5])[1] > medians[-1]  # five processes: no such bound, the rank CI
