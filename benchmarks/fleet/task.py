"""What runs on a node for one benchmark: fetch the model and inputs by content hash, then time them with the same
pyperf worker processes as a local run (edgebench.benchmarks.measure.pyperf_timing.run_pyperf), and send back the
figures, the raw samples and where they were measured."""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

NODE_ID_KEY = "ray_node_id"


@functools.lru_cache(maxsize=1)
def _host() -> dict[str, Any]:
    from edgebench.benchmarks.measure.environment import describe_host
    return describe_host()  # once per Ray worker process: it samples the CPU load for half a second


def node_description() -> dict[str, Any]:
    """This node as a record's measured_on needs it, plus the Ray node id and address."""
    import ray
    ctx = ray.get_runtime_context()
    host = dict(_host())
    host[NODE_ID_KEY] = ctx.get_node_id()
    host["node_ip"] = ray.util.get_node_ip_address()
    return host


def _fetch(ref: list[Any]) -> bytes:
    import ray
    return bytes(ray.get(ref[0]))


def measure_on_node(job: dict[str, Any], model_ref: list[Any], inputs_ref: list[Any]) -> dict[str, Any]:
    """The Ray task. The object refs come wrapped in lists so that Ray does not fetch them: a node that holds the
    files already (same sha256) skips the transfer. A benchmark that fails returns its one-line error."""
    from edgebench.benchmarks.fleet.cache import ArtifactMismatch, cached_file
    from edgebench.benchmarks.isolation import faults
    from edgebench.benchmarks.measure.child_call import MeasureError
    from edgebench.benchmarks.measure.pyperf_timing import run_pyperf
    from edgebench.results.errors import one_line

    faults.inject("fleet", [job["runtime"], f"t{job['threads']}", *job["bench_name"].split("/")])
    # Ray sets OMP_NUM_THREADS=1 in its workers; a local run has no such limit, so neither has the node's run
    if os.environ.get("OMP_NUM_THREADS") == "1":
        os.environ.pop("OMP_NUM_THREADS")
    node = node_description()
    try:
        model = cached_file(job["model_sha256"], job["model_suffix"], lambda: _fetch(model_ref))
        inputs = cached_file(job["inputs_sha256"], ".npz", lambda: _fetch(inputs_ref))
    except (ArtifactMismatch, OSError) as exc:
        return {"error": f"node {node['hostname']}: artifact not usable: {one_line(exc, 300)}", "node": node}
    with tempfile.TemporaryDirectory(prefix="edgebench-fleet-") as tmp:
        work = Path(tmp)
        for name, text in job.get("prior_files", {}).items():  # a later screening round goes on from these
            (work / Path(name).name).write_text(text, encoding="utf-8")
        try:
            fig, out_json = run_pyperf(job["bench_name"], job["runtime"], str(model), job["threads"], job["settings"],
                                       inputs, work, job["sampling"], job["seconds_per_inference"], job["timeout"],
                                       job["max_rss_mb"], job["extend"])
        except MeasureError as exc:
            return {"error": one_line(exc, 400), "node": node}
        sidecar = out_json.with_name(out_json.name.replace(".pyperf.json", ".workers.jsonl"))
        files = {p.name: p.read_text(encoding="utf-8") for p in (out_json, sidecar) if p.is_file()}
    return {"figures": fig, "files": files, "pyperf_json": out_json.name, "node": node}
