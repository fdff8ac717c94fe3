"""Host vs target: a variant's accuracy on the target's kernels, and how far its outputs are from the host's.

Pure numpy on outputs already computed; the budget of a record is judged on the target's figures when it has them
(the worst CPU model counts), since that is where the model will run.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgebench.benchmarks.measure.accuracy import budget_violations, compare_outputs
from edgebench.hardware_profiles.accuracy_budget import AccuracyBudget


def kernels_label(qemu_cpu: str, arch: str = "aarch64") -> str:
    return f"emulated {arch}, QEMU_CPU={qemu_cpu}"


def parity_entry(qemu_cpu: str, reference: list[np.ndarray] | None, host: list[np.ndarray],
                 target: list[np.ndarray], labels: np.ndarray | None) -> dict[str, Any]:
    """One TargetAccuracy (results.record): target vs reference, and target vs host, on the same samples."""
    n = len(target[0])
    entry: dict[str, Any] = {"qemu_cpu": qemu_cpu, "kernels": kernels_label(qemu_cpu), "samples": n}
    if reference is not None:  # both on the same first n samples, so that they compare
        ref, lab = [r[:n] for r in reference], labels[:n] if labels is not None else None
        entry["accuracy"] = compare_outputs(ref, target, lab)
        entry["host_accuracy"] = compare_outputs(ref, [h[:n] for h in host], lab)
    diff = compare_outputs([h[:n] for h in host], target)
    exact = all(np.array_equal(h[:n].reshape(t.shape), t) for h, t in zip(host, target))
    vs_host: dict[str, Any] = {"max_abs_diff": diff["max_abs_error"], "cosine": diff["cosine"],
                               "cosine_min": diff["cosine_min"], "samples": n, "bit_exact": exact}
    if "top1_agreement" in diff:
        vs_host["top1_agreement"] = diff["top1_agreement"]
    entry["vs_host"] = vs_host
    return entry


def target_budget(host_budget: dict[str, Any] | None, entries: list[dict[str, Any]] | None,
                  budget: AccuracyBudget | float, min_cosine: float | None = None) -> dict[str, Any] | None:
    """The accuracy budget judged on the target's figures too (every CPU model must pass), None when none were made.

    The host's violations stay: the target's figures come from a few samples, and a sample too small to show a
    rare top-1 flip must not clear a variant that failed on all of them.
    """
    judged = [e for e in entries or [] if isinstance(e.get("accuracy"), dict) and "error" not in e["accuracy"]]
    if not judged:
        return None
    violations = [f"host: {v}" for v in (host_budget or {}).get("violations", [])]
    for e in judged:
        violations += [f"{e['qemu_cpu']}: {v}" for v in budget_violations(e["accuracy"], budget, min_cosine)]
    cpus = ", ".join(e["qemu_cpu"] for e in judged)
    samples = min(int(e.get("samples", 0)) for e in judged)
    return {"ok": not violations, "violations": violations,
            "judged_on": f"host kernels and target kernels (emulated aarch64, QEMU_CPU={cpus}; {samples} samples)"}


def cross_cpu(first_cpu: str, first: list[np.ndarray], other: list[np.ndarray]) -> dict[str, Any]:
    """How a CPU model's outputs differ from the first CPU model's (kernels with and without dotprod, say)."""
    diff = max(float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) for a, b in zip(first, other))
    return {"qemu_cpu": first_cpu, "max_abs_diff": diff,
            "bit_exact": all(np.array_equal(a, b) for a, b in zip(first, other))}
