"""The driver's side of a cluster run: pick the node that offers the run's profile, send it each benchmark with its
files by content hash, wait a bounded time, and turn every failure into a MeasureError (a failed record).

One run is timed on one node: records that compete in a run's screening are never from two machines. A node that
leaves mid-run fails its remaining benchmarks at once; `bench run --resume DIR` measures them on a node that still
offers the profile.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgebench.benchmarks.fleet import naming
from edgebench.benchmarks.fleet.auth import enable_token_auth, require_ray, token_path
from edgebench.benchmarks.measure.child_call import MeasureError
from edgebench.benchmarks.measure.measurer import MeasureJob
from edgebench.hardware_profiles import Profile
from edgebench.results.errors import UserError, one_line
from edgebench.results.record import MeasuredOn

NAMESPACE = "edgebench"
POLL_SECONDS = 2.0  # how often a waiting driver checks that the node is still there
PLACEMENT_SECONDS = 60.0  # beyond the benchmark's own limits: fetching the files, starting a Ray worker
# a refused or unreachable cluster ends in seconds (Ray retries for 20 s by default), its C++ warnings unprinted
CONNECT_ENV = {"RAY_gcs_server_port_wait_time_s": "5", "RAY_BACKEND_LOG_LEVEL": "error"}
PASS_ENV = ("EDGEBENCH_FAULT",)  # reaches the node's task and its pyperf workers, as it reaches local workers
DRIFT_PACKAGES = ("onnxruntime", "ai-edge-litert", "pyperf", "numpy")  # a node's differing version is a warning


def connect(address: str, profile: Profile) -> RayMeasurer:
    """Connect to the cluster with the user's token and choose the node for `profile` (UserError if unreachable)."""
    require_ray()
    enable_token_auth(token_path())
    for key, value in CONNECT_ENV.items():
        os.environ.setdefault(key, value)
    import ray
    on_term = signal.getsignal(signal.SIGTERM)
    with tempfile.TemporaryFile("w+b") as said:
        try:
            with _stderr_to(said):  # Ray's C++ core writes a warning per retry on fd 2
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.ERROR,
                         include_dashboard=False, configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            said.seek(0)
            refused = b"InvalidAuthToken" in said.read()
            why = "the cluster refused the token" if refused else _cause(exc.__cause__ or exc)
            raise UserError(f"cannot connect to the Ray cluster at {address}: {one_line(why, 200)} (is it running, "
                            f"and is {token_path()} the cluster's token?)") from None
    if on_term is not None:  # Ray's core replaces the handler; SIGTERM must end a run like Ctrl-C (resume hint)
        signal.signal(signal.SIGTERM, on_term)
    return RayMeasurer(address, profile, _choose_node(profile))


@contextlib.contextmanager
def _stderr_to(sink: Any) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _choose_node(profile: Profile) -> dict[str, Any] | None:
    """The alive node offering the profile: of the target's architecture first, then one given to fewer profiles
    (a dedicated node), then by address; None when there is none."""
    import ray
    want = naming.profile_resource(profile.name)
    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get(want, 0) >= 1
             and naming.node_resource_of(n["Resources"])]
    arch_key = f"{naming.LABEL_PREFIX}arch"
    nodes.sort(key=lambda n: (n.get("Labels", {}).get(arch_key) != profile.target_arch,
                              len(naming.profiles_of(n["Resources"])), n["NodeManagerAddress"]))
    return nodes[0] if nodes else None


class RayMeasurer:
    """Sends each MeasureJob to the chosen node as one Ray task (no retries: a retried benchmark is another
    measurement) and waits for it a bounded time."""

    def __init__(self, address: str, profile: Profile, node: dict[str, Any] | None) -> None:
        self.address, self.profile, self.node = address, profile, node
        self._refs: dict[str, Any] = {}
        self._task: Any = None  # the Ray remote function, made once per run
        if node is None:
            self.where = (f"cluster {address}: no node offers profile {profile.name}; start one there with: "
                          f"bench node start --profile {profile.name} --address {address} --node-ip IP")
        else:
            arch = node.get("Labels", {}).get(f"{naming.LABEL_PREFIX}arch", "?")
            self.where = f"cluster {address}: measuring on node {self._node_name()} ({arch})"

    def _node_name(self) -> str:
        assert self.node is not None
        return f"{self.node.get('NodeManagerHostname', '?')} {self.node['NodeManagerAddress']}"

    def measure(self, job: MeasureJob) -> tuple[dict[str, Any], Path]:
        import ray
        if self.node is None:
            raise MeasureError(f"no node of cluster {self.address} offers profile {self.profile.name} (start one: bench "
                               f"node start --profile {self.profile.name} --address {self.address} --node-ip IP)")
        if not self._alive():
            raise MeasureError(f"node {self._node_name()} left the cluster; bench run --resume DIR measures "
                               "this on a node that offers the profile")
        ref = self._submit(job)
        self._wait(ref, job.timeout * max(1, job.sampling.max_processes) + PLACEMENT_SECONDS)
        try:
            out = ray.get(ref, timeout=PLACEMENT_SECONDS)
        except Exception as exc:  # RayTaskError, WorkerCrashedError, NodeDiedError, ...: one failed record
            raise MeasureError(f"on node {self._node_name()}: {type(exc).__name__}: "
                               f"{one_line(_cause(exc), 240)}") from None
        if "error" in out:
            raise MeasureError(out["error"])
        return self._unpack(job, out)

    def _wait(self, ref: Any, bound: float) -> None:
        """Until the task ends, its node leaves the cluster or `bound` seconds pass (then the task is cancelled):
        a task whose node died before it started would otherwise wait forever for that node's resource."""
        import ray
        deadline = time.monotonic() + bound
        try:
            while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
                gone = not self._alive()
                if gone or time.monotonic() > deadline:
                    _cancel(ref)
                    raise MeasureError(f"node {self._node_name()} left the cluster during the benchmark" if gone
                                       else f"no answer from node {self._node_name()} within {bound:.0f} s; "
                                       "task cancelled")
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM of the run: the node stops timing too
            _cancel(ref)
            raise

    def _alive(self) -> bool:
        import ray
        assert self.node is not None
        return any(n.get("NodeID") == self.node["NodeID"] and n.get("Alive") for n in ray.nodes())

    def _submit(self, job: MeasureJob) -> Any:
        import ray

        from edgebench.benchmarks.fleet.task import measure_on_node
        assert self.node is not None
        model, inputs = Path(job.model), Path(job.inputs_npz)
        if not model.is_file():
            raise MeasureError(f"{model.name} is a directory; a cluster run sends single files only")
        payload = {"bench_name": job.bench_name, "runtime": job.runtime, "threads": job.threads,
                   "settings": job.settings, "sampling": job.sampling, "timeout": job.timeout,
                   "seconds_per_inference": job.seconds_per_inference, "max_rss_mb": job.max_rss_mb,
                   "extend": job.extend, "model_suffix": model.suffix, "prior_files": _prior_files(job)}
        payload["model_sha256"], model_ref = self._put(model)
        payload["inputs_sha256"], inputs_ref = self._put(inputs)
        env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        self._task = self._task or ray.remote(measure_on_node)
        task = self._task.options(
            num_cpus=0, max_retries=0, resources={naming.node_resource_of(self.node["Resources"]) or "": 1},
            runtime_env={"env_vars": env} if env else None)
        return task.remote(payload, [model_ref], [inputs_ref])

    def _put(self, path: Path) -> tuple[str, Any]:
        """(sha256, object ref) of a file's bytes; each file goes into the object store once per run."""
        import ray
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha not in self._refs:
            self._refs[sha] = ray.put(data)
        return sha, self._refs[sha]

    def _unpack(self, job: MeasureJob, out: dict[str, Any]) -> tuple[dict[str, Any], Path]:
        for name, text in out["files"].items():
            (job.workdir / Path(name).name).write_text(text, encoding="utf-8")
        figures = dict(out["figures"])
        node = out["node"]
        on_target = node["arch"] == self.profile.target_arch
        figures["measured_on"] = MeasuredOn(host_id=node["host_id"], hostname=node["hostname"], arch=node["arch"],
                                            cpu_model=node["cpu_model"], target_arch=self.profile.target_arch,
                                            host_is_target=on_target, ray_node_id=node["ray_node_id"],
                                            node_ip=node["node_ip"])
        figures["timing_scope"] = "target" if on_target else "host"
        figures["warnings"] = [*figures.get("warnings", []), *_version_drift(node)]
        return figures, job.workdir / Path(out["pyperf_json"]).name

    def close(self) -> None:
        import ray
        self._refs.clear()
        ray.shutdown()


def _version_drift(node: dict[str, Any]) -> list[str]:
    """A warning per measuring package whose version on the node differs from this machine's (where the variants
    were built and checked): the timing is of the node's version."""
    from edgebench.benchmarks.measure.environment import package_versions
    here, there = package_versions(), node.get("packages") or {}
    return [f"node {node.get('hostname')} {node.get('node_ip')} runs {name} {there.get(name)}, this machine "
            f"{here.get(name)}: the timing is of the node's version" for name in DRIFT_PACKAGES
            if here.get(name) != there.get(name)]


def _cancel(ref: Any) -> None:
    import ray
    with contextlib.suppress(Exception):  # the task may have ended meanwhile, or its node be gone
        ray.cancel(ref, force=True)


def _prior_files(job: MeasureJob) -> dict[str, str]:
    """The samples a later screening round goes on from (run_pyperf's `extend`), by file name."""
    if not job.extend:
        return {}
    safe = job.bench_name.replace("/", "__")
    files = [job.workdir / f"{safe}.pyperf.json", job.workdir / f"{safe}.workers.jsonl"]
    return {p.name: p.read_text(encoding="utf-8") for p in files if p.is_file()}


def _cause(exc: BaseException) -> str:
    """The first line that says what went wrong, not Ray's traceback around it."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__
