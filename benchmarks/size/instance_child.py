"""One serving instance of a sizing layout: a separate process that loads one model on one runtime with an explicit
thread count, pinned to its own cores, and answers requests one at a time.

Run as `python -m edgebench.benchmarks.size.instance_child ...` by edgebench.benchmarks.size.pool. Protocol, binary
so that a query costs two small pipe writes: the parent writes 8-byte request tags on stdin; for each, the instance
runs one inference and writes the tag and the inference's own duration (little-endian uint64 + float64) to the
protocol stream, which is the stdout it was started with. fd 1 is pointed at stderr first, so nothing a runtime
prints can corrupt the protocol. The first message (tag READY) carries the load time. EOF on stdin ends it.

Requests of the closed-loop interference measurement carry the CALIBRATION bit in their tag. Fault injection
(tests): EDGEBENCH_FAULT=serve:crash (or hang, abort, oom, error) fires at the FAULT_AFTER-th open-loop query, in
the middle of a load point.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import time

REQUEST = struct.Struct("<Q")
REPLY = struct.Struct("<Qd")
READY = 2**64 - 1
CALIBRATION = 1 << 63
FAULT_AFTER = 100
WARMUP = 5


def _read_exact(fd: int, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--runtime", required=True, choices=("litert", "onnxruntime"))
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--cpus", default="", help="comma-separated CPUs to pin to (empty: not pinned)")
    ap.add_argument("--settings", default="{}", help="runtime settings as JSON")
    ap.add_argument("--inputs", required=True, help=".npz with one batch of inputs, arr_0..arr_N in model order")
    ap.add_argument("--variant", default="")
    return ap.parse_args()


def main() -> None:
    args = _args()
    if args.cpus:  # before the runtime starts its threads: they inherit the mask
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    proto = os.dup(1)
    os.dup2(2, 1)
    from edgebench.benchmarks.isolation import faults
    from edgebench.benchmarks.isolation.npzio import read_arrays
    from edgebench.benchmarks.measure.runtimes import open_runtime

    t0 = time.perf_counter()
    session = open_runtime(args.runtime, args.model, args.threads, json.loads(args.settings))
    session.prepare(read_arrays(args.inputs))
    for _ in range(WARMUP):
        session.invoke()
    os.write(proto, REPLY.pack(READY, time.perf_counter() - t0))
    invoke, clock, served = session.invoke, time.perf_counter, 0
    context = [args.runtime, args.variant, f"t{args.threads}"]
    while True:
        msg = _read_exact(0, REQUEST.size)
        if not msg:
            return
        tag = REQUEST.unpack(msg)[0]
        if not tag & CALIBRATION:
            served += 1
            if served == FAULT_AFTER:
                faults.inject("serve", context)
        t = clock()
        invoke()
        os.write(proto, REPLY.pack(tag, clock() - t))


if __name__ == "__main__":
    from edgebench.benchmarks.isolation.childguard import run_guarded
    run_guarded(main)
