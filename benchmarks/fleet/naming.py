"""How a node advertises itself to the cluster: Ray custom resources (what a task asks for) and labels (what a
person or a label selector reads). Standard library only: `bench node start --dry-run` and the tests use it."""
from __future__ import annotations

import re
from typing import Any

RESOURCE_PREFIX = "edgebench-"
LABEL_PREFIX = "edgebench/"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}")


def profile_resource(profile: str) -> str:
    """One unit on each node that offers `profile`: a run of that profile looks for it."""
    return f"{RESOURCE_PREFIX}profile-{profile}"


def node_resource(hostname: str, node_ip: str) -> str:
    """One unit per node: every benchmark asks for all of it, so one node times one benchmark at a time."""
    return f"{RESOURCE_PREFIX}node-{label_value(hostname)}-{node_ip}"


def node_resource_of(resources: dict[str, Any]) -> str | None:
    """The node resource among a node's resources, as ray.nodes() lists them."""
    return next((k for k in sorted(resources) if k.startswith(f"{RESOURCE_PREFIX}node-")), None)


def profiles_of(resources: dict[str, Any]) -> list[str]:
    prefix = f"{RESOURCE_PREFIX}profile-"
    return sorted(k[len(prefix):] for k in resources if k.startswith(prefix))


def label_value(text: str) -> str:
    """`text` as a Ray label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric."""
    value = _SAFE.sub("-", text).strip("-._")[:63].rstrip("-._")
    return value or "unknown"


def node_labels(host: dict[str, Any]) -> dict[str, str]:
    """What the node is, for `ray status`/label selectors: architecture, CPU model and the kernel-picking flags."""
    labels = {f"{LABEL_PREFIX}arch": label_value(str(host["arch"])),
              f"{LABEL_PREFIX}cpu": label_value(str(host["cpu_model"])),
              f"{LABEL_PREFIX}host-id": label_value(str(host["host_id"])),
              f"{LABEL_PREFIX}cores": str(int(host["cores"]))}
    for flag in host.get("kernel_flags", []):
        labels[f"{LABEL_PREFIX}{label_value(str(flag))}"] = "true"
    return labels
