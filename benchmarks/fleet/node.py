"""`bench node start`: this machine becomes a Ray node that times benchmarks of the profiles it offers.

It runs `ray start --block` in the foreground (Ctrl-C or SIGTERM stops the node), with token authentication on, the
listeners on the address given with --node-ip, the dashboard off unless asked, and the resources a run looks for:
one unit of edgebench-profile-<name> per profile and one unit of this node's own resource, which every benchmark
takes whole, so a node times one benchmark at a time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from edgebench.benchmarks.fleet import naming
from edgebench.benchmarks.fleet.auth import enable_token_auth, generate_token, require_ray, token_path
from edgebench.results.errors import UserError

ANY_ADDRESS = ("0.0.0.0", "::", "")


def _profiles(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in names if not naming.PROFILE_NAME.fullmatch(p)]
    if not names or bad:
        raise UserError(f"--profile expects profile names such as arm64 or x86_64, got {text!r}")
    return names


def ray_start_command(args: argparse.Namespace, host: dict[str, object]) -> list[str]:
    """The `ray start` command line for this node (without the executable)."""
    if args.node_ip in ANY_ADDRESS:
        raise UserError("--node-ip must be the one address the node listens on, not every address (0.0.0.0)")
    resources = {naming.profile_resource(p): 1 for p in _profiles(args.profile)}
    resources[naming.node_resource(str(host["hostname"]), args.node_ip)] = 1
    labels = naming.node_labels(host)
    cmd = ["start", "--block", "--node-ip-address", args.node_ip, "--num-cpus", str(args.num_cpus),
           "--object-store-memory", str(args.object_store_mb * 1024 * 1024), "--resources", json.dumps(resources),
           "--labels", ",".join(f"{k}={v}" for k, v in labels.items())]
    if args.address:
        cmd += ["--address", args.address]
    else:
        cmd += ["--head", "--port", str(args.port), "--disable-usage-stats"]
        cmd += ["--include-dashboard", "true", "--dashboard-host", args.node_ip] if args.dashboard else \
            ["--include-dashboard", "false"]
    if args.temp_dir:
        cmd += ["--temp-dir", str(Path(args.temp_dir).resolve())]
    return cmd


def _ray_executable() -> str:
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.exists() else shutil.which("ray")
    if not found:
        raise UserError('the ray command is missing: pip install "edgebench[fleet]"')
    return found


def start_node(args: argparse.Namespace) -> int:
    """Check the token (or make one with --generate-token) and become `ray start --block`; --dry-run prints it."""
    from edgebench.benchmarks.measure.environment import describe_host

    require_ray()
    token = token_path(args.token)
    if args.generate_token:
        if args.address:
            raise UserError("--generate-token is for the head node; other nodes use a copy of the head's token")
        if generate_token(token):
            sys.stderr.write(f"bench: new cluster token in {token}; copy it (mode 600) to every node and client\n")
    env = enable_token_auth(token)
    cmd = [_ray_executable(), *ray_start_command(args, describe_host())]
    if args.dry_run:
        print(" ".join(f"{k}={v}" for k, v in env.items()), " ".join(_quoted(c) for c in cmd))
        return 0
    sys.stdout.flush()
    os.execve(cmd[0], cmd, dict(os.environ, **env))  # the node's processes answer to Ctrl-C / SIGTERM of this pid


def _quoted(arg: str) -> str:
    return arg if all(c.isalnum() or c in "-_./:=,@" for c in arg) else "'" + arg.replace("'", "'\\''") + "'"
