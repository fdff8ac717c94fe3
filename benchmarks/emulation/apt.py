"""Debian packages of another architecture, fetched with the user's own apt sources into a private apt state.

Nothing on the system changes: no `dpkg --add-architecture`, no root needed. apt reads the user's sources (and
their keys) but keeps its package lists and downloads under the target's folder; `apt-get download` fetches single
.deb files and `dpkg-deb` unpacks them, no install scripts run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from edgebench.benchmarks.emulation.environment import TargetError

APT_TIMEOUT = 600.0


class PrivateApt:
    """apt-get/apt-cache with their state in `state`, for `arch`; `sources` replaces the user's source list."""

    def __init__(self, state: Path, arch: str, sources: Path | None = None) -> None:
        for tool in ("apt-get", "apt-cache", "dpkg-deb"):
            if shutil.which(tool) is None:
                raise TargetError(f"{tool} not found: the target's Python comes from Debian packages, fetched with "
                                  "apt (a Debian host)")
        self.state = state
        self.arch = arch
        for d in ("lists/partial", "cache/archives/partial"):
            (state / d).mkdir(parents=True, exist_ok=True)
        (state / "status").touch()
        self.options = [
            "-o", f"Dir::State::Lists={state / 'lists'}", "-o", f"Dir::State::Status={state / 'status'}",
            "-o", f"Dir::Cache={state / 'cache'}", "-o", f"APT::Architecture={arch}",
            "-o", f"APT::Architectures::={arch}",
        ]
        if os.geteuid() == 0:  # as root apt drops to user _apt, who cannot write into the user's cache folder
            self.options += ["-o", "APT::Sandbox::User=root"]
        if sources is not None:
            self.options += ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/nonexistent"]

    def _run(self, tool: str, args: list[str], what: str, cwd: Path | None = None) -> str:
        try:
            res = subprocess.run([tool, "-q", *self.options, *args], capture_output=True, text=True, cwd=cwd,
                                 timeout=APT_TIMEOUT, errors="replace")
        except subprocess.TimeoutExpired:
            raise TargetError(f"{what} did not finish within {APT_TIMEOUT:g} s (network?)") from None
        errors = [ln[2:].strip() for ln in res.stderr.splitlines() if ln.startswith(("E:", "W: Failed", "Err:"))]
        if res.returncode != 0:
            detail = errors[-1] if errors else (res.stderr.strip().splitlines() or ["no output"])[-1]
            raise TargetError(f"{what} failed: {' '.join(detail.split())[:300]}")
        if tool == "apt-get" and args[:1] == ["update"] and any("Failed to fetch" in ln for ln in errors):
            raise TargetError(f"{what} failed: apt could not reach its sources (offline?)")
        return res.stdout

    def update(self) -> None:
        self._run("apt-get", ["update"], f"reading the {self.arch} package lists of your apt sources")

    def candidate(self, package: str) -> str | None:
        """The version apt would fetch, None when no source has the package for this architecture."""
        out = self._run("apt-cache", ["policy", f"{package}:{self.arch}"], f"looking up {package}")
        for line in out.splitlines():
            if line.strip().startswith("Candidate:"):
                version = line.split(":", 1)[1].strip()
                return None if version in ("", "(none)") else version
        return None

    def debian_mirror(self) -> str | None:
        """The URI of the user's Debian archive source (not security), to fetch a newer suite's package from."""
        out = self._run("apt-get", ["indextargets", "--format", "$(REPO_URI) $(ORIGIN) $(LABEL)"], "reading sources")
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "Debian" and parts[2] == "Debian":
                return parts[0]
        return None

    def download(self, packages: list[str], dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        self._run("apt-get", ["download", *[f"{p}:{self.arch}" for p in packages]],
                  f"downloading {len(packages)} {self.arch} package{'s' * (len(packages) != 1)}", cwd=dest)
        return sorted(dest.glob("*.deb"))


def unpack(deb: Path, into: Path, members: list[str] | None = None) -> None:
    """Unpack a .deb's files (only `members`, e.g. ./usr/bin/qemu-aarch64, when given); no maintainer scripts run."""
    into.mkdir(parents=True, exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    res = subprocess.run(["tar", "-x", "-C", str(into), *(members or [])], stdin=tar.stdout, capture_output=True,
                         text=True, timeout=APT_TIMEOUT)
    tar.wait(timeout=APT_TIMEOUT)
    if tar.returncode != 0 or res.returncode != 0:
        raise TargetError(f"unpacking {deb.name} failed: {' '.join(res.stderr.split())[:300] or 'dpkg-deb error'}")
