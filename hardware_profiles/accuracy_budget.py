"""A profile's `[accuracy]` section: the bound of the figure each kind of output is judged by, and the kinds the
user states (`[accuracy.outputs]` NAME = KIND, or `bench run --output NAME=KIND`).

Defaults come from measurements (docs/notes/h27.md): exact conversions, fp16 and int8 of the default model and of
landmark/score stand-ins. `exact_tolerance` makes an exact conversion unable to break the budget whatever its kind's
figure says: an output whose max abs error is below that fraction of the reference's range (or magnitude) is within.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("class-scores", "score", "regression", "landmarks", "embedding", "mask")
# key -> (lowest allowed, highest allowed, default, higher is better)
_BOUNDS: dict[str, tuple[float, float, float, bool]] = {
    "min_top1_agreement": (0.0, 1.0, 0.99, True),     # class-scores (with min_cosine, as before)
    "min_cosine": (0.0, 1.0, 0.99, True),             # embedding; class-scores
    "min_score_agreement": (0.0, 1.0, 0.99, True),    # score: the decision at its threshold
    "max_mean_rel_error": (0.0, 1.0, 0.02, False),    # regression, landmarks: mean abs error / reference range
    "min_mask_iou": (0.0, 1.0, 0.95, True),           # mask
    "exact_tolerance": (0.0, 0.01, 1e-4, False),      # below this max abs error / range an output is exact
}
_OTHER_KEYS = ("outputs",)


@dataclass(frozen=True)
class AccuracyBudget:
    min_top1_agreement: float = 0.99
    min_cosine: float = 0.99
    min_score_agreement: float = 0.99
    max_mean_rel_error: float = 0.02
    min_mask_iou: float = 0.95
    exact_tolerance: float = 1e-4
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> kind, as the user stated

    def bound(self, metric: str) -> tuple[float, bool] | None:
        """(bound, higher is better) of a per-output figure, None when no bound applies to it."""
        key = {"top1_agreement": "min_top1_agreement", "cosine": "min_cosine",
               "score_agreement": "min_score_agreement", "mean_rel_error": "max_mean_rel_error",
               "mask_iou": "min_mask_iou"}.get(metric)
        return (float(getattr(self, key)), _BOUNDS[key][3]) if key else None

    def with_outputs(self, stated: dict[str, str]) -> AccuracyBudget:
        """This budget with more stated kinds (the command line's win over the profile's)."""
        from dataclasses import replace
        return replace(self, outputs={**self.outputs, **stated})


def check_kind(name: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"output {name!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    return kind


def parse_output_kinds(items: list[str]) -> dict[str, str]:
    """NAME=KIND strings (bench run --output) into a mapping; ValueError (one line) on a malformed one."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, kind = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--output {item!r}: expected NAME=KIND (kinds: {', '.join(KINDS)})")
        out[name.strip()] = check_kind(name.strip(), kind.strip())
    return out


def budget_from_table(acc: dict[str, Any]) -> AccuracyBudget:
    """The `[accuracy]` table; ValueError naming the first bad key."""
    unknown = sorted(set(acc) - set(_BOUNDS) - set(_OTHER_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} in [accuracy] (known: "
                         f"{', '.join([*_BOUNDS, *_OTHER_KEYS])})")
    values: dict[str, Any] = {}
    for key, (low, high, default, _) in _BOUNDS.items():
        v = acc.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            raise ValueError(f"accuracy.{key} must be a number between {low:g} and {high:g}")
        values[key] = float(v)
    outputs = acc.get("outputs", {})
    if not isinstance(outputs, dict) or not all(isinstance(v, str) for v in outputs.values()):
        raise ValueError("[accuracy.outputs] must map output names to kinds, e.g. Identity_1 = \"score\"")
    values["outputs"] = {str(k): check_kind(str(k), v) for k, v in outputs.items()}
    return AccuracyBudget(**values)
