"""A benchmark fleet on a real Ray cluster: a head and two nodes on loopback addresses, started with
`bench node start` (token authentication on) once for this module and stopped at its end."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BENCH, load_results, run_bench

HEAD_IP, ARM_IP, MOBILE_IP = "127.0.0.2", "127.0.0.3", "127.0.0.4"
STARTED = "Ray runtime started"


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def _start_nodes(nodes: list[tuple[list[str], Path]], env: dict[str, str]) -> list[subprocess.Popen]:
    """`bench node start ...` for each node at once, each in its own session (so that it and every process it
    starts can be stopped together); returns once Ray says every node runs."""
    procs = []
    for args, log in nodes:
        with open(log, "w") as fh:
            procs.append(subprocess.Popen([*BENCH, "node", "start", *args], stdout=fh, stderr=subprocess.STDOUT,
                                          env=env, start_new_session=True))
    deadline = time.monotonic() + 120
    for proc, (args, log) in zip(procs, nodes):
        while STARTED not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(procs)
                pytest.fail(f"bench node start {' '.join(args)} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGKILL each node's process group: ray start, its GCS, raylet and workers (a test has nothing to drain)."""
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Head (x86_64 and mobile) on 127.0.0.2, an arm64 node on 127.0.0.3, a mobile-only node on 127.0.0.4."""
    root = tmp_path_factory.mktemp("fleet")
    token = root / "token"
    # the head notices a dead node within ~3 s instead of Ray's default ~30 s
    env = dict(os.environ, RAY_AUTH_TOKEN_PATH=str(token), RAY_health_check_period_ms="1000",
               RAY_health_check_timeout_ms="1000", RAY_health_check_failure_threshold="2")
    proc = run_bench("node", "start", "--profile", "x86_64", "--node-ip", HEAD_IP, "--generate-token", "--dry-run",
                     env=env)
    assert proc.returncode == 0, proc.stderr
    address = f"{HEAD_IP}:{_free_port(HEAD_IP)}"
    common = ["--num-cpus", "1", "--object-store-mb", "80"]
    nodes = _start_nodes([(["--profile", "x86_64,mobile", "--node-ip", HEAD_IP, "--port", address.split(":")[1],
                            "--temp-dir", str(root / "head"), *common], root / "head.log")], env)
    try:
        nodes += _start_nodes([(["--profile", "arm64", "--node-ip", ARM_IP, "--address", address,
                                 "--temp-dir", str(root / "arm"), *common], root / "arm.log"),
                               (["--profile", "mobile", "--node-ip", MOBILE_IP, "--address", address,
                                 "--temp-dir", str(root / "mobile"), *common], root / "mobile.log")], env)
        yield {"address": address, "token": token, "env": {"RAY_AUTH_TOKEN_PATH": str(token)}, "root": root,
               "nodes": nodes}
    finally:
        _stop(nodes)


def _cluster_run(cluster, model: Path, profile: str, out: Path, *extra: str, env: dict[str, str] | None = None,
                 background: bool = False):
    args = [*BENCH, "run", str(model), "--profile", profile, "--fast", "--threads", "1", "--variants", "tflite-fp32",
            "--cluster", cluster["address"], "--out", str(out), "--quiet", "--timeout", "60", *extra]
    full_env = {**os.environ, **cluster["env"], **(env or {})}
    if background:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)
    return subprocess.run(args, capture_output=True, text=True, env=full_env, timeout=300)


@pytest.mark.slow
def test_two_profiles_run_in_parallel_on_their_nodes_and_merge(cluster, tiny_models, tmp_path):
    """Each run is timed on the node that offers its profile, both at once; the report shows both machines."""
    x86, arm = tmp_path / "x86", tmp_path / "arm"
    procs = [_cluster_run(cluster, tiny_models["tflite"], "x86_64", x86, background=True),
             _cluster_run(cluster, tiny_models["tflite"], "arm64", arm, background=True)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    for run, ip in ((x86, HEAD_IP), (arm, ARM_IP)):
        doc = load_results(run)
        assert doc["results"] and all(r["status"] == "ok" for r in doc["results"])
        nodes = {r["measured_on"]["node_ip"] for r in doc["results"]}
        assert nodes == {ip}, (run, nodes)
        assert all(len(r["measured_on"]["ray_node_id"]) > 20 for r in doc["results"])
        assert any(ip in n for n in doc["notes"])
    x86_rec, arm_rec = load_results(x86)["results"][0], load_results(arm)["results"][0]
    # the x86 node is the x86_64 profile's target; an x86 node timing the arm64 profile gives HOST timings
    assert (x86_rec["timing_scope"], arm_rec["timing_scope"]) == ("target", "host")
    assert arm_rec["measured_on"]["ray_node_id"] != x86_rec["measured_on"]["ray_node_id"]
    html = tmp_path / "fleet.html"
    proc = run_bench("report", str(x86), str(arm), "-o", str(html))
    assert proc.returncode == 0, proc.stderr
    text = html.read_text()
    assert 'id="machines"' in text
    assert f"x86_64 on {x86_rec['measured_on']['hostname']} {HEAD_IP} (x86_64, target)" in text
    assert f"arm64 on {arm_rec['measured_on']['hostname']} {ARM_IP} (x86_64, HOST)" in text


@pytest.mark.slow
def test_a_profile_no_node_offers_fails_each_record_with_a_reason(cluster, tiny_models, tmp_path):
    from edgebench.hardware_profiles import PROFILE_DIR
    text = (PROFILE_DIR / "x86_64.toml").read_text().replace('name = "x86_64"', 'name = "x86_64-avx2"')
    (tmp_path / "x86_64-avx2.toml").write_text(text)
    start = time.monotonic()
    proc = _cluster_run(cluster, tiny_models["tflite"], str(tmp_path / "x86_64-avx2.toml"), tmp_path / "none")
    assert proc.returncode == 1, proc.stderr
    recs = load_results(tmp_path / "none")["results"]
    assert recs and all(r["status"] == "failed" for r in recs)
    assert all("no node of cluster" in r["error"] and "x86_64-avx2" in r["error"] for r in recs)
    assert time.monotonic() - start < 120  # no hang: a failed record, not a task pending forever


@pytest.mark.slow
def test_a_crashing_task_is_a_failed_record(cluster, tiny_models, tmp_path):
    """The Ray worker running the benchmark dies (a real SIGSEGV): a failed record with a one-line reason, no retry."""
    out = tmp_path / "crash"
    proc = _cluster_run(cluster, tiny_models["tflite"], "x86_64", out, env={"EDGEBENCH_FAULT": "fleet:crash"})
    assert proc.returncode == 1, proc.stderr
    (rec,) = load_results(out)["results"]
    assert rec["status"] == "failed" and "WorkerCrashedError" in rec["error"] and HEAD_IP in rec["error"]
    assert "\n" not in rec["error"]


@pytest.mark.slow
def test_a_killed_node_fails_its_tasks_and_resume_finishes_on_another(cluster, tiny_models, tmp_path):
    """The mobile-only node is preferred for the mobile profile; killed mid-run, its benchmark fails (no hang, clean
    exit) and --resume times it on the head, which offers mobile too."""
    out = tmp_path / "killed"
    run = _cluster_run(cluster, tiny_models["tflite"], "mobile", out, env={"EDGEBENCH_FAULT": "run:hang"},
                       background=True)
    mobile = cluster["nodes"][2]
    deadline = time.monotonic() + 120
    while not (out / "work" / "tflite-fp32.b1.inputs.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.3)  # the measure stage writes the inputs just before it sends the benchmark to the node
    time.sleep(2)  # the task reaches the node and its pyperf worker hangs there
    os.killpg(mobile.pid, signal.SIGKILL)  # the node dies: ray start, raylet and its workers at once
    _, err = run.communicate(timeout=240)
    assert run.returncode == 1, err
    (rec,) = load_results(out)["results"]
    assert rec["status"] == "failed" and MOBILE_IP in rec["error"], rec["error"]
    proc = subprocess.run([*BENCH, "run", "--resume", str(out), "--quiet"], capture_output=True, text=True,
                          env=dict(os.environ, **cluster["env"]), timeout=300)
    assert proc.returncode == 0, proc.stderr
    (rec,) = load_results(out)["results"]
    assert rec["status"] == "ok" and rec["measured_on"]["node_ip"] == HEAD_IP


@pytest.mark.slow
def test_a_client_without_the_token_is_refused(cluster, tiny_models, tmp_path):
    wrong = tmp_path / "wrong-token"
    wrong.write_text("0" * 64)
    wrong.chmod(0o600)
    proc = _cluster_run(cluster, tiny_models["tflite"], "x86_64", tmp_path / "w",
                        env={"RAY_AUTH_TOKEN_PATH": str(wrong), "RAY_gcs_server_port_wait_time_s": "2"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "refused the token" in proc.stderr
    # a plain Ray client with no token at all is refused too
    code = (f"import ray\ntry:\n    ray.init(address='{cluster['address']}')\nexcept ConnectionError:\n"
            "    print('REFUSED')\nelse:\n    print('CONNECTED')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env["RAY_gcs_server_port_wait_time_s"] = "2"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.stdout.strip().splitlines()[-1] == "REFUSED", res.stdout + res.stderr[-2000:]


def test_node_start_advertises_profile_node_and_cpu(tmp_path):
    token = tmp_path / "t"
    env = {"RAY_AUTH_TOKEN_PATH": str(token)}
    proc = run_bench("node", "start", "--profile", "arm64", "--node-ip", "10.1.2.3", "--address", "10.1.2.1:6379",
                     "--dry-run", env=env)
    assert proc.returncode == 2 and "no cluster token" in proc.stderr  # no token, no node
    proc = run_bench("node", "start", "--profile", "arm64", "--node-ip", "10.1.2.3", "--generate-token",
                     "--dry-run", env=env)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text()) == 64
    line = proc.stdout
    assert "RAY_AUTH_MODE=token" in line and "--node-ip-address 10.1.2.3" in line and "--block" in line
    resources = json.loads(line.split("--resources '")[1].split("'")[0])
    assert resources["edgebench-profile-arm64"] == 1 and any(k.startswith("edgebench-node-") for k in resources)
    assert "edgebench/arch=" in line and "edgebench/cpu=" in line and "--include-dashboard false" in line
    token.chmod(0o644)
    proc = run_bench("node", "start", "--profile", "arm64", "--node-ip", "10.1.2.3", "--dry-run", env=env)
    assert proc.returncode == 2 and "readable by other users" in proc.stderr
    token.chmod(0o600)
    proc = run_bench("node", "start", "--profile", "arm64", "--node-ip", "0.0.0.0", "--dry-run", env=env)
    assert proc.returncode == 2 and "0.0.0.0" in proc.stderr and "Traceback" not in proc.stderr


def test_node_cache_refuses_bytes_that_do_not_match_the_hash(tmp_path):
    import hashlib

    from edgebench.benchmarks.fleet.cache import ArtifactMismatch, cached_file
    data = b"model bytes"
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(ArtifactMismatch):
        cached_file(sha, ".tflite", lambda: b"other bytes", tmp_path)
    path = cached_file(sha, ".tflite", lambda: data, tmp_path)
    assert path.read_bytes() == data
    path.write_bytes(b"damaged")  # a damaged cache entry is fetched again, never used
    assert cached_file(sha, ".tflite", lambda: data, tmp_path).read_bytes() == data
