"""`bench node start`: make this machine a node of a benchmark cluster (Ray); `bench run --cluster` uses it."""
from __future__ import annotations

import argparse

from edgebench.benchmarks.commands.args import Subparsers

NODE_EPILOG = """\
examples:
  bench node start --profile x86_64 --node-ip 10.0.0.1 --generate-token        # head node; makes ~/.ray/auth_token
  bench node start --profile arm64 --node-ip 10.0.0.7 --address 10.0.0.1:6379  # a board joins (token copied there)
  bench run model.keras --profile arm64 --cluster 10.0.0.1:6379                 # timed on the arm64 node

A node runs in the foreground until Ctrl-C. Every node and client needs the cluster's token file (--token FILE,
else $RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token), readable by its owner only: whoever can reach a Ray port with
the token can run any code on every node. Listeners bind to --node-ip only; keep them off untrusted networks."""


def register(sub: Subparsers) -> None:
    node = sub.add_parser("node", help="make this machine a node of a benchmark cluster (Ray)",
                          description="Start a Ray node that advertises its hardware profile(s), CPU model and "
                          "flags, with token authentication on. Needs the optional extra: pip install "
                          '"edgebench[fleet]".', epilog=NODE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    node.add_argument("action", choices=["start"], help="start: run a node in the foreground")
    node.add_argument("--profile", required=True, help="profile name(s) this node times, e.g. arm64 or arm64,mobile")
    node.add_argument("--node-ip", required=True, metavar="IP", help="the address this node listens on and "
                      "advertises (never 0.0.0.0)")
    node.add_argument("--address", metavar="HEAD:PORT", help="join the cluster whose head is there (default: "
                      "start a head node)")
    node.add_argument("--port", type=int, default=6379, help="the head's port (default 6379; 0 picks a free one)")
    node.add_argument("--token", metavar="FILE", help="the cluster token file (default $RAY_AUTH_TOKEN_PATH, else "
                      "~/.ray/auth_token)")
    node.add_argument("--generate-token", action="store_true", help="head only: write a new token to the token "
                      "file if it does not exist")
    node.add_argument("--num-cpus", type=int, default=1, help="CPUs Ray schedules its own work on (default 1; "
                      "benchmarks take the node's own resource instead)")
    node.add_argument("--object-store-mb", type=int, default=256, help="object store size (default 256 MiB: the "
                      "model files a run sends)")
    node.add_argument("--dashboard", action="store_true", help="head only: start Ray's dashboard on --node-ip")
    node.add_argument("--temp-dir", metavar="DIR", help="Ray's session and log folder on this node")
    node.add_argument("--dry-run", action="store_true", help="print the ray start command instead of running it")
    node.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.benchmarks.fleet.node import start_node
    return start_node(args)
