"""Token authentication for a benchmark cluster: a Ray cluster runs any code a connected client sends, so every node
and every `bench run --cluster` uses Ray's token mode (Ray >= 2.52) with a token from a file the user controls."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from edgebench.results.errors import UserError

TOKEN_ENV = "RAY_AUTH_TOKEN_PATH"
MODE_ENV = "RAY_AUTH_MODE"
MIN_RAY = (2, 52)


def token_path(given: str | None = None) -> Path:
    """--token FILE, else $RAY_AUTH_TOKEN_PATH, else Ray's own default ~/.ray/auth_token."""
    return Path(given or os.environ.get(TOKEN_ENV) or Path.home() / ".ray" / "auth_token").expanduser()


def generate_token(path: Path) -> bool:
    """Write a new 256-bit token readable by its owner only; False when the file exists already (kept as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32))
    return True


def check_token(path: Path) -> None:
    """A usable token file: present, non-empty, and not readable by other users (UserError otherwise)."""
    hint = f"create one with: bench node start --generate-token --token {path} ... (copy it to every machine)"
    try:
        st = path.stat()
    except OSError:
        raise UserError(f"no cluster token at {path}: the cluster accepts only authenticated clients; {hint}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"cluster token {path} is readable by other users: chmod 600 {path}")
    if not path.read_text(encoding="ascii", errors="replace").strip():
        raise UserError(f"cluster token {path} is empty; {hint}")


def enable_token_auth(path: Path) -> dict[str, str]:
    """Check the token and put token mode into this process's environment (before Ray is imported); returns the
    variables, for child processes such as `ray start`."""
    check_token(path)
    env = {MODE_ENV: "token", TOKEN_ENV: str(path.resolve())}
    os.environ.update(env)
    os.environ.pop("RAY_AUTH_TOKEN", None)  # a token in the environment would take precedence over the file
    return env


def require_ray() -> str:
    """Ray's version, or UserError saying what to install (Ray is the optional extra edgebench[fleet])."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        found = version("ray")
    except PackageNotFoundError:
        raise UserError('a cluster needs Ray: pip install "edgebench[fleet]"') from None
    parts = tuple(int(p) for p in found.split(".")[:2] if p.isdigit())
    if parts < MIN_RAY:
        raise UserError(f"Ray {found} has no token authentication; a cluster needs Ray >= 2.52: "
                        'pip install -U "edgebench[fleet]"')
    return found
