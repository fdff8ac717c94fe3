"""Self-benchmark: is the suite's median each runtime's own speed, at every thread count of the profile?

For each runtime and each thread count, compares the fp32 median that `bench run` records with a bare loop of
inferences timed one by one in a fresh process that uses the runtime the way its users do: ONNX Runtime with only
`intra_op_num_threads` set (its own defaults for everything else, intra-op spinning included) and LiteRT with only
`num_threads` (XNNPACK, its default). The verdict is paired: fresh suite worker processes (the
suite's own pyperf worker, settings and threads) and bare-loop processes are taken in turn, ABBA, and their medians
compared; more than 5% apart fails the check: a handicapped runtime is a wrong result. (A shared machine's speed
drifts within seconds, so the run's record against a bare loop taken later is printed too, as context only.) Run on demand:

    python benchmarks/selfcheck/overhead.py [MODEL] [--modes default,fast] [--profile x86_64] [--bare-values 3000]

It prints one line per (mode, runtime, threads) and the wall time of each `bench run`; exit 1 when a line fails.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgebench.results.selection import BASELINES

TOLERANCE = 0.05
FP32 = ",".join(BASELINES.values())


def _bare_session(runtime: str, model: str, threads: int) -> Callable[[list[Any]], object]:
    """A session exactly as a user of the runtime creates it: the thread count and nothing else."""
    if runtime == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        return lambda feed: sess.run(None, dict(zip(names, feed)))
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=model, num_threads=threads)
    interp.allocate_tensors()
    details = interp.get_input_details()

    def run(feed: list[Any]) -> None:
        for d, x in zip(details, feed):
            interp.set_tensor(d["index"], x.astype(d["dtype"], copy=False))
        interp.invoke()
    return run


def bare_loop(runtime: str, model: str, inputs_npz: str, threads: int, values: int, warmups: int = 50) -> float:
    """Median ms of single inferences in this process, the runtime at its own defaults."""
    from edgebench.benchmarks.isolation.npzio import read_arrays

    feed = read_arrays(inputs_npz)
    run, clock = _bare_session(runtime, model, threads), time.perf_counter
    for _ in range(warmups):
        run(feed)
    samples = []
    for _ in range(values):
        t0 = clock()
        run(feed)
        samples.append(clock() - t0)
    return statistics.median(samples) * 1e3


def _suite_round(rec: dict, inputs: Path, values: int, work: Path) -> float:
    """One pyperf worker process exactly as the suite runs it (same worker, settings, threads): its median ms."""
    from edgebench.benchmarks.measure.pyperf_timing import run_pyperf
    from edgebench.benchmarks.measure.sampling import Sampling

    sampling = Sampling(False, 1, 1, None, 0.0, warmups=5, nmin=values, nmax=values)  # the default mode's warmups
    fig, _ = run_pyperf(f"round/{rec['runtime']}/t{rec['threads']}", rec["runtime"], rec["artifact"]["path"],
                        rec["threads"], rec["runtime_settings"], inputs, work, sampling, 1e-3, 600.0)
    return float(fig["latency_ms"]["median"])


def _bare_round(rec: dict, inputs: Path, values: int) -> float:
    bare = subprocess.run([sys.executable, __file__, "--bare", rec["runtime"], rec["artifact"]["path"], str(inputs),
                           str(rec["threads"]), "--bare-values", str(values)], capture_output=True, text=True,
                          check=True)
    return float(json.loads(bare.stdout.strip().splitlines()[-1])["median_ms"])


def paired(rec: dict, inputs: Path, rounds: int, values: int) -> tuple[float, float, float]:
    """(suite ms, bare ms, suite/bare - 1) from fresh processes taken in turn, ABBA: a shared machine's speed
    drifts within seconds, so a suite median and a bare loop taken a minute apart differ by the drift, not by
    overhead; pairs taken side by side cancel it."""
    work = Path(tempfile.mkdtemp(prefix="selfcheck-rounds-"))
    suite, bare = [], []
    for r in range(rounds):
        order = ("suite", "bare") if r % 2 == 0 else ("bare", "suite")
        for who in order:
            if who == "suite":
                suite.append(_suite_round(rec, inputs, values, work))
            else:
                bare.append(_bare_round(rec, inputs, values))
    # the verdict: the median of each round's own ratio (a pair shares its moment of the machine)
    ratios = [x / y for x, y in zip(suite, bare)]
    return statistics.median(suite), statistics.median(bare), statistics.median(ratios) - 1


def _run_suite(args: argparse.Namespace, mode: str) -> tuple[Path, float]:
    out = Path(tempfile.mkdtemp(prefix=f"selfcheck-{mode}-")) / "run"
    cmd = [str(Path(sys.executable).with_name("bench")), "run", *([args.model] if args.model else []),
           "--variants", FP32, "--profile", args.profile, "--out", str(out), "--quiet"]
    if mode != "default":
        cmd.append(f"--{mode}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"bench run failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return out, time.perf_counter() - t0


def _check_mode(args: argparse.Namespace, mode: str) -> bool:
    out, wall = _run_suite(args, mode)
    doc = json.loads((out / "results.json").read_text())
    print(f"[{mode}] bench run wall time {wall:.1f} s ({len(doc['results'])} benchmarks, fp32 only)")
    ok = True
    for rec in doc["results"]:
        if rec["status"] != "ok" or rec.get("batch", 1) != 1 or rec.get("settings_label") not in (None, "arena-on"):
            continue
        inputs = out / "work" / f"{rec['variant']}.b1.inputs.npz"
        later = _bare_round(rec, inputs, args.bare_values)
        suite_ms, bare_ms, diff = paired(rec, inputs, args.rounds, args.round_values)
        verdict = "ok" if abs(diff) <= TOLERANCE else "FAIL"
        ok &= verdict == "ok"
        settings = json.dumps(rec["runtime_settings"], sort_keys=True)
        print(f"[{mode}] {rec['runtime']:<12} t{rec['threads']}  paired ({args.rounds} rounds, ABBA): suite "
              f"worker {suite_ms:.4f} ms, bare loop at runtime defaults {bare_ms:.4f} ms, median ratio {diff:+.1%}  {verdict}"
              f"   settings {settings}")
        print(f"{'':>24}the run's record {rec['latency_ms']['median']:.4f} ms (n={rec['latency_ms']['n']}) vs one "
              f"bare loop a minute later {later:.4f} ms ({rec['latency_ms']['median'] / later - 1:+.1%}: drift included)")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("--modes", default="default")
    ap.add_argument("--profile", default="x86_64")
    ap.add_argument("--bare-values", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=30, help="paired rounds of one suite worker and one bare loop")
    ap.add_argument("--round-values", type=int, default=200, help="timed inferences per process of a round")
    ap.add_argument("--bare", nargs=4, metavar=("RUNTIME", "MODEL", "INPUTS", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare:
        runtime, model, inputs, threads = args.bare
        print(json.dumps({"median_ms": bare_loop(runtime, model, inputs, int(threads), args.bare_values)}))
        return
    results = [_check_mode(args, mode) for mode in args.modes.split(",")]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
