"""A qemu user-mode emulator new enough to trust: the system's when it is, else Debian's qemu-user unpacked.

qemu before 8.2 passes the host's /proc/cpuinfo through to the guest (ONNX Runtime's cpuinfo then crashes) and
emulates SME int8 wrongly, so an older one is never used. Debian bookworm ships 7.2; trixie's qemu-user (10.x) is a
static build that runs on bookworm, so it is taken from the user's own Debian mirror, trixie suite, and only its
qemu-aarch64 file is unpacked into the target's folder.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from edgebench.benchmarks.emulation.apt import PrivateApt, unpack
from edgebench.benchmarks.emulation.environment import TargetError

MIN_VERSION = (8, 2)
NEWER_SUITE = "trixie"


def qemu_version(path: Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _shown(version: tuple[int, int] | None) -> str:
    return "unknown version" if version is None else f"{version[0]}.{version[1]}"


def system_qemu(program: str) -> tuple[Path | None, str]:
    """(a system qemu >= 8.2, or None; what was found, for the message)."""
    seen = []
    for name in (program, f"{program}-static"):
        found = shutil.which(name)
        if found is None:
            continue
        version = qemu_version(Path(found))
        if version is not None and version >= MIN_VERSION:
            return Path(found), f"system {found} {_shown(version)}"
        seen.append(f"{found} is {_shown(version)}")
    if seen:
        return None, f"{'; '.join(seen)} (older than {MIN_VERSION[0]}.{MIN_VERSION[1]})"
    return None, f"no {program} on PATH"


def fetch_qemu(program: str, mirror: str, state: Path, dest: Path) -> tuple[Path, str]:
    """Download Debian trixie's qemu-user from `mirror` and unpack only `program` into dest."""
    sources = state / "sources.list"
    state.mkdir(parents=True, exist_ok=True)
    host_arch = _dpkg_arch()
    sources.write_text(f"deb [arch={host_arch}] {mirror} {NEWER_SUITE} main\n", encoding="utf-8")
    apt = PrivateApt(state, host_arch, sources)
    apt.update()
    version = apt.candidate("qemu-user")
    if version is None:
        raise TargetError(f"no qemu-user in {mirror} {NEWER_SUITE}; install qemu-user >= 8.2 yourself")
    debs = apt.download(["qemu-user"], state / "debs")
    unpack(debs[-1], state / "unpacked", [f"./usr/bin/{program}"])
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / program
    (state / "unpacked" / "usr" / "bin" / program).replace(target)
    shutil.rmtree(state, ignore_errors=True)  # the 70 MB .deb and the lists are not needed any more
    got = qemu_version(target)
    if got is None or got < MIN_VERSION:
        raise TargetError(f"the {program} unpacked from Debian {NEWER_SUITE} does not run here ({_shown(got)})")
    return target, f"Debian {NEWER_SUITE} qemu-user {version}, unpacked to {target}"


def _dpkg_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              timeout=30).stdout.strip() or "amd64"
    except (OSError, subprocess.SubprocessError):
        return "amd64"
