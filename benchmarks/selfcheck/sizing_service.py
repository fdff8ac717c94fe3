"""Where the single-instance prediction's service times come from: closed loop vs open-loop load (issue 30).

    python benchmarks/selfcheck/sizing_service.py RUN_DIR [--variant tflite-fp32] [--layouts 1x1,2x1]

Per layout: the closed-loop service time (round trip and the instance's own inference) with k busy, then open-loop
Poisson points at 30%, 50% and 80% of the closed-loop throughput recording every query's service time; the p99
measured at each point against the simulation over the closed-loop samples and over the 50% point's samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from edgebench.benchmarks.size.candidates import pick_candidates
from edgebench.benchmarks.size.closed_loop import interference_curve
from edgebench.benchmarks.size.layouts import parse_layouts, usable_cpus
from edgebench.benchmarks.size.open_loop import run_point
from edgebench.benchmarks.size.pool import InstancePool
from edgebench.benchmarks.size.queue_sim import ServiceModel, percentile, simulate
from edgebench.benchmarks.size.service import by_busy, open_loop_samples
from edgebench.benchmarks.size.validity import Rules
from edgebench.results.contract import load_run


def _stats(a: np.ndarray) -> str:
    if a.size == 0:
        return "n=0"
    return (f"n={a.size} mean {a.mean():.3f} p50 {np.percentile(a, 50):.3f} p99 {np.percentile(a, 99):.3f} "
            f"max {a.max():.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--variant", default="tflite-fp32")
    ap.add_argument("--layouts", default="1x1,2x1")
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    cand = pick_candidates(load_run(args.run), Path(args.run) / "work", [args.variant])[0][0]
    rules = Rules(0.99, 1000.0, 662, 2.0)
    for layout in parse_layouts(args.layouts, cand.runtime, len(usable_cpus())):
        with InstancePool(cand, layout, usable_cpus(), 120, None) as pool:
            curve = interference_curve(pool, args.seconds, 30.0)
            top = curve[-1]["throughput_per_s"]
            print(f"== {cand.name} {layout.name}: closed-loop throughput {top:.0f}/s")
            for c in curve:
                print(f"  closed k={c['busy']}: round trip {_stats(np.array(c['service_ms']))}")
                print(f"  closed k={c['busy']}: inference  {_stats(np.array(c['inference_ms']))}")
            points = {u: run_point(pool, u * top, rules, 30.0, 60.0) for u in (0.5, 0.3, 0.8)}
        lay = {"instances": layout.instances, "interference": curve, "calibration": points[0.5]}
        closed = ServiceModel([np.array(c["service_ms"]) for c in curve])
        opened = ServiceModel(open_loop_samples(lay) or closed.samples)
        for u, p in sorted(points.items()):
            seen = by_busy(p["served"], layout.instances)
            inf = np.array(p["served"]["inference_ms"])
            print(f"  open {u:.0%} ({p['scheduled_rate']:.0f}/s, others {p['other_cpu_cores']} cores): "
                  f"inference {_stats(inf)}")
            for k, s in enumerate(seen, 1):
                print(f"    busy {k}: round trip {_stats(s)}")
            rate = p["scheduled_rate"]
            pc = percentile(simulate(rate, layout.instances, closed, 20_000), 99)
            po = percentile(simulate(rate, layout.instances, opened, 20_000), 99)
            print(f"    p99 measured {p['percentile_ms']:.3f} ms; predicted from closed loop {pc:.3f} "
                  f"({(pc / p['percentile_ms'] - 1):+.1%}), from the 50% point's service times {po:.3f} "
                  f"({(po / p['percentile_ms'] - 1):+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
