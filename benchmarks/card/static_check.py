"""The static check of one model against one onnxruntime's shipped registry: IR version, opsets, kernels.

Kernel matching follows onnxruntime's KernelRegistry: a kernel registered for versions [start, end] serves a node
whose schema since-version equals start, or lies in (start, end] when end is bounded; every type constraint the
kernel lists must admit the node's type. A node without a kernel still loads when the release resolves it before the
lookup: `Constant` becomes an initializer, a function body is expanded. Which (op, version) a release resolves was
probed in that release (resolved_probes, "resolved_before_kernels" in the data); without probe data a function body
counts. Graph optimizations that fuse nodes before the lookup are not modelled: a load test is the final word, and
the card says which rows had one. Every problem carries its evidence: where the fact comes from.
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
    evidence: str | None = None  # what the verdict rests on (registry listing, probe model, ...), one line

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


def _resolved(node: NodeFacts, registry: dict[str, Any]) -> bool | None:
    """True: the release resolves this node before the kernel lookup (probed); False: a probe showed no kernel;
    None: not probed (a function body or graph.cc's Constant rule decides)."""
    from edgebench.benchmarks.card.resolved_probes import RESOLVED_BY_GRAPH

    probed = registry.get("resolved_before_kernels")
    if node.since is not None and probed:
        if node.since in probed["resolved"].get(node.domain, {}).get(node.op, []):
            return True
        if node.since in probed["no_kernel"].get(node.domain, {}).get(node.op, []):
            return False
    return True if (node.domain, node.op) in RESOLVED_BY_GRAPH or node.function else None


def _listing(registry: dict[str, Any]) -> str:
    v = registry.get("ort_version", "?")
    if registry.get("kernels_from"):
        return (f"onnxruntime {v} lists no kernels: {registry['kernels_from']}'s get_all_opkernel_def(), each type "
                f"probed in {v}")
    return f"onnxruntime {v}'s own get_all_opkernel_def() (CPU)"


def _no_kernel(node: NodeFacts, registry: dict[str, Any], text: str) -> Problem | None:
    resolved = _resolved(node, registry)
    if resolved:
        return None
    v = registry.get("ort_version", "?")
    evidence = (f"a single-node {node.op}-{node.since} probe model failed in the real onnxruntime {v} ('Could not "
                f"find an implementation')" if resolved is False else
                f"{_listing(registry)} has none; {node.op} has no function body and is not resolved by the graph")
    return Problem("kernel", text, node.op, node.domain, evidence)


def _check_node(node: NodeFacts, registry: dict[str, Any], opset: int | None) -> Problem | None:
    rows: list[list[Any]] | None = registry.get("kernels", {}).get(node.domain, {}).get(node.op)
    where = f"{node.op} ({node.domain}, opset {opset})"
    if not rows:
        return _no_kernel(node, registry, f"no CPU kernel for {where}")
    # without an onnx schema (contrib ops), the domain's opset stands in for the since-version
    since = node.since if node.since is not None else (opset or 1)
    serving = [r for r in rows if _kernel_serves(r, since)]
    if not serving:
        have = ", ".join(dict.fromkeys(f"{r[0]}-{r[1] or ''}" for r in rows))
        return _no_kernel(node, registry, f"no CPU kernel for {node.op} version {since} (this runtime has versions "
                          f"{have})")
    for r in serving:
        cons: dict[str, list[str]] = r[2]
        if all(name not in node.types or node.types[name] in allowed for name, allowed in cons.items()):
            return None
    got = ", ".join(f"{k}={v}" for k, v in sorted(node.types.items()))
    return Problem("type", f"no CPU kernel for {node.op} version {since} with {got}", node.op, node.domain,
                   f"{_listing(registry)}: the {node.op}-{since} kernels admit other types")


def check(facts: ModelFacts, registry: dict[str, Any]) -> StaticResult:
    res = StaticResult(ok=True)
    ver = f"the real onnxruntime {registry.get('ort_version', '?')}"
    max_ir = registry.get("max_ir_version")
    if max_ir is not None and facts.ir_version > max_ir:
        res.problems.append(Problem("ir", f"Unsupported model IR version: {facts.ir_version}, max supported IR "
                                    f"version: {max_ir}", evidence=f"{ver}: {registry.get('max_ir_error') or 'probe'}"
                                    f" (an Identity probe model at IR {max_ir + 1})"))
    limits: dict[str, int] = registry.get("max_opset", {})
    too_new: set[str] = set()
    kernels: dict[str, dict[str, list[list[Any]]]] = registry.get("kernels", {})
    for domain, version in sorted(facts.opsets.items()):
        if domain not in limits and domain not in kernels:
            used = any(n.domain == domain for n in facts.nodes)
            if used:
                res.problems.append(Problem("domain", f"custom domain {domain!r}: needs a custom-op library "
                                            "registered with the session (ML.NET >= 4.0.1)", domain=domain,
                                            evidence=f"{_listing(registry)} has no kernel in {domain}"))
        elif domain in limits and version > limits[domain]:
            if domain != "ai.onnx" and not any(n.domain == domain for n in facts.nodes):
                res.problems.append(Problem("unused-opset", f"imports {domain} opset {version} (no node uses it), "
                                            f"newer than this runtime's {limits[domain]}", domain=domain,
                                            evidence=f"{ver}'s get_all_operator_schema()"))
                continue
            how = (f"{registry.get('max_opset_error') or 'refused'} (an Identity probe model at opset "
                   f"{limits[domain] + 1})" if domain == "ai.onnx" else "get_all_operator_schema()")
            res.problems.append(Problem("opset", f"{domain} opset {version} is newer than this runtime's "
                                        f"{limits[domain]}", domain=domain, evidence=f"{ver}: {how}"[:300]))
            too_new.add(domain)
    nchwc = [n.op for n in facts.nodes if n.domain == NCHWC]
    if nchwc:
        res.problems.append(Problem("portable", f"{NCHWC} ops ({', '.join(sorted(set(nchwc)))}: onnxruntime's "
                                    "offline optimization for this CPU's vector width) run only on a CPU like the "
                                    "one that wrote them", domain=NCHWC,
                                    evidence="onnxruntime registers NCHWc kernels only for the CPU's vector width"))
    for node in facts.nodes:
        if node.domain == NCHWC:
            continue
        if node.domain in too_new or (node.domain not in kernels and node.domain not in limits):
            continue  # the runtime refuses the model before any kernel lookup; a custom domain is reported above
        res.kernels_checked += 1
        problem = _check_node(node, registry, facts.opsets.get(node.domain))
        if problem:
            res.problems.append(problem)
    if too_new:
        res.notes.append(f"kernels of {', '.join(sorted(too_new))} not checked: the runtime refuses the opset first")
    if facts.inference_error:
        res.notes.append(f"shape inference failed ({facts.inference_error}): kernel types were not checked")
    res.ok = not res.problems
    return res
