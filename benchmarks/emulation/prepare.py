"""`bench target setup`: prepare an emulated target environment, from the user's own apt sources and pip index.

Steps: a qemu new enough (the system's, else Debian trixie's unpacked); the target's CPython of the host's minor
version from Debian packages; the target's wheels of the host's exact runtime versions via the user's pip; a smoke
test under emulation. Each step that is already done is kept, and a ready environment returns at once.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from edgebench.benchmarks.emulation.apt import PrivateApt, unpack
from edgebench.benchmarks.emulation.environment import (
    TARGETS,
    TargetEnv,
    TargetError,
    host_python_minor,
    host_versions,
    tree_bytes,
)
from edgebench.benchmarks.emulation.qemu import fetch_qemu, qemu_version, system_qemu
from edgebench.benchmarks.emulation.smoke import smoke_test

# the target's Python and the libraries its extension modules and the runtimes' wheels link against
PYTHON_DEBS = ("python{v}-minimal", "libpython{v}-minimal", "libpython{v}-stdlib", "libc6", "libgcc-s1",
               "libstdc++6", "zlib1g", "libexpat1", "libffi8", "libbz2-1.0", "liblzma5", "libcrypt1", "libssl3",
               "libuuid1")
STEPS = ("package lists", "qemu", "python", "wheels", "smoke test")
PIP_TIMEOUT = 1200.0


def setup(name: str, reporter: Any) -> tuple[dict[str, Any], bool]:
    """(the environment's manifest, whether anything was done); TargetError with one line when it cannot be."""
    env = TargetEnv.for_target(name)
    host_versions()  # a host without the runtimes fails here, before anything is fetched
    if env.problem() is None:
        return env.manifest() or {}, False
    env.root.mkdir(parents=True, exist_ok=True)
    with open(env.root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two setups at once (two terminals, two test sessions): one waits
        if env.problem() is None:  # done by the one we waited for
            return env.manifest() or {}, False
        return _prepare(env, reporter), True


def _prepare(env: TargetEnv, reporter: Any) -> dict[str, Any]:
    name, versions = env.name, host_versions()
    start = time.monotonic()
    deb_arch, program, _ = TARGETS[name]
    env.manifest_path.unlink(missing_ok=True)  # from here until it is rewritten, the environment is not ready
    reporter.stage(f"preparing the emulated {name} environment in {env.root}", total=len(STEPS))
    reporter.advance("package lists")
    apt = PrivateApt(env.root / "apt", deb_arch)
    apt.update()
    reporter.advance("qemu")
    qemu, qemu_source = system_qemu(program)
    local = env.root / "qemu" / program
    if qemu is None and local.is_file() and (qemu_version(local) or (0, 0)) >= (8, 2):
        qemu, qemu_source = local, f"Debian qemu-user unpacked earlier to {local}"
    if qemu is None:
        reporter.note(f"qemu: {qemu_source}; fetching Debian's qemu-user")
        mirror = apt.debian_mirror()
        if mirror is None:
            raise TargetError(f"{qemu_source}, and your apt sources have no Debian archive to fetch qemu-user "
                              "from: install qemu-user >= 8.2")
        qemu, qemu_source = fetch_qemu(program, mirror, env.root / "apt-qemu", env.root / "qemu")
    reporter.advance("python")
    python_version, glibc = _python(env, apt)
    reporter.advance("wheels")
    _wheels(env, versions, glibc)
    reporter.advance("smoke test")
    found = smoke_test(env, qemu)
    shutil.rmtree(env.root / "apt", ignore_errors=True)
    doc = {"target": name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "python": f"{found.get('python')} (Debian {python_version})", "python_minor": host_python_minor(),
           "packages": versions,
           "qemu": {"path": str(qemu), "source": qemu_source, "version": ".".join(map(str, qemu_version(qemu) or ()))},
           "smoke_test": found, "seconds": round(time.monotonic() - start, 1), "bytes": tree_bytes(env.root)}
    env.write_manifest(doc)
    return doc


def _python(env: TargetEnv, apt: PrivateApt) -> tuple[str, int]:
    """Unpack the target's CPython (host's minor version); returns (its Debian version, glibc minor version)."""
    minor = host_python_minor()
    version = apt.candidate(f"python{minor}-minimal")
    if version is None:
        raise TargetError(f"your apt sources have no python{minor} for {apt.arch} (Debian bookworm has 3.11, "
                          f"trixie 3.13): use a Python whose minor version Debian ships")
    libc = apt.candidate("libc6") or ""
    m = re.match(r"2\.(\d+)", libc)
    if m is None:
        raise TargetError(f"your apt sources have no libc6 for {apt.arch}")
    done = env.sysroot / ".complete"
    if not (done.is_file() and done.read_text(encoding="utf-8") == version and env.python.is_file()):
        shutil.rmtree(env.sysroot, ignore_errors=True)
        debs = apt.download([p.format(v=minor) for p in PYTHON_DEBS], env.root / "apt" / "debs")
        for deb in debs:
            unpack(deb, env.sysroot)
        done.write_text(version, encoding="utf-8")
    return version, int(m.group(1))


def _wheels(env: TargetEnv, versions: dict[str, str], glibc_minor: int) -> None:
    """The target's wheels of exactly the host's versions, with their dependencies, by the user's own pip."""
    done = env.site / ".complete"
    wanted = " ".join(f"{k}=={v}" for k, v in sorted(versions.items()))
    if done.is_file() and done.read_text(encoding="utf-8") == wanted:
        return
    partial = env.root / "site.partial"
    shutil.rmtree(partial, ignore_errors=True)
    machine = TARGETS[env.name][2]
    platforms = [f"manylinux_2_{g}_{machine}" for g in range(17, glibc_minor + 1)] + [f"manylinux2014_{machine}"]
    minor = host_python_minor().replace(".", "")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--progress-bar", "off",
           "--target", str(partial), "--only-binary=:all:", "--implementation", "cp", "--python-version", minor,
           "--abi", f"cp{minor}", *[a for p in platforms for a in ("--platform", p)],
           *[f"{k}=={v}" for k, v in sorted(versions.items())]]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, errors="replace")
    except subprocess.TimeoutExpired:
        raise TargetError(f"pip did not fetch the {env.name} wheels within {PIP_TIMEOUT:g} s (network?)") from None
    if res.returncode != 0:
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR")] or res.stderr.splitlines()
        detail = " ".join((errors[0] if errors else "no output").split())[:300]
        raise TargetError(f"pip could not fetch the {env.name} wheels of {wanted}: {detail}")
    shutil.rmtree(env.site, ignore_errors=True)
    partial.replace(env.site)
    done.write_text(wanted, encoding="utf-8")


def describe(doc: dict[str, Any], head: str, root: Path) -> list[str]:
    """What the user reads after setup: `head` (ready, prepared), the versions, qemu's origin, time and size."""
    pk = doc.get("packages", {})
    did = head == "prepared"
    lines = [f"{doc.get('target')} target {head}: Python {doc.get('python')}, "
             + ", ".join(f"{k} {v}" for k, v in pk.items()),
             f"qemu: {doc.get('qemu', {}).get('source')}",
             f"in {root} ({doc.get('bytes', 0) / 1e6:.0f} MB)"
             + (f", prepared in {doc.get('seconds')} s" if did else "")]
    return lines

