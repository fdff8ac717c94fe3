"""One open-loop load point, driven by MLPerf LoadGen (the `mlcommons-loadgen` package) in its server scenario.

LoadGen schedules Poisson arrivals from a fixed seed in C++ and times every query from its *scheduled* issue time,
so a late issue or a full queue shows as latency (no coordinated omission). Our system under test is a FIFO queue
in front of the layout's instances (Dispatcher): a query goes to an idle instance at once, else waits its turn, and
each instance takes the oldest waiting query when it answers. The raw per-query latencies come from LoadGen's own
trace (mlperf_log_trace.json: each sample's completion time after its scheduled time); its own verdict is kept too.
"""
from __future__ import annotations

import collections
import json
import re
import resource
import select
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgebench.benchmarks.size.pool import InstanceFailed, InstancePool
from edgebench.benchmarks.size.service import (
    CALIBRATION_S,
    CALIBRATION_UTILISATION,
    machine_cpu,
    others_cores,
    served_record,
)
from edgebench.benchmarks.size.validity import Rules, judge

_SAMPLE = re.compile(r'"name":"Sample".*?"ph":"b".*?"ts":([\d.]+).*?"issue_start_ns":(\d+),"complete_ns":(\d+)')
_MLLOG = ":::MLLOG "
_LOADGEN_KEYS = ("result_validity", "result_scheduled_samples_per_sec", "result_completed_samples_per_sec",
                 "result_min_duration_met", "result_min_queries_met", "early_stopping_met",
                 "result_perf_constraints_met")


class Dispatcher:
    """FIFO queue + least-loaded dispatch over a pool; completes LoadGen's queries; stops cleanly on a failure."""

    def __init__(self, pool: InstancePool, hang_s: float, mark: int = 0) -> None:
        import mlperf_loadgen as lg

        # mark: bits OR-ed into every tag sent (CALIBRATION: the instance does not count it as served load)
        self.lg, self.pool, self.hang_s, self.mark = lg, pool, hang_s, mark
        self.lock = threading.Lock()
        self.idle = list(range(len(pool.procs)))
        self.waiting: collections.deque[int] = collections.deque()
        self.inflight: dict[int, tuple[int, float]] = {}
        self.busy_at: dict[int, int] = {}
        self.failure: str | None = None
        # per query as the instance served it: (round trip ms, the instance's own inference ms, instances busy
        # when it was sent, itself included): the service times of open-loop load, for the prediction
        self.served: list[tuple[float, float, int]] = []
        self.stop = threading.Event()
        self.readers = [threading.Thread(target=self._read, args=(i,), daemon=True) for i in self.idle]
        for t in self.readers:
            t.start()

    def issue(self, samples: list[Any]) -> None:
        done = []
        with self.lock:
            for s in samples:
                if self.failure is not None:
                    done.append(s.id)
                elif self.idle:
                    i = self.idle.pop()
                    self._send(i, s.id)
                else:
                    self.waiting.append(s.id)
        self._complete(done)

    def _send(self, i: int, tag: int) -> None:  # with the lock held
        self.inflight[i] = (tag, time.monotonic())
        self.busy_at[i] = len(self.inflight)
        try:
            self.pool.send(i, tag | self.mark)
        except InstanceFailed as exc:
            self._fail(str(exc))

    def _complete(self, tags: list[int]) -> None:
        if tags:
            self.lg.QuerySamplesComplete([self.lg.QuerySampleResponse(t, 0, 0) for t in tags])

    def _fail(self, reason: str) -> None:
        """With the lock held: every query still here is answered at once (from another thread: LoadGen must never
        be called back while we hold a lock its issuing thread may be waiting for), and every later one on arrival."""
        if self.failure is None:
            self.failure = reason
        tags = [t for t, _ in self.inflight.values()] + list(self.waiting)
        self.inflight.clear()
        self.waiting.clear()
        threading.Thread(target=self._complete, args=(tags,), daemon=True).start()

    def abort(self, reason: str) -> None:
        with self.lock:
            self._fail(reason)

    def _read(self, i: int) -> None:
        try:
            self._read_replies(i)
        except (OSError, ValueError, EOFError) as exc:  # the pool was closed under us (Ctrl-C): no thread traceback
            self.abort(f"instance {i} stopped: {type(exc).__name__}")

    def _read_replies(self, i: int) -> None:
        fd = self.pool.fd(i)
        while not self.stop.is_set():
            if not select.select([fd], [], [], 0.1)[0]:
                with self.lock:
                    started = self.inflight.get(i)
                    if started and time.monotonic() - started[1] > self.hang_s and self.failure is None:
                        self.pool.kill(i)
                        self._fail(self.pool.failure(i, hung=self.hang_s))
                continue
            try:
                tag, inference_s = self.pool.recv(i)
            except InstanceFailed as exc:
                self.abort(str(exc))
                return
            tag &= ~self.mark
            done = time.monotonic()
            self._complete([tag])
            with self.lock:
                sent = self.inflight.pop(i, None)
                if sent is not None:
                    self.served.append(((done - sent[1]) * 1e3, inference_s * 1e3, self.busy_at.get(i, 1)))
                if self.failure is None and self.waiting:
                    self._send(i, self.waiting.popleft())
                elif self.failure is None:
                    self.idle.append(i)

    def close(self) -> None:
        self.stop.set()
        for t in self.readers:
            t.join(timeout=2)


def _settings(lg: Any, rate: float, rules: Rules, max_s: float) -> Any:
    ts = lg.TestSettings()
    ts.scenario = lg.TestScenario.Server
    ts.mode = lg.TestMode.PerformanceOnly
    ts.server_target_qps = float(rate)
    ts.server_target_latency_ns = int(rules.bound_ms * 1e6)
    ts.server_target_latency_percentile = rules.percentile
    ts.min_duration_ms = int(rules.min_duration_s * 1e3)
    ts.min_query_count = rules.min_queries
    ts.max_duration_ms = int(max_s * 1e3)
    return ts


def read_trace(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scheduled s, issued s, latency ms from the scheduled time) of every query, from LoadGen's trace. The file is
    not strict JSON (LoadGen leaves some keys double-quoted), so its sample lines are read one by one."""
    rows = [(float(m.group(1)) * 1e-6, int(m.group(2)) * 1e-9, int(m.group(3)) * 1e-6)
            for m in map(_SAMPLE.search, path.read_text(errors="replace").splitlines()) if m]
    a = np.array(rows, dtype=float).reshape(-1, 3)
    order = np.argsort(a[:, 0])
    return a[order, 0], a[order, 0] + a[order, 1], a[order, 2]


def read_verdict(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for line in path.read_text(errors="replace").splitlines():
        if _MLLOG in line:
            try:
                d = json.loads(line.split(_MLLOG, 1)[1])
            except ValueError:
                continue
            if d.get("key") in _LOADGEN_KEYS:
                out[d["key"]] = d.get("value")
    return out


def _drive(lg: Any, disp: Dispatcher, settings: Any, outdir: str) -> None:
    """Run LoadGen in a thread, so that Ctrl-C reaches this one at once; on Ctrl-C every query is answered at once
    and the instances are stopped, so LoadGen's schedule ends within its own duration."""
    sut = lg.ConstructSUT(disp.issue, lambda: None)
    qsl = lg.ConstructQSL(1024, 1024, lambda samples: None, lambda samples: None)
    log = lg.LogSettings()
    log.log_output.outdir = outdir
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = True
    runner = threading.Thread(target=lg.StartTestWithLogSettings, args=(sut, qsl, settings, log), daemon=True)
    runner.start()
    try:
        while runner.is_alive():
            runner.join(0.2)
    except KeyboardInterrupt:
        disp.abort("interrupted (Ctrl-C)")
        for i in range(len(disp.pool.procs)):
            disp.pool.kill(i)
        runner.join()
        raise
    finally:
        disp.close()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


def _rate(times: np.ndarray) -> float:
    """Queries per second over the span of `times` (0 when it has no span)."""
    span = float(times[-1] - times[0]) if times.size > 1 else 0.0
    return (times.size - 1) / span if span > 0 else 0.0


def run_point(pool: InstancePool, rate: float, rules: Rules, hang_s: float, max_s: float,
              mark: int = 0) -> dict[str, Any]:
    """One load point at `rate` req/s: raw latencies, the rates really scheduled, issued and completed, the
    generator's and the instances' CPU use, and the verdict (validity.judge) beside LoadGen's own."""
    import mlperf_loadgen as lg

    disp = Dispatcher(pool, hang_s, mark)
    machine0 = machine_cpu()
    cpu0, r0, t0 = pool.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgebench-loadgen-") as tmp:
        _drive(lg, disp, _settings(lg, rate, rules, max_s), tmp)
        wall = time.monotonic() - t0
        r1, cpu1, machine1 = resource.getrusage(resource.RUSAGE_SELF), pool.cpu_seconds(), machine_cpu()
        scheduled, issued, lat = read_trace(Path(tmp) / "mlperf_log_trace.json")
        loadgen = read_verdict(Path(tmp) / "mlperf_log_detail.txt")
    n = lat.size
    sched_rate, achieved = _rate(scheduled), _rate(issued)
    duration = float((scheduled + lat * 1e-3).max() - scheduled[0]) if n else 0.0
    gen_cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / wall
    instance_cpu = [(b - a) / wall for a, b in zip(cpu0, cpu1)]
    point: dict[str, Any] = {
        "rate": rate, "scheduled_rate": sched_rate, "achieved_rate": achieved,
        "completed_rate": n / duration if duration > 0 else 0.0, "duration_s": duration,
        "generator_cpu_cores": gen_cpu, "instance_cpu_cores": instance_cpu,
        "max_issue_delay_ms": float((issued - scheduled).max() * 1e3) if n else None,
        "failure": disp.failure, "loadgen": loadgen}
    point["other_cpu_cores"] = others_cores(machine0, machine1, wall, gen_cpu + sum(instance_cpu))
    point.update(judge(lat.tolist(), duration, sched_rate, achieved, rules, disp.failure))
    point["latencies_ms"] = np.round(lat, 4).tolist()
    point["served"] = served_record(disp.served)
    return point


def calibrate(pool: Any, curve: list[dict[str, Any]], rules: Any, hang_s: float) -> dict[str, Any]:
    """The calibration point: open-loop load at CALIBRATION_UTILISATION of the closed-loop throughput, for its
    service times only (its latencies are dropped: it is not a check). At least 200 queries over at most
    CALIBRATION_S, so a slow model does not spend LoadGen's full minimum count on it."""
    from edgebench.benchmarks.size.instance_child import CALIBRATION
    from edgebench.benchmarks.size.validity import Rules

    rate = max(1.0, CALIBRATION_UTILISATION * float(curve[-1]["throughput_per_s"]))
    cal_rules = Rules(rules.percentile, rules.bound_ms, 200, min(rules.min_duration_s, CALIBRATION_S))
    point = run_point(pool, rate, cal_rules, hang_s, max(60.0, 20 * rules.min_duration_s), CALIBRATION)
    keep = ("rate", "scheduled_rate", "achieved_rate", "queries", "failure", "other_cpu_cores", "served")
    return {k: point.get(k) for k in keep}
