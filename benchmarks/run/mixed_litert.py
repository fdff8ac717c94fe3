"""LiteRT's mixed-precision search: rank the full-int8 layers with TFLite's QuantizationDebugger, keep the first k
in float (denylisted_nodes), each candidate built in the converter child (TensorFlow lives only there).

The candidates are full-integer int8 with float32 I/O built by the debugger's converter: the layers not kept in
float are quantized exactly as tflite-int8 quantizes them (same representative data), the kept ones run in float.
"""
from __future__ import annotations

import time
from typing import Any

from edgebench.benchmarks.run.context import BuiltVariant, RunContext
from edgebench.benchmarks.run.mixed_names import MIXED_LITERT
from edgebench.benchmarks.run.mixed_search import Step
from edgebench.benchmarks.run.mixed_steps import check_candidate, finish, run_search


def search_litert(ctx: RunContext, base: BuiltVariant, reference: list[Any], converter: Any) -> BuiltVariant | None:
    t0 = time.monotonic()
    names = [s["name"] for s in ctx.io_specs]
    args = (ctx.source, ctx.opts.profile, ctx.data, names, ctx.writer.work)
    ranked = converter.litert_mixed(None, *args)["layers"]
    order = [layer["node"] for layer in ranked]

    def attempt(k: int) -> Step:
        reply = converter.litert_mixed(order[:k], *args)
        _, step = check_candidate(ctx, reference, f"{MIXED_LITERT}-k{k}", "litert", reply["artifact"],
                                  reply["lineage"])
        step.layers = order[:k]
        return step

    result, budget_s, setup_s = run_search(ctx, f"mixed-precision search (LiteRT, from {base.name}): {len(order)} ranked layer(s)", len(order), attempt, t0)
    info = {"runtime": "litert", "from": base.name, "sensitivity": "tf.lite.experimental.QuantizationDebugger "
            "(SQNR of each op's int8 output against the op run in float on the same inputs)",
            "ranked_layers": len(order), "ranking": ranked[:20], "setup_s": setup_s}
    return finish(ctx, "litert", MIXED_LITERT, result, info, budget_s)
