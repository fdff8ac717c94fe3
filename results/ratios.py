"""Ratios between two records and how sure they are, at the level of what varies independently: worker processes.

Samples of one worker process share its moment on the machine, so a test that counts every sample as independent
calls back-to-back runs of unchanged code "significantly" different (seen: p = 1.9e-17 for a 1.2x that was the VM's
speed, not the code's). Here the unit is the process: `bench compare` tests the two records' process medians, and a
paired measurement takes the ratio within each round (one process of each record, interleaved) and its interval
from the rounds (the sign test's order statistics: distribution-free, as the medians' own intervals are).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edgebench.results.stats import CONFIDENCE, quantile_ci_ranks


@dataclass(frozen=True)
class ProcessShift:
    """B against A from their process medians: the ratio of the medians of process medians, Welch's two-sided
    p-value on the logs of the process medians (slowdowns are multiplicative), and its 95% interval of the ratio."""

    ratio: float
    p_value: float | None
    ci: tuple[float, float] | None


def process_shift(a_medians: Sequence[float], b_medians: Sequence[float],
                  confidence: float = CONFIDENCE) -> ProcessShift | None:
    """None unless both sides have two or more positive process medians (one process says nothing of the spread)."""
    la = [math.log(v) for v in a_medians if v > 0]
    lb = [math.log(v) for v in b_medians if v > 0]
    if len(la) < 2 or len(lb) < 2:
        return None
    ratio = statistics.median(b_medians) / statistics.median(a_medians)
    va, vb = statistics.variance(la) / len(la), statistics.variance(lb) / len(lb)
    diff = statistics.fmean(lb) - statistics.fmean(la)
    if va + vb == 0:
        return ProcessShift(ratio, None if diff == 0 else 0.0, (math.exp(diff), math.exp(diff)))
    # Welch-Satterthwaite degrees of freedom; scipy for the t distribution (imported here: reports load lazily)
    df = (va + vb) ** 2 / (va**2 / (len(la) - 1) + vb**2 / (len(lb) - 1))
    from scipy.stats import t as student_t
    se = math.sqrt(va + vb)
    p = float(2 * student_t.sf(abs(diff) / se, df))
    half = float(student_t.ppf(1 - (1 - confidence) / 2, df)) * se
    return ProcessShift(ratio, p, (math.exp(diff - half), math.exp(diff + half)))


@dataclass(frozen=True)
class RoundRatio:
    """The median of per-round ratios and its interval from the sign test (None with fewer than 6 rounds)."""

    ratio: float
    ci: tuple[float, float] | None
    rounds: int


def round_ratio(ratios: Sequence[float], confidence: float = CONFIDENCE) -> RoundRatio | None:
    """The median of the per-round ratios, with the order statistics that bound it at `confidence` (sign test)."""
    values = sorted(r for r in ratios if r > 0 and math.isfinite(r))
    if not values:
        return None
    ranks = quantile_ci_ranks(len(values), 0.5, confidence)
    ci = (values[ranks[0] - 1], values[ranks[1] - 1]) if ranks else None
    return RoundRatio(statistics.median(values), ci, len(values))


def drift(medians_in_order: Sequence[float]) -> float | None:
    """How much the machine's speed changed during a sequence of process medians (in the order they were taken):
    the ratio of the later half's median to the earlier half's, or None with fewer than 4."""
    if len(medians_in_order) < 4:
        return None
    half = len(medians_in_order) // 2
    early, late = statistics.median(medians_in_order[:half]), statistics.median(medians_in_order[-half:])
    return late / early if early > 0 else None


def drift_of_rounds(per_record: Sequence[Sequence[float]]) -> float | None:
    """How the machine's speed changed over interleaved rounds: each record's per-round medians over its own median,
    the median of those per round (what every record shares: the machine), then `drift` of that sequence."""
    rounds = min((len(m) for m in per_record), default=0)
    if rounds < 4:
        return None
    scaled = []
    for medians in per_record:
        good = [v for v in medians if v > 0 and math.isfinite(v)]
        mid = statistics.median(good) if good else 0.0
        scaled.append([v / mid if mid > 0 and v > 0 and math.isfinite(v) else math.nan for v in medians[:rounds]])
    index = []
    for i in range(rounds):
        values = [s[i] for s in scaled if math.isfinite(s[i])]
        if values:
            index.append(statistics.median(values))
    return drift(index)


def paired_ratio(comparisons: Sequence[Any], a: Mapping[str, Any], b: Mapping[str, Any]) -> RoundRatio | None:
    """The stored paired comparison of record `a` with record `b` (results.json `paired.comparisons`) as b's median
    over a's: above 1, `a` is faster. None when the two were not measured in interleaved rounds."""
    names = (a.get("benchmark"), b.get("benchmark"))
    for c in comparisons:
        if not isinstance(c, dict) or not isinstance(c.get("ratio"), (int, float)) or c["ratio"] <= 0:
            continue
        ci = c.get("ci") if isinstance(c.get("ci"), list) and len(c["ci"]) == 2 else None
        rounds = int(c.get("rounds") or 0)
        if (c.get("a"), c.get("b")) == names:
            return RoundRatio(float(c["ratio"]), (float(ci[0]), float(ci[1])) if ci else None, rounds)
        if (c.get("b"), c.get("a")) == names:
            return RoundRatio(1 / float(c["ratio"]), (1 / float(ci[1]), 1 / float(ci[0])) if ci else None, rounds)
    return None


def sustained_change(medians_in_order: Sequence[float], window: int = 3) -> float | None:
    """The largest change of speed that lasted: slowest over fastest of the medians of `window` consecutive
    process medians (one slow process is noise; several in a row are the machine). None with too few."""
    values = [v for v in medians_in_order if v > 0 and math.isfinite(v)]
    if len(values) < 2 * window:
        return None
    rolling = [statistics.median(values[i:i + window]) for i in range(len(values) - window + 1)]
    return max(rolling) / min(rolling)
