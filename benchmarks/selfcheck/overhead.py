"""Self-benchmark: is the suite's median the runtime's own speed? And how long do --fast and default runs take?

For each runtime, compares the 1-thread median that `bench run` records with a bare loop of `invoke()` calls
timed one by one in a single fresh process on the same model file and input. Run on demand:

    python benchmarks/selfcheck/overhead.py [MODEL] [--modes fast,default] [--bare-values 3000]

It prints one line per (mode, runtime) and the wall time of each `bench run`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bare_loop(runtime: str, model: str, inputs_npz: str, settings_json: str, values: int, warmups: int = 50) -> float:
    """Median ms of single invoke() calls in this process (the same Session wrapper the workers use)."""
    from edgebench.benchmarks.isolation.npzio import read_arrays
    from edgebench.benchmarks.measure.runtimes import open_runtime
    inputs = read_arrays(inputs_npz)
    session = open_runtime(runtime, model, 1, json.loads(settings_json))
    session.prepare(inputs)
    invoke, clock = session.invoke, time.perf_counter
    for _ in range(warmups):
        invoke()
    samples = []
    for _ in range(values):
        t0 = clock()
        invoke()
        samples.append(clock() - t0)
    return statistics.median(samples) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("--modes", default="fast,default")
    ap.add_argument("--bare-values", type=int, default=3000)
    ap.add_argument("--bare", nargs=4, metavar=("RUNTIME", "MODEL", "INPUTS", "SETTINGS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare:
        print(json.dumps({"median_ms": bare_loop(*args.bare, values=args.bare_values)}))
        return

    bench = [str(Path(sys.executable).with_name("bench"))]
    for mode in args.modes.split(","):
        out = Path(tempfile.mkdtemp(prefix=f"selfcheck-{mode}-")) / "run"
        cmd = [*bench, "run", *([args.model] if args.model else []), "--threads", "1", "--out", str(out)]
        if mode != "default":
            cmd.append(f"--{mode}")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            sys.exit(f"bench run failed: {proc.stderr.strip().splitlines()[-1:]}")
        doc = json.loads((out / "results.json").read_text())
        print(f"[{mode}] bench run wall time {wall:.1f} s ({len(doc['results'])} benchmarks, 1 thread)")
        for rec in doc["results"]:
            if rec["status"] != "ok" or rec["threads"] != 1 or rec.get("batch", 1) != 1:
                continue
            inputs = out / "work" / f"{rec['variant']}.b1.inputs.npz"
            bare = subprocess.run([sys.executable, __file__, "--bare", rec["runtime"], rec["artifact"]["path"],
                                   str(inputs), json.dumps(rec["runtime_settings"]),
                                   "--bare-values", str(args.bare_values)],
                                  capture_output=True, text=True, check=True)
            bare_ms = json.loads(bare.stdout.strip().splitlines()[-1])["median_ms"]
            suite_ms = rec["latency_ms"]["median"]
            diff = (suite_ms / bare_ms - 1) * 100
            variant = rec["variant"] + (f" [{rec['settings_label']}]" if rec.get("settings_label") else "")
            print(f"[{mode}] {rec['runtime']:<12} {variant:<24} suite median {suite_ms:.4f} ms "
                  f"(n={rec['latency_ms']['n']})  bare loop {bare_ms:.4f} ms  difference {diff:+.1f}%")


if __name__ == "__main__":
    main()
