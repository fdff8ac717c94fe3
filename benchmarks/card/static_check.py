"""The static check of one model against one onnxruntime's shipped registry: IR version, opsets, kernels.

Kernel matching follows onnxruntime's KernelRegistry: a kernel registered for versions [start, end] serves a node
whose schema since-version equals start, or lies in (start, end] when end is bounded; every type constraint the
kernel lists must admit the node's type. A node without a kernel still runs when its schema has a function body
(onnxruntime expands it). Graph optimizations that fuse nodes before the lookup are not modelled: a load test is
the final word, and the card says which rows had one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from edgebench.benchmarks.card.model_facts import ModelFacts, NodeFacts

NCHWC = "com.microsoft.nchwc"  # registered only on CPUs with AVX2/AVX-512 (block size 8/16): never portable


@dataclass
class Problem:
    kind: str  # "ir", "opset", "unused-opset", "domain", "kernel", "type", "portable"
    text: str  # what fails, one line, as a user would search it
    op: str | None = None
    domain: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class StaticResult:
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kernels_checked: int = 0


def _kernel_serves(row: list[Any], since: int) -> bool:
    start, end = row[0], row[1]
    return start == since or (start < since and end is not None and end >= since)


def _check_node(node: NodeFacts, rows: list[list[Any]] | None, opset: int | None) -> Problem | None:
    where = f"{node.op} ({node.domain}, opset {opset})"
    if not rows:
        if node.function:
            return None
        return Problem("kernel", f"no CPU kernel for {where}", node.op, node.domain)
    # without an onnx schema (contrib ops), the domain's opset stands in for the since-version
    since = node.since if node.since is not None else (opset or 1)
    serving = [r for r in rows if _kernel_serves(r, since)]
    if not serving:
        if node.function:
            return None
        have = ", ".join(dict.fromkeys(f"{r[0]}-{r[1] or ''}" for r in rows))
        return Problem("kernel", f"no CPU kernel for {node.op} version {since} (this runtime has versions {have})",
                       node.op, node.domain)
    for r in serving:
        cons: dict[str, list[str]] = r[2]
        if all(name not in node.types or node.types[name] in allowed for name, allowed in cons.items()):
            return None
    got = ", ".join(f"{k}={v}" for k, v in sorted(node.types.items()))
    return Problem("type", f"no CPU kernel for {node.op} version {since} with {got}", node.op, node.domain)


def check(facts: ModelFacts, registry: dict[str, Any]) -> StaticResult:
    res = StaticResult(ok=True)
    max_ir = registry.get("max_ir_version")
    if max_ir is not None and facts.ir_version > max_ir:
        res.problems.append(Problem("ir", f"Unsupported model IR version: {facts.ir_version}, max supported IR "
                                    f"version: {max_ir}"))
    limits: dict[str, int] = registry.get("max_opset", {})
    too_new: set[str] = set()
    kernels: dict[str, dict[str, list[list[Any]]]] = registry.get("kernels", {})
    for domain, version in sorted(facts.opsets.items()):
        if domain not in limits and domain not in kernels:
            used = any(n.domain == domain for n in facts.nodes)
            if used:
                res.problems.append(Problem("domain", f"custom domain {domain!r}: needs a custom-op library "
                                            "registered with the session (ML.NET >= 4.0.1)", domain=domain))
        elif domain in limits and version > limits[domain]:
            if domain != "ai.onnx" and not any(n.domain == domain for n in facts.nodes):
                res.problems.append(Problem("unused-opset", f"imports {domain} opset {version} (no node uses it), "
                                            f"newer than this runtime's {limits[domain]}", domain=domain))
                continue
            res.problems.append(Problem("opset", f"{domain} opset {version} is newer than this runtime's "
                                        f"{limits[domain]}", domain=domain))
            too_new.add(domain)
    nchwc = [n.op for n in facts.nodes if n.domain == NCHWC]
    if nchwc:
        res.problems.append(Problem("portable", f"{NCHWC} ops ({', '.join(sorted(set(nchwc)))}: onnxruntime's "
                                    "offline optimization for this CPU's vector width) run only on a CPU like the "
                                    "one that wrote them", domain=NCHWC))
    for node in facts.nodes:
        if node.domain == NCHWC:
            continue
        if node.domain in too_new or (node.domain not in kernels and node.domain not in limits):
            continue  # the runtime refuses the model before any kernel lookup; a custom domain is reported above
        res.kernels_checked += 1
        problem = _check_node(node, kernels.get(node.domain, {}).get(node.op), facts.opsets.get(node.domain))
        if problem:
            res.problems.append(problem)
    if too_new:
        res.notes.append(f"kernels of {', '.join(sorted(too_new))} not checked: the runtime refuses the opset first")
    if facts.inference_error:
        res.notes.append(f"shape inference failed ({facts.inference_error}): kernel types were not checked")
    res.ok = not res.problems
    return res
